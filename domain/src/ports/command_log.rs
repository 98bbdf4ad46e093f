//! The command log port: a partitioned, durable, ordered log of commands (Kafka, NATS
//! JetStream, or the in-process log).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use thiserror::Error;

/// A failure of the command log.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LogError {
    /// The broker did not acknowledge in time or cannot be reached; the append may be retried
    /// (it may also have been stored: an append that timed out has an unknown outcome).
    #[error("command log unavailable: {0}")]
    Unavailable(String),
    /// The record is larger than the log accepts (Kafka: `message.max.bytes`; NATS: the
    /// server's `max_payload`, 1 MiB by default); nothing was stored, and a retry cannot succeed.
    #[error("command too large for the log: {0}")]
    TooLarge(String),
    /// The log refused the record for good (misconfigured topic, authorisation, ...).
    #[error("command log failure: {0}")]
    Internal(String),
}

/// Where one record sits in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogPosition {
    /// The partition (0-based).
    pub partition: u32,
    /// The offset within the partition; offsets only grow.
    pub offset: u64,
}

/// One record read from the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    /// Where it sits.
    pub position: LogPosition,
    /// The key it was appended under.
    pub key: Vec<u8>,
    /// The bytes appended.
    pub payload: Vec<u8>,
    /// The log delivered this record as often as it allows without a commit (NATS: the
    /// consumer's `max_deliver`; each earlier delivery went to a reader that stopped or lost the
    /// partition before committing it): the reader must not apply it again, but finish it
    /// otherwise (the worker records it rejected) and commit it. Always false on a log without
    /// such a limit.
    pub delivery_limit_reached: bool,
    /// Which holding of its partition by this subscription delivered it: it grows each time
    /// the subscription is given the partition (again), and stays the same while it keeps it
    /// (see [`LogSubscription::holding`]). Constant on a log whose subscriptions never regain a
    /// partition.
    pub generation: u64,
}

/// A partitioned command log.
///
/// Contract (checked by `adapters`' log contract suite on every adapter):
/// - `append` returns only after the log stored the record durably, as the log defines it
///   (Kafka: `acks=all` on an idempotent producer; NATS JetStream: the stream's publish
///   acknowledgement); a log that does not answer within the adapter's configured bound MUST be
///   [`LogError::Unavailable`], never a hang and never `Ok`.
/// - Each record is appended with an id unique to it (the command id). A log that deduplicates
///   (NATS JetStream: `Nats-Msg-Id`) stores an append retried with the same id once, within its
///   window, so an adapter may retry an append whose acknowledgement was lost.
/// - Records with the same key always land on the same partition, and within a partition they
///   are read in the order they were appended.
/// - Readers of one group share the partitions: each partition is read by one subscription at a
///   time, from the group's committed position.
#[async_trait]
pub trait CommandLog: Send + Sync {
    /// Appends `payload` under `key`, as the record named `id`, and returns where it was stored.
    async fn append(&self, id: &str, key: &[u8], payload: &[u8]) -> Result<LogPosition, LogError>;

    /// Joins the readers' group: the subscription is given some or all partitions and reads
    /// each from its committed position.
    async fn subscribe(&self) -> Result<Arc<dyn LogSubscription>, LogError>;

    /// How many partitions the log has.
    fn partitions(&self) -> u32;

    /// Checks that the log is reachable and answering.
    async fn check_health(&self) -> Result<(), LogError>;
}

/// One member of the readers' group.
///
/// Contract: `next` delivers the records of each partition the subscription holds in offset
/// order; a record not committed is delivered again to whichever subscription holds its
/// partition after this one is dropped or loses the partition (at-least-once). After
/// `commit(p)`, a new subscription starts reading `p.partition` after `p.offset`.
///
/// A log may hold a partition's next record back until the one delivered before it is
/// committed (NATS JetStream: one unacknowledged message per partition's consumer, the price of
/// strict order across a failover); so a reader never lets its wait for a partition's next
/// record hold up the commit of the ones it has (the worker finishes and commits while it
/// waits). Committing a record again is harmless (a worker does, for a record
/// delivered again after it was applied: a log that lost the first commit waits for it).
#[async_trait]
pub trait LogSubscription: Send + Sync {
    /// The next record of any partition held, waiting at most `wait`; `None` when none came.
    /// Concurrent callers each get different records.
    async fn next(&self, wait: Duration) -> Result<Option<LogRecord>, LogError>;

    /// The generation of this subscription's current holding of `partition`, `None` when it
    /// does not hold it (a rebalance gave it to another member). A record is current while its
    /// [`generation`](LogRecord::generation) is the holding's: one read before the partition
    /// was lost must not be applied any more, even once the partition is given back, since
    /// another member may have applied and committed past it meanwhile; the new holding
    /// delivers from the committed position again.
    fn holding(&self, partition: u32) -> Option<u64>;

    /// Whether this subscription holds `partition` now.
    fn holds(&self, partition: u32) -> bool {
        self.holding(partition).is_some()
    }

    /// Marks the record at `position`, and everything before it on its partition, as done.
    async fn commit(&self, position: LogPosition) -> Result<(), LogError>;

    /// Asks the log to deliver no more records of `partition` until [`resume`](Self::resume):
    /// the reader has as many of its records waiting as it takes, and must go on reading the
    /// other partitions. A hint: records of it may still come (a log that holds each
    /// partition's next record back until a commit has nothing to pause; a rebalance lifts a
    /// pause), and the reader keeps them in order. Nothing is skipped: after `resume`, delivery
    /// goes on after the last record of the partition delivered.
    fn pause(&self, partition: u32);

    /// Lets records of `partition` come again after [`pause`](Self::pause); harmless when it
    /// is not paused.
    fn resume(&self, partition: u32);

    /// Per partition held: how many records were appended but not committed yet, when the log
    /// knows (for the consumer-lag gauge).
    fn lag(&self) -> Vec<(u32, u64)>;
}
