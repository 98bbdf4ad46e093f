//! [`KafkaSubscription`]: one member of the log's consumer group.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use domain::{LogError, LogPosition, LogRecord, LogSubscription};
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::Message;
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use tokio::time::Instant;

use super::context::{pause_or_resume, SubscriptionContext};
use super::errors::log_error;
use super::off_runtime::{blocking, drop_in_background};

type GroupConsumer = StreamConsumer<SubscriptionContext>;

/// One member of the log's consumer group (see the [module docs](super) for how commits and
/// rebalances work). Dropping it leaves the group, in the background.
pub struct KafkaSubscription {
    /// `None` only while dropping.
    consumer: Option<Arc<GroupConsumer>>,
    topic: String,
    /// The bound of one commit round trip.
    bound: Duration,
    /// Per partition: the highest offset to commit (the next record to read) asked for and not
    /// yet committed.
    wanted: Mutex<BTreeMap<u32, u64>>,
    /// One commit request in flight at a time: a later one never overtakes an earlier one, and
    /// commits asked for meanwhile go out together in the next.
    flushing: tokio::sync::Mutex<()>,
}

impl KafkaSubscription {
    pub(super) fn new(consumer: GroupConsumer, topic: &str, bound: Duration) -> Self {
        Self {
            consumer: Some(Arc::new(consumer)),
            topic: topic.to_owned(),
            bound,
            wanted: Mutex::default(),
            flushing: tokio::sync::Mutex::new(()),
        }
    }

    fn consumer(&self) -> Result<&Arc<GroupConsumer>, LogError> {
        self.consumer
            .as_ref()
            .ok_or_else(|| LogError::Internal("the subscription is closed".into()))
    }

    fn context(&self) -> Option<&SubscriptionContext> {
        self.consumer
            .as_ref()
            .map(|consumer| consumer.context().as_ref())
    }

    fn wanted(&self) -> std::sync::MutexGuard<'_, BTreeMap<u32, u64>> {
        self.wanted.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the group already stored `next` or more for `partition`.
    fn covered(&self, partition: u32, next: u64) -> bool {
        self.context()
            .and_then(|context| context.book().committed(partition))
            .is_some_and(|committed| committed >= next)
    }

    /// Pauses or resumes `partition`. The partition book stays locked throughout, so a
    /// revocation (which resumes the paused partitions it takes) never interleaves: a partition
    /// not held is never paused, and none stays paused into a later assignment.
    fn set_paused(&self, partition: u32, pause: bool) {
        let Some(consumer) = self.consumer.as_ref() else {
            return;
        };
        let mut book = consumer.context().book();
        let change = match pause {
            true => book.holds(partition) && !book.is_paused(partition),
            false => book.is_paused(partition),
        };
        // librdkafka's pause waits only for its own threads, never for this book.
        if change && pause_or_resume(consumer.as_ref(), &self.topic, &[partition], pause) {
            book.set_paused(partition, pause);
        }
    }

    /// Commits every wanted offset of a partition still held, in one request.
    async fn flush(&self) -> Result<(), LogError> {
        let consumer = Arc::clone(self.consumer()?);
        let batch: BTreeMap<u32, u64> = {
            let book = consumer.context().book();
            std::mem::take(&mut *self.wanted())
                .into_iter()
                .filter(|&(partition, next)| {
                    book.holds(partition) && book.committed(partition).is_none_or(|c| c < next)
                })
                .collect()
        };
        if batch.is_empty() {
            return Ok(());
        }
        let mut offsets = TopicPartitionList::new();
        for (&partition, &next) in &batch {
            let (Ok(partition), Ok(next)) = (i32::try_from(partition), i64::try_from(next)) else {
                return Err(LogError::Internal(format!(
                    "position {partition}/{next} is out of Kafka's range"
                )));
            };
            offsets
                .add_partition_offset(&self.topic, partition, Offset::Offset(next))
                .map_err(|e| log_error("commit", &e))?;
        }
        let committer = Arc::clone(&consumer);
        let result = blocking(self.bound, "commit", move || {
            committer
                .commit(&offsets, CommitMode::Sync)
                .map_err(|e| log_error("commit", &e))
        })
        .await;
        match result {
            Ok(()) => {
                let mut book = consumer.context().book();
                for (&partition, &next) in &batch {
                    book.record_commit(partition, next);
                }
                Ok(())
            }
            Err(error) => {
                // Asked for again by the next flush, unless a later commit supersedes it.
                let mut wanted = self.wanted();
                for (partition, next) in batch {
                    let entry = wanted.entry(partition).or_insert(next);
                    *entry = (*entry).max(next);
                }
                Err(error)
            }
        }
    }
}

#[async_trait]
impl LogSubscription for KafkaSubscription {
    async fn next(&self, wait: Duration) -> Result<Option<LogRecord>, LogError> {
        let consumer = self.consumer()?;
        let deadline = Instant::now() + wait;
        loop {
            let message = match tokio::time::timeout_at(deadline, consumer.recv()).await {
                Err(_) => return Ok(None),
                Ok(Ok(message)) => message,
                Ok(Err(error)) => match log_error("reading the log", &error) {
                    // librdkafka reconnects and rejoins by itself, and the client context has
                    // logged the error: wait on for records.
                    LogError::Unavailable(_) => continue,
                    refused @ (LogError::Internal(_) | LogError::TooLarge(_)) => {
                        return Err(refused)
                    }
                },
            };
            let (Ok(partition), Ok(offset)) = (
                u32::try_from(message.partition()),
                u64::try_from(message.offset()),
            ) else {
                return Err(LogError::Internal(format!(
                    "a record at an invalid position {}/{}",
                    message.partition(),
                    message.offset()
                )));
            };
            let generation = consumer.context().book().delivered(partition, offset);
            return Ok(Some(LogRecord {
                position: LogPosition { partition, offset },
                key: message.key().unwrap_or_default().to_vec(),
                payload: message.payload().unwrap_or_default().to_vec(),
                delivery_limit_reached: false,
                generation,
            }));
        }
    }

    fn holding(&self, partition: u32) -> Option<u64> {
        self.context()
            .and_then(|context| context.book().holding(partition))
    }

    async fn commit(&self, position: LogPosition) -> Result<(), LogError> {
        let partition = position.partition;
        let next = position
            .offset
            .checked_add(1)
            .ok_or_else(|| LogError::Internal("offset out of range".into()))?;
        if !self.holds(partition) {
            // Another member reads it now, from the group's committed offset: this record is
            // delivered again there, as the port's at-least-once rule says. Committing for a
            // partition we lost could move the new holder's offset backwards.
            tracing::debug!(
                partition,
                offset = position.offset,
                "commit of a partition no longer held skipped"
            );
            return Ok(());
        }
        if self.covered(partition, next) {
            return Ok(());
        }
        {
            let mut wanted = self.wanted();
            let entry = wanted.entry(partition).or_insert(next);
            *entry = (*entry).max(next);
        }
        let _one_at_a_time = self.flushing.lock().await;
        if self.covered(partition, next) {
            // A flush that finished while we waited took our offset along.
            return Ok(());
        }
        self.flush().await
    }

    // librdkafka drops the records it fetched for a paused partition and fetches again from
    // the one after the last delivered when it is resumed.
    fn pause(&self, partition: u32) {
        self.set_paused(partition, true);
    }

    fn resume(&self, partition: u32) {
        self.set_paused(partition, false);
    }

    fn lag(&self) -> Vec<(u32, u64)> {
        self.context()
            .map(|context| context.book().lag())
            .unwrap_or_default()
    }
}

impl Drop for KafkaSubscription {
    fn drop(&mut self) {
        if let Some(consumer) = self.consumer.take() {
            drop_in_background(consumer);
        }
    }
}
