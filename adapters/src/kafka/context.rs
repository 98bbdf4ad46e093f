//! Callbacks librdkafka makes into the adapter: its log lines (to `tracing`), and for a
//! subscription the rebalances (which partitions it holds) and the statistics (the high
//! watermarks `lag` reads).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaError;
use rdkafka::statistics::Statistics;
use rdkafka::topic_partition_list::TopicPartitionList;

/// Forwards librdkafka's log lines and global errors to `tracing`.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct LogContext;

impl ClientContext for LogContext {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        forward_log(level, facility, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        // Brokers going away are expected and retried by librdkafka: a warning, not an error.
        tracing::warn!(target: "librdkafka", %error, reason, "Kafka client error");
    }
}

fn forward_log(level: RDKafkaLogLevel, facility: &str, message: &str) {
    match level {
        RDKafkaLogLevel::Emerg
        | RDKafkaLogLevel::Alert
        | RDKafkaLogLevel::Critical
        | RDKafkaLogLevel::Error => tracing::error!(target: "librdkafka", facility, message),
        RDKafkaLogLevel::Warning => tracing::warn!(target: "librdkafka", facility, message),
        RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
            tracing::info!(target: "librdkafka", facility, message)
        }
        RDKafkaLogLevel::Debug => tracing::debug!(target: "librdkafka", facility, message),
    }
}

/// What one subscription knows about its partitions; shared by its consumer's callbacks and
/// its methods.
#[derive(Debug, Default)]
pub(super) struct PartitionBook {
    /// The partitions of the log's topic assigned to this member now.
    held: BTreeSet<u32>,
    /// Per partition: the offset after the last record seen (delivered, or reported by a
    /// fetch response's high watermark), i.e. where the next append will land.
    high: BTreeMap<u32, u64>,
    /// Per partition: the committed offset (the next record to read), as last committed by
    /// this member or reported by librdkafka.
    committed: BTreeMap<u32, u64>,
    /// Per partition: the log start offset librdkafka reported.
    low: BTreeMap<u32, u64>,
    /// Per partition: how many times it was assigned to this member, the generation of the
    /// records delivered under its current assignment.
    generations: BTreeMap<u32, u64>,
    /// The partitions held that the reader paused (librdkafka's pause outlives an assignment:
    /// a revocation must lift it, see [`PartitionBook::revoke`]).
    paused: BTreeSet<u32>,
}

impl PartitionBook {
    pub(super) fn holds(&self, partition: u32) -> bool {
        self.held.contains(&partition)
    }

    /// The generation of the current assignment of `partition`, `None` when not held.
    pub(super) fn holding(&self, partition: u32) -> Option<u64> {
        self.holds(partition).then(|| {
            self.generations
                .get(&partition)
                .copied()
                .unwrap_or_default()
        })
    }

    /// Whether the reader paused `partition` (and it was not revoked since).
    pub(super) fn is_paused(&self, partition: u32) -> bool {
        self.paused.contains(&partition)
    }

    /// Records that `partition` was paused or resumed.
    pub(super) fn set_paused(&mut self, partition: u32, paused: bool) {
        if paused {
            self.paused.insert(partition);
        } else {
            self.paused.remove(&partition);
        }
    }

    /// Records that the record at `offset` of `partition` was delivered; the generation it
    /// came under. (librdkafka drops the records it fetched under an assignment once it is
    /// revoked: a record delivered now belongs to the current one.)
    pub(super) fn delivered(&mut self, partition: u32, offset: u64) -> u64 {
        let next = offset.saturating_add(1);
        let high = self.high.entry(partition).or_insert(next);
        *high = (*high).max(next);
        self.generations
            .get(&partition)
            .copied()
            .unwrap_or_default()
    }

    /// The committed offset of `partition`, when known.
    pub(super) fn committed(&self, partition: u32) -> Option<u64> {
        self.committed.get(&partition).copied()
    }

    /// Records that the group stored `next` as `partition`'s committed offset.
    pub(super) fn record_commit(&mut self, partition: u32, next: u64) {
        let committed = self.committed.entry(partition).or_insert(next);
        *committed = (*committed).max(next);
    }

    /// Per partition held whose high watermark is known: records appended but not committed.
    pub(super) fn lag(&self) -> Vec<(u32, u64)> {
        self.held
            .iter()
            .filter_map(|&partition| {
                let high = *self.high.get(&partition)?;
                let done = self
                    .committed(partition)
                    .or_else(|| self.low.get(&partition).copied())
                    .unwrap_or(0);
                Some((partition, high.saturating_sub(done)))
            })
            .collect()
    }

    fn assign(&mut self, partitions: impl IntoIterator<Item = u32>) {
        for partition in partitions {
            if self.held.insert(partition) {
                *self.generations.entry(partition).or_default() += 1;
            }
            // The group's committed offset may have moved while another member held it.
            self.committed.remove(&partition);
        }
    }

    /// Forgets `partitions`; returns those of them that were paused, which the caller must
    /// resume: librdkafka keeps an application's pause across a revocation and a later
    /// assignment, so a partition given back to this member would never be fetched again.
    fn revoke(&mut self, partitions: impl IntoIterator<Item = u32>) -> Vec<u32> {
        let mut paused = Vec::new();
        for partition in partitions {
            self.held.remove(&partition);
            self.committed.remove(&partition);
            if self.paused.remove(&partition) {
                paused.push(partition);
            }
        }
        paused
    }

    fn statistics(&mut self, topic: &rdkafka::statistics::Topic) {
        for (&partition, stats) in &topic.partitions {
            // librdkafka's internal "unassigned" partition is -1; invalid offsets are negative.
            let Ok(partition) = u32::try_from(partition) else {
                continue;
            };
            if let Ok(high) = u64::try_from(stats.hi_offset) {
                // The broker's word, newer than anything delivered before this report.
                self.high.insert(partition, high);
            }
            if let Ok(committed) = u64::try_from(stats.committed_offset) {
                self.record_commit(partition, committed);
            }
            if let Ok(low) = u64::try_from(stats.lo_offset) {
                self.low.insert(partition, low);
            }
        }
    }
}

/// A subscription's consumer callbacks: rebalances update the partitions held, statistics the
/// high watermarks.
pub(super) struct SubscriptionContext {
    topic: String,
    book: Arc<Mutex<PartitionBook>>,
}

impl SubscriptionContext {
    pub(super) fn new(topic: &str) -> SubscriptionContext {
        SubscriptionContext {
            topic: topic.to_owned(),
            book: Arc::default(),
        }
    }

    /// The partition book, whatever a panicking holder left in it (each update is a single
    /// map or set operation, so it is never half done).
    pub(super) fn book(&self) -> MutexGuard<'_, PartitionBook> {
        self.book.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn partitions_of<'a>(&'a self, list: &'a TopicPartitionList) -> impl Iterator<Item = u32> + 'a {
        list.elements_for_topic(&self.topic)
            .into_iter()
            .filter_map(|element| u32::try_from(element.partition()).ok())
    }
}

/// Pauses (`pause`) or resumes `partitions` of `topic`; a failure is logged (librdkafka only
/// refuses partitions it does not know).
pub(super) fn pause_or_resume<C: Consumer<SubscriptionContext>>(
    consumer: &C,
    topic: &str,
    partitions: &[u32],
    pause: bool,
) -> bool {
    let mut list = TopicPartitionList::new();
    for &partition in partitions {
        if let Ok(partition) = i32::try_from(partition) {
            list.add_partition(topic, partition);
        }
    }
    let result = if pause {
        consumer.pause(&list)
    } else {
        consumer.resume(&list)
    };
    match result {
        Ok(()) => true,
        Err(error) => {
            tracing::warn!(topic, ?partitions, pause, %error, "partitions not paused or resumed");
            false
        }
    }
}

fn resume(consumer: &BaseConsumer<SubscriptionContext>, topic: &str, partitions: &[u32]) {
    if pause_or_resume(consumer, topic, partitions, false) {
        tracing::debug!(topic, ?partitions, "revoked partitions resumed");
    }
}

impl ClientContext for SubscriptionContext {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        forward_log(level, facility, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        LogContext.error(error, reason);
    }

    fn stats(&self, statistics: Statistics) {
        if let Some(topic) = statistics.topics.get(&self.topic) {
            self.book().statistics(topic);
        }
    }
}

impl ConsumerContext for SubscriptionContext {
    // A revocation is recorded before librdkafka gives the partitions up, so `holds` is false
    // from the moment another member may be handed them; an assignment after it took effect.
    // A paused partition is resumed as it is revoked (see `PartitionBook::revoke`); its
    // fetcher stops with the revocation all the same, and a later assignment starts it at the
    // group's committed offset.
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Revoke(list) => {
                let revoked: Vec<u32> = self.partitions_of(list).collect();
                tracing::debug!(topic = %self.topic, ?revoked, "partitions revoked");
                let paused = self.book().revoke(revoked);
                if !paused.is_empty() {
                    resume(consumer, &self.topic, &paused);
                }
            }
            Rebalance::Assign(_) => {}
            Rebalance::Error(error) => {
                tracing::warn!(topic = %self.topic, %error, "consumer group rebalance failed")
            }
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(list) = rebalance {
            let assigned: Vec<u32> = self.partitions_of(list).collect();
            tracing::debug!(topic = %self.topic, ?assigned, "partitions assigned");
            self.book().assign(assigned);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lag_counts_from_the_committed_offset_to_the_high_watermark_of_held_partitions() {
        let mut book = PartitionBook::default();
        book.assign([0, 1, 2]);
        book.delivered(0, 9);
        book.record_commit(0, 4);
        book.delivered(1, 2);
        book.delivered(5, 100);
        assert_eq!(book.lag(), vec![(0, 6), (1, 3)]);
    }

    #[test]
    fn a_revoked_partition_is_not_held_and_forgets_its_commits() {
        let mut book = PartitionBook::default();
        book.assign([3]);
        book.record_commit(3, 10);
        book.revoke([3]);
        assert!(!book.holds(3));
        assert_eq!(book.committed(3), None);
    }

    #[test]
    fn a_partition_assigned_again_delivers_under_a_newer_generation() {
        let mut book = PartitionBook::default();
        book.assign([3]);
        let first = book.delivered(3, 0);
        assert_eq!(book.holding(3), Some(first));
        book.revoke([3]);
        assert_eq!(book.holding(3), None);
        book.assign([3]);
        let second = book.delivered(3, 1);
        assert!(second > first);
        assert_eq!(book.holding(3), Some(second));
        book.assign([3]);
        assert_eq!(
            book.holding(3),
            Some(second),
            "an assignment kept is the same holding"
        );
    }

    #[test]
    fn a_revoked_partition_is_no_longer_paused_and_is_named_for_resuming() {
        let mut book = PartitionBook::default();
        book.assign([1, 2]);
        book.set_paused(1, true);
        assert_eq!(book.revoke([1, 2]), vec![1]);
        assert!(!book.is_paused(1));
    }

    #[test]
    fn a_commit_never_moves_back() {
        let mut book = PartitionBook::default();
        book.record_commit(0, 10);
        book.record_commit(0, 7);
        assert_eq!(book.committed(0), Some(10));
    }
}
