//! Where the NATS command log connects, and the names and limits derived from it.

use std::fmt;
use std::time::Duration;

/// Settings of a [`NatsCommandLog`](super::NatsCommandLog).
///
/// The defaults: a local server, stream `PAYMENT_COMMANDS` on subjects `payments.commands.*`
/// created with 32 partitions and one replica when missing, 5 s to acknowledge an append, 10 s
/// before a silent worker's partitions and unacknowledged commands move to another, a command
/// given up after 5 deliveries to workers that died with it, a 2-minute deduplication window,
/// client name `payment-server`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatsConfig {
    /// The server URLs, `nats://host:port[,nats://host:port...]`.
    pub url: String,
    /// The JetStream stream commands are appended to and read from.
    pub stream: String,
    /// The subject prefix: commands are published on `<subject>.<key>` and stored on
    /// `<subject>.<partition>.<key>` by the stream's subject transform.
    pub subject: String,
    /// The partition count the stream is created with, when the log creates it. An existing
    /// stream keeps its own count, whatever this says (see the module docs: a live stream's
    /// count must never change).
    pub partitions: u32,
    /// The replicas of the stream (and its consumers) in a cluster, when the log creates it.
    pub replicas: u8,
    /// The longest an append waits for the stream's acknowledgement: past it the append is
    /// [`LogError::Unavailable`](domain::LogError).
    pub append_timeout: Duration,
    /// How long a worker that stopped answering keeps its partitions (the consumers' pin
    /// timeout) and the command it was applying (their `ack_wait`) before another worker gets
    /// them. A live worker keeps both however long a command takes.
    pub ack_wait: Duration,
    /// How many times a command is delivered to workers that stop before finishing it; the
    /// delivery after that records it rejected (`internal_error`) instead of applying it.
    pub max_deliver: u32,
    /// How long the stream remembers a record's id to store a retried append once.
    pub duplicate_window: Duration,
    /// The client name the server shows in its connection list.
    pub client_name: String,
}

impl Default for NatsConfig {
    fn default() -> Self {
        Self {
            url: "nats://127.0.0.1:4222".into(),
            stream: "PAYMENT_COMMANDS".into(),
            subject: "payments.commands".into(),
            partitions: 32,
            replicas: 1,
            append_timeout: Duration::from_secs(5),
            ack_wait: Duration::from_secs(10),
            max_deliver: 5,
            duplicate_window: Duration::from_secs(120),
            client_name: "payment-server".into(),
        }
    }
}

/// A NATS configuration that can never work (the server's state does not matter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatsSetupError(String);

impl fmt::Display for NatsSetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NATS configuration: {}", self.0)
    }
}

impl std::error::Error for NatsSetupError {}

pub(super) fn refuse(message: impl Into<String>) -> NatsSetupError {
    NatsSetupError(message.into())
}

/// The most partitions a stream may be created with: one durable consumer each.
const MAX_PARTITIONS: u32 = 1024;
/// The priority group the workers pull in (pinned-client policy).
pub(super) const PRIORITY_GROUP: &str = "workers";

impl NatsConfig {
    /// Checks what the server would only refuse later, so a typo fails at start-up.
    pub(super) fn check(&self) -> Result<(), NatsSetupError> {
        if self.url.trim().is_empty() {
            return Err(refuse("the server URL must not be empty"));
        }
        if self.stream.is_empty() || self.stream.len() > 200 || !self.stream.chars().all(safe) {
            return Err(refuse(format!(
                "the stream name {:?} must be 1 to 200 ASCII letters, digits, '_' or '-'",
                self.stream
            )));
        }
        if self.subject.is_empty() || !self.subject.split('.').all(is_plain_token) {
            return Err(refuse(format!(
                "the subject {:?} must be dot-separated tokens of ASCII letters, digits, '_' \
                 or '-'",
                self.subject
            )));
        }
        if !(1..=MAX_PARTITIONS).contains(&self.partitions) {
            return Err(refuse(format!(
                "the partition count must be 1 to {MAX_PARTITIONS}"
            )));
        }
        if !(1..=5).contains(&self.replicas) {
            return Err(refuse("the replica count must be 1 to 5"));
        }
        if self.append_timeout < Duration::from_millis(1) {
            return Err(refuse("the append timeout must be at least 1 ms"));
        }
        if self.ack_wait < Duration::from_millis(500) {
            return Err(refuse("the acknowledgement wait must be at least 500 ms"));
        }
        if self.max_deliver == 0 {
            return Err(refuse("max_deliver must be at least 1"));
        }
        if self.duplicate_window < self.append_timeout {
            return Err(refuse(
                "the duplicate window must be at least the append timeout, or a retried append \
                 could be stored twice",
            ));
        }
        Ok(())
    }

    /// The subjects clients publish on.
    pub(super) fn published_subjects(&self) -> String {
        format!("{}.*", self.subject)
    }

    /// The stored subject of a partition's records (a consumer's filter).
    pub(super) fn partition_subjects(&self, partition: u32) -> String {
        format!("{}.{partition}.*", self.subject)
    }

    /// The subject transform's destination: the server's own deterministic partitioning.
    pub(super) fn transform_destination(&self) -> String {
        format!(
            "{}.{{{{partition({},1)}}}}.{{{{wildcard(1)}}}}",
            self.subject, self.partitions
        )
    }

    /// Where the members of the workers' group say they are alive (core NATS, outside the
    /// stream).
    pub(super) fn presence_subject(&self) -> String {
        format!("_PAYMENTS_LOG.{}.members", self.stream)
    }

    /// How long a pull request waits: well below the pin timeout, so a live worker renews its
    /// pin in time.
    pub(super) fn pull_expiry(&self) -> Duration {
        self.ack_wait / 4
    }
}

/// The durable consumer of `partition`.
pub(super) fn consumer_name(partition: u32) -> String {
    format!("partition-{partition}")
}

fn safe(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-')
}

/// A subject token of the safe characters only.
pub(super) fn is_plain_token(token: &str) -> bool {
    !token.is_empty() && token.chars().all(safe)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(adjust: impl FnOnce(&mut NatsConfig)) -> NatsConfig {
        let mut config = NatsConfig::default();
        adjust(&mut config);
        config
    }

    #[test]
    fn the_defaults_are_valid() {
        assert_eq!(NatsConfig::default().check(), Ok(()));
    }

    #[test]
    fn settings_that_can_never_work_are_refused() {
        for config in [
            with(|c| c.url = " ".into()),
            with(|c| c.stream = String::new()),
            with(|c| c.stream = "payment.commands".into()),
            with(|c| c.subject = "payments.*".into()),
            with(|c| c.subject = "payments..commands".into()),
            with(|c| c.partitions = 0),
            with(|c| c.partitions = MAX_PARTITIONS + 1),
            with(|c| c.replicas = 0),
            with(|c| c.replicas = 6),
            with(|c| c.append_timeout = Duration::from_micros(10)),
            with(|c| c.ack_wait = Duration::from_millis(10)),
            with(|c| c.max_deliver = 0),
            with(|c| c.duplicate_window = Duration::from_secs(1)),
        ] {
            assert!(config.check().is_err(), "{config:?}");
        }
    }

    #[test]
    fn the_stream_partitions_by_the_first_wildcard_of_the_published_subject() {
        let config = NatsConfig::default();
        assert_eq!(config.published_subjects(), "payments.commands.*");
        assert_eq!(
            config.transform_destination(),
            "payments.commands.{{partition(32,1)}}.{{wildcard(1)}}"
        );
        assert_eq!(config.partition_subjects(7), "payments.commands.7.*");
    }
}
