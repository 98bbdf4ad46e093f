//! [`KafkaCommandLog`]: the command log on a Kafka topic, through librdkafka (`rdkafka`).
//!
//! ## Configuration
//!
//! [`KafkaConfig`] names the brokers, the topic (`payment-commands`), the partition count the
//! topic is created with when missing (32), the consumer group (`payment-workers`), the append
//! timeout (5 s), the producer's linger (0 ms), the group session and heartbeat (10 s / 3 s),
//! the longest a fetch is held (500 ms) and the client id. [`KafkaCommandLog::open`] checks
//! it and builds the clients without contacting a broker: a server can start while Kafka is
//! down, answer [`LogError::Unavailable`] (a 503) meanwhile, and work as soon as Kafka comes.
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use adapters::{KafkaCommandLog, KafkaConfig};
//! use domain::CommandLog;
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let log = KafkaCommandLog::open(&KafkaConfig {
//!     brokers: "kafka-1:9092,kafka-2:9092".into(),
//!     ..KafkaConfig::default()
//! })
//! .await?;
//! // Stored on every in-sync replica when this returns; the key picks the partition, the id
//! // (the command's) names the record.
//! let position = log
//!     .append("the-command-id", b"organisation-id", b"the command")
//!     .await?;
//!
//! let subscription = log.subscribe().await?;
//! while let Some(record) = subscription.next(Duration::from_secs(1)).await? {
//!     // Not a record read ahead before its partition was given away (and maybe back).
//!     if subscription.holding(record.position.partition) == Some(record.generation) {
//!         // ... apply the command, then:
//!         subscription.commit(record.position).await?;
//!     }
//! }
//! # let _ = position;
//! # Ok(())
//! # }
//! ```
//!
//! ## Delivery guarantees
//!
//! - **Append.** The producer is idempotent (`enable.idempotence=true`, so a retried batch is
//!   never stored twice or out of order) with `acks=all`. [`CommandLog::append`] returns the
//!   record's position only after the broker's delivery report said it is stored on every
//!   in-sync replica; a report that does not come within the append timeout
//!   (`message.timeout.ms`) is [`LogError::Unavailable`]. Such a record may still have been
//!   stored (the outcome is unknown, as the port says), never reported stored when it was not.
//! - **A producer that takes no more records is replaced.** After a fatal librdkafka error,
//!   a fenced producer id, or an append not acknowledged in time, the next append goes through
//!   a new producer (with a new producer id). A broker restored without its producer state
//!   (tansu after a restart) refuses the old id for ever, and librdkafka would keep it. The
//!   idempotence guarantee holds per producer: only an append that already answered
//!   `Unavailable` (outcome unknown) can be stored twice if the caller retries it.
//! - **Placement.** Keys are placed with `murmur2_random`, the Java client's partitioner, so
//!   other producers of the topic (Java, Kafka Streams, librdkafka with the same setting) put
//!   a key on the same partition. Within a partition, records are read in append order.
//! - **Reading.** A [`KafkaSubscription`] is a consumer-group member. It reads from the
//!   group's committed offset (from the beginning of the partition when the group has none)
//!   and commits only what [`LogSubscription::commit`] was given; records not committed are
//!   delivered again to whichever member holds their partition next: at least once.
//!   [`LogSubscription::next`] may be called from several tasks at once (each record goes to
//!   one of them); while the broker is away it waits out its `wait` and answers `Ok(None)`
//!   (librdkafka reconnects and rejoins by itself; the errors are logged), and only an error
//!   no retry can mend is returned, as [`LogError::Internal`]. Dropping a subscription leaves
//!   the group from a thread of its own.
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
//! for while it is out go together in the next one; a commit not confirmed within the append
//! timeout is [`LogError::Unavailable`] (and asked for again by the next commit). An offset
//! never moves backwards, and a commit for a partition the subscription no longer holds is
//! skipped (its new holder reads it from the group's offset; committing could move that
//! backwards).
//!
//! ## Rebalances
//!
//! The consumer's rebalance callbacks keep the set of partitions held:
//! [`LogSubscription::holding`] turns `None` for a revoked partition *before* librdkafka gives
//! it up (so a record read earlier is known to be stale before another member can be given the
//! partition), and names a new generation for an assigned one once the assignment took effect;
//! each record carries the generation of the assignment it was delivered under, so one read
//! ahead before a revocation stays stale after the partition is assigned back. librdkafka drops
//! the records it fetched for revoked partitions.
//!
//! ## Pausing
//!
//! [`LogSubscription::pause`] pauses a partition held (librdkafka drops the records it fetched
//! for it and, on [`LogSubscription::resume`], fetches again from the one after the last
//! delivered): a reader whose queue for one partition is full keeps reading the others. A
//! revocation resumes the paused partitions it takes, because librdkafka keeps an
//! application's pause across assignments: a partition given back later would never be
//! fetched again.
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
mod producer;
mod subscription;
mod topic;

use std::sync::Arc;

use async_trait::async_trait;
use domain::{CommandLog, LogError, LogPosition, LogSubscription};
use rdkafka::consumer::{Consumer, StreamConsumer};

pub use config::{KafkaConfig, KafkaSetupError};
pub use subscription::KafkaSubscription;

use context::SubscriptionContext;
use errors::log_error;
use producer::Appender;
use topic::Topic;

/// The command log on one Kafka topic (see the [module docs](self)).
///
/// Clones share the producer and the topic.
#[derive(Clone)]
pub struct KafkaCommandLog {
    shared: Arc<Shared>,
}

struct Shared {
    config: KafkaConfig,
    appender: Appender,
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
        let appender = Appender::new(config)?;
        let topic = Topic::new(config)?;
        topic.request();
        Ok(Self {
            shared: Arc::new(Shared {
                config: config.clone(),
                appender,
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

    /// After a failure that may mean the broker came back empty, checks the topic again.
    fn recheck_topic_after(&self, error: &LogError) {
        if matches!(error, LogError::Unavailable(_)) {
            self.shared.topic.forget();
            self.shared.topic.request();
        }
    }
}

#[async_trait]
impl CommandLog for KafkaCommandLog {
    // The idempotent producer keeps its own retries from storing a record twice: the id is not
    // needed.
    async fn append(&self, _id: &str, key: &[u8], payload: &[u8]) -> Result<LogPosition, LogError> {
        let appended = self.shared.appender.append(key, payload).await;
        if let Err(error) = &appended {
            self.recheck_topic_after(error);
        }
        appended
    }

    async fn subscribe(&self) -> Result<Arc<dyn LogSubscription>, LogError> {
        let topic = self.shared.topic.name();
        let consumer: StreamConsumer<SubscriptionContext> = self
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
        let described = self.shared.topic.describe().await.map(|_| ());
        if let Err(error) = &described {
            self.recheck_topic_after(error);
        }
        described
    }
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
