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
    /// The record is larger than the log takes: a smaller one may succeed, a retry cannot.
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
}

/// A partitioned command log.
///
/// Contract (checked by `adapters`' log contract suite on every adapter):
/// - `append` returns only after the log stored the record durably, as the log defines it
///   (Kafka: `acks=all` on an idempotent producer); a log that does not answer within the
///   adapter's configured bound MUST be [`LogError::Unavailable`], never a hang and never `Ok`.
/// - Records with the same key always land on the same partition, and within a partition they
///   are read in the order they were appended.
/// - Readers of one group share the partitions: each partition is read by one subscription at a
///   time, from the group's committed position.
#[async_trait]
pub trait CommandLog: Send + Sync {
    /// Appends `payload` under `key` and returns where it was stored.
    async fn append(&self, key: &[u8], payload: &[u8]) -> Result<LogPosition, LogError>;

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
#[async_trait]
pub trait LogSubscription: Send + Sync {
    /// The next record of any partition held, waiting at most `wait`; `None` when none came.
    /// Concurrent callers each get different records.
    async fn next(&self, wait: Duration) -> Result<Option<LogRecord>, LogError>;

    /// Whether this subscription still holds `partition` (a rebalance may have given it to
    /// another member: records of it read before that must not be applied any more).
    fn holds(&self, partition: u32) -> bool;

    /// Marks the record at `position`, and everything before it on its partition, as done.
    async fn commit(&self, position: LogPosition) -> Result<(), LogError>;

    /// Per partition held: how many records were appended but not committed yet, when the log
    /// knows (for the consumer-lag gauge).
    fn lag(&self) -> Vec<(u32, u64)>;
}
