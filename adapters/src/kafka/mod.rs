//! [`KafkaCommandLog`]: the command log on a Kafka topic, through librdkafka (`rdkafka`).
//!
//! ## Configuration
//!
//! [`KafkaConfig`] names the brokers, the topic (`payment-commands`), the partition count the
//! topic is created with when missing (32), the consumer group (`payment-workers`), the append
//! timeout (5 s), the producer's linger (0 ms), the group session and heartbeat (10 s / 3 s)
//! and the client id. [`KafkaCommandLog::open`] checks it and builds the clients without
//! contacting a broker: a server can start while Kafka is down, answer
//! [`LogError::Unavailable`] (a 503) meanwhile, and work as soon as Kafka comes.
//!
//! ## Delivery guarantees
//!
//! - **Append.** The producer is idempotent (`enable.idempotence=true`, so a retried batch is
//!   never stored twice or out of order) with `acks=all`. [`CommandLog::append`] returns the
//!   record's position only after the broker's delivery report said it is stored on every
//!   in-sync replica; a report that does not come within the append timeout
//!   (`message.timeout.ms`) is [`LogError::Unavailable`]. Such a record may still have been
//!   stored (the outcome is unknown, as the port says), never reported stored when it was not.
//! - **Placement.** Keys are placed with `murmur2_random`, the Java client's partitioner, so
//!   other producers of the topic (Java, Kafka Streams, librdkafka with the same setting) put
//!   a key on the same partition. Within a partition, records are read in append order.
//! - **Reading.** A [`KafkaSubscription`] is a consumer-group member. It reads from the
//!   group's committed offset (from the beginning of the partition when the group has none)
//!   and commits only what [`LogSubscription::commit`] was given; records not committed are
//!   delivered again to whichever member holds their partition next: at least once.
//!
//! ## Commits
//!
//! Offsets are committed explicitly and synchronously (`enable.auto.commit=false`,
//! `enable.auto.offset.store=false`): [`LogSubscription::commit`] returns once the group
//! coordinator has stored the offset. Auto-commit of stored offsets would be cheaper but
//! would return before anything is stored, so a crash within the commit interval would
//! silently undo commits the caller was told about; the port promises that after `commit(p)` a
//! new subscription starts after `p`. To keep the cost near one round trip per batch rather
//! than per record, one commit request is in flight per subscription, and the offsets asked
//! for while it is out go together in the next one. An offset never moves backwards, and a
//! commit for a partition the subscription no longer holds is skipped (its new holder reads it
//! from the group's offset; committing could move that backwards).
//!
//! ## Rebalances
//!
//! The consumer's rebalance callbacks keep the set of partitions held:
//! [`LogSubscription::holds`] turns false for a revoked partition *before* librdkafka gives it
//! up (so a record read earlier is known to be stale before another member can be given the
//! partition), and true for an assigned one once the assignment took effect. librdkafka drops
//! the records it fetched for revoked partitions.
//!
//! ## Lag
//!
//! [`LogSubscription::lag`] is the high watermark minus the committed offset of each partition
//! held. The high watermarks are those librdkafka learns from fetch responses and reports in
//! its statistics (every second), never a `ListOffsets` request (tansu answers those wrongly
//! for the latest offset). A partition shows up once its first fetch answered.
//!
//! ## The partition count
//!
//! **Never change the partition count of a live topic.** A key's partition is its hash modulo
//! the count: with more partitions, an organisation's new commands land on another partition
//! than its older, unapplied ones, and two workers apply them concurrently, out of order. To
//! change the count, drain the topic (every group's lag at zero, no writes) or move to a new
//! topic. The log creates its topic with [`KafkaConfig::partitions`] only when it is missing;
//! an existing topic keeps its count, which [`CommandLog::partitions`] reports once the broker
//! answered (a warning is logged when it differs from the configuration).
//!
//! ## The topic
//!
//! The log creates its topic (idempotently, with an admin request) in the background from
//! `open` on, retrying while the broker is away, and again after an append failed as
//! unavailable (a broker restored from nothing, such as tansu after a restart, lacks it).
//! Producers never auto-create topics.

mod config;
mod context;
mod errors;
mod off_runtime;
mod subscription;
mod topic;

use std::sync::{Arc, PoisonError, RwLock};

use async_trait::async_trait;
use domain::{CommandLog, LogError, LogPosition, LogSubscription};
use rdkafka::consumer::Consumer;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::ClientConfig;

pub use config::{KafkaConfig, KafkaSetupError};
pub use subscription::KafkaSubscription;

use config::refuse;
use context::{LogContext, SubscriptionContext};
use errors::{log_error, timed_out};
use off_runtime::drop_in_background;
use topic::Topic;

type Producer0 = FutureProducer<LogContext>;

/// The command log on one Kafka topic (see the [module docs](self)).
///
/// Clones share the producer and the topic.
#[derive(Clone)]
pub struct KafkaCommandLog {
    shared: Arc<Shared>,
}

struct Shared {
    config: KafkaConfig,
    /// Replaced when librdkafka reports a fatal error, after which a producer takes nothing;
    /// `None` only while dropping.
    producer: RwLock<Option<Arc<Producer0>>>,
    topic: Arc<Topic>,
}

impl std::fmt::Debug for KafkaCommandLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaCommandLog")
            .field("brokers", &self.shared.config.brokers)
            .field("topic", &self.shared.config.topic)
            .field("group", &self.shared.config.group)
            .finish_non_exhaustive()
    }
}

impl KafkaCommandLog {
    /// A log on `config.topic`, without waiting for a broker; must be called within a tokio
    /// runtime (the topic is created by a background task).
    ///
    /// Fails only on a configuration that can never work (an invalid topic name, a zero
    /// timeout, a setting librdkafka refuses); an unreachable broker is not an error here.
    pub async fn open(config: &KafkaConfig) -> Result<Self, KafkaSetupError> {
        config.check()?;
        let producer = producer(&config.producer())?;
        let topic = Topic::new(config)?;
        topic.request();
        Ok(Self {
            shared: Arc::new(Shared {
                config: config.clone(),
                producer: RwLock::new(Some(Arc::new(producer))),
                topic,
            }),
        })
    }

    /// Creates the topic if it is missing and waits for it, within the append timeout.
    ///
    /// Idempotent. The log already does this in the background; call it to know the topic
    /// exists (in a deployment check or a test).
    pub async fn ensure_topic(&self) -> Result<(), LogError> {
        self.shared.topic.ensure().await
    }

    /// The configuration the log was opened with.
    pub fn config(&self) -> &KafkaConfig {
        &self.shared.config
    }

    fn producer(&self) -> Result<Arc<Producer0>, LogError> {
        let producer = self
            .shared
            .producer
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        producer
            .clone()
            .ok_or_else(|| LogError::Internal("the command log is closed".into()))
    }

    /// After a fatal error (an idempotent producer whose sequence the broker lost), replaces
    /// the producer: the old one would refuse every later append.
    fn renew_producer_if_fatal(&self, failed: &Arc<Producer0>) {
        let Some((code, reason)) = failed.client().fatal_error() else {
            return;
        };
        tracing::error!(
            ?code,
            reason,
            "the Kafka producer failed for good; starting a new one"
        );
        let fresh = match producer(&self.shared.config.producer()) {
            Ok(fresh) => fresh,
            Err(error) => {
                tracing::error!(%error, "cannot start a new Kafka producer");
                return;
            }
        };
        let mut current = self
            .shared
            .producer
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        // Another append may have renewed it already.
        if current.as_ref().is_some_and(|now| Arc::ptr_eq(now, failed)) {
            let old = current.replace(Arc::new(fresh));
            drop_in_background(old);
        }
    }
}

#[async_trait]
impl CommandLog for KafkaCommandLog {
    // The idempotent producer keeps its own retries from storing a record twice: the id is not
    // needed.
    async fn append(&self, _id: &str, key: &[u8], payload: &[u8]) -> Result<LogPosition, LogError> {
        let bound = self.shared.config.append_timeout;
        let producer = self.producer()?;
        let record = FutureRecord::to(self.shared.topic.name())
            .key(key)
            .payload(payload);
        let delivery = match producer.send_result(record) {
            Ok(delivery) => delivery,
            Err((error, _)) => return Err(log_error("append", &error)),
        };
        // librdkafka reports a timed-out message up to a second late (it scans once a second):
        // the bound is kept here.
        let outcome = match tokio::time::timeout(bound, delivery).await {
            Err(_) => Err(timed_out("append", bound)),
            Ok(Err(_canceled)) => Err(LogError::Unavailable(
                "append: the producer was closed before the delivery report".into(),
            )),
            Ok(Ok(Err((error, _)))) => Err(log_error("append", &error)),
            Ok(Ok(Ok(delivery))) => {
                match (
                    u32::try_from(delivery.partition),
                    u64::try_from(delivery.offset),
                ) {
                    (Ok(partition), Ok(offset)) => Ok(LogPosition { partition, offset }),
                    _ => Err(LogError::Internal(format!(
                        "append: the broker reported an invalid position {}/{}",
                        delivery.partition, delivery.offset
                    ))),
                }
            }
        };
        if let Err(error) = &outcome {
            self.renew_producer_if_fatal(&producer);
            if matches!(error, LogError::Unavailable(_)) {
                // The broker may be back without the topic: check it again.
                self.shared.topic.forget();
                self.shared.topic.request();
            }
        }
        outcome
    }

    async fn subscribe(&self) -> Result<Arc<dyn LogSubscription>, LogError> {
        let topic = self.shared.topic.name();
        let consumer: rdkafka::consumer::StreamConsumer<SubscriptionContext> = self
            .shared
            .config
            .consumer()
            .create_with_context(SubscriptionContext::new(topic))
            .map_err(|e| log_error("subscribe", &e))?;
        consumer
            .subscribe(&[topic])
            .map_err(|e| log_error("subscribe", &e))?;
        Ok(Arc::new(KafkaSubscription::new(
            consumer,
            topic,
            self.shared.config.append_timeout,
        )))
    }

    fn partitions(&self) -> u32 {
        self.shared.topic.partitions()
    }

    async fn check_health(&self) -> Result<(), LogError> {
        match self.shared.topic.describe().await {
            Ok(_) => Ok(()),
            Err(error) => {
                self.shared.topic.forget();
                self.shared.topic.request();
                Err(error)
            }
        }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Dropping a producer waits for its polling thread and up to 500 ms of flushing.
        let producer = self
            .producer
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        drop_in_background(producer);
    }
}

fn producer(config: &ClientConfig) -> Result<Producer0, KafkaSetupError> {
    config
        .create_with_context(LogContext)
        .map_err(|e| refuse(format!("the producer: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_log_opens_without_a_reachable_broker() {
        // Port 1 on loopback: nothing listens there; opening must not care.
        let config = KafkaConfig {
            brokers: "127.0.0.1:1".into(),
            ..KafkaConfig::default()
        };
        let log = KafkaCommandLog::open(&config).await.expect("the log opens");
        assert_eq!(log.partitions(), config.partitions);
    }

    #[tokio::test]
    async fn a_configuration_that_can_never_work_is_a_setup_error() {
        let config = KafkaConfig {
            topic: "payment commands".into(),
            ..KafkaConfig::default()
        };
        let error = KafkaCommandLog::open(&config).await.unwrap_err();
        assert!(error.to_string().contains("topic name"), "{error}");
    }
}
