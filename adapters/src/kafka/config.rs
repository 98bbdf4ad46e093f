//! Where the Kafka command log connects, and the librdkafka settings derived from it.

use std::fmt;
use std::time::Duration;

use rdkafka::config::RDKafkaLogLevel;
use rdkafka::ClientConfig;
use tracing::level_filters::LevelFilter;
use tracing::Level;

/// The largest command the producer sends (librdkafka's own default is 1,000,000 bytes, under
/// the API's default 1 MiB body limit): the storage's 16 MiB document limit plus the command's
/// envelope.
const MAX_MESSAGE_BYTES: usize = 17 << 20;
/// Settings of a [`KafkaCommandLog`](super::KafkaCommandLog).
///
/// The defaults: a local broker, topic `payment-commands` created with 32 partitions when
/// missing, consumer group `payment-workers`, 5 s to acknowledge an append, no linger, a 10 s
/// group session with a 3 s heartbeat, fetches held at most 500 ms, client id `payment-server`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaConfig {
    /// The bootstrap brokers, `host:port[,host:port...]`.
    pub brokers: String,
    /// The topic commands are appended to and read from.
    pub topic: String,
    /// The partition count the topic is created with, when the log creates it. An existing
    /// topic keeps its own count, whatever this says (see the module docs: a live topic's count
    /// must never change).
    pub partitions: u32,
    /// The replication factor the topic is created with; `None` leaves it to the broker's
    /// `default.replication.factor`.
    pub replication_factor: Option<u16>,
    /// The consumer group the subscriptions join.
    pub group: String,
    /// The longest an append waits for the broker's acknowledgement (librdkafka's
    /// `message.timeout.ms`): past it the append is [`LogError::Unavailable`](domain::LogError).
    pub append_timeout: Duration,
    /// How long the producer waits to batch records before sending (`linger.ms`). Zero sends at
    /// once: the lowest latency per append, and the best throughput against tansu.
    pub linger: Duration,
    /// How long the group waits for a silent member before giving its partitions to others
    /// (`session.timeout.ms`). Kafka brokers refuse values under their
    /// `group.min.session.timeout.ms` (6 s by default).
    pub session_timeout: Duration,
    /// How often a member tells the group it is alive (`heartbeat.interval.ms`); below a third
    /// of the session timeout.
    pub heartbeat_interval: Duration,
    /// The longest the broker may hold a fetch that found no records (`fetch.wait.max.ms`).
    /// Kafka answers as soon as a record arrives, so this only paces idle polling; tansu 0.6
    /// holds every fetch for the whole wait, which adds half of it on average to each record's
    /// delivery (measured: 250 ms at 500 ms, 12 ms at 20 ms), so tests use a short one.
    pub fetch_wait: Duration,
    /// The client id the broker sees in its logs and quotas.
    pub client_id: String,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        Self {
            brokers: "127.0.0.1:9092".into(),
            topic: "payment-commands".into(),
            partitions: 32,
            replication_factor: None,
            group: "payment-workers".into(),
            append_timeout: Duration::from_secs(5),
            linger: Duration::ZERO,
            session_timeout: Duration::from_secs(10),
            heartbeat_interval: Duration::from_secs(3),
            fetch_wait: Duration::from_millis(500),
            client_id: "payment-server".into(),
        }
    }
}

/// A Kafka configuration that can never work (the broker's state does not matter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaSetupError(String);

impl fmt::Display for KafkaSetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Kafka configuration: {}", self.0)
    }
}

impl std::error::Error for KafkaSetupError {}

pub(super) fn refuse(message: impl Into<String>) -> KafkaSetupError {
    KafkaSetupError(message.into())
}

/// How often librdkafka reports the consumer's statistics, where `lag` reads the high
/// watermarks of the partitions held (librdkafka's granularity is one second).
const STATISTICS_INTERVAL: Duration = Duration::from_secs(1);

impl KafkaConfig {
    /// Checks what librdkafka would only refuse later, or never (a topic name the broker
    /// rejects, a zero timeout), so a typo fails at start-up.
    pub(super) fn check(&self) -> Result<(), KafkaSetupError> {
        if self.brokers.trim().is_empty() {
            return Err(refuse("the broker list must not be empty"));
        }
        check_topic_name(&self.topic)?;
        if self.partitions == 0 || i32::try_from(self.partitions).is_err() {
            return Err(refuse("the partition count must be 1 to 2^31-1"));
        }
        if self
            .replication_factor
            .is_some_and(|factor| factor == 0 || i16::try_from(factor).is_err())
        {
            return Err(refuse("the replication factor must be 1 to 32767"));
        }
        if self.group.trim().is_empty() {
            return Err(refuse("the consumer group must not be empty"));
        }
        if millis(self.append_timeout) == 0 {
            return Err(refuse("the append timeout must be at least 1 ms"));
        }
        if millis(self.heartbeat_interval) == 0 || self.heartbeat_interval >= self.session_timeout {
            return Err(refuse(
                "the heartbeat interval must be at least 1 ms and below the session timeout",
            ));
        }
        Ok(())
    }

    /// Settings every client of the log shares.
    fn common(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config
            .set_log_level(log_level())
            .set("bootstrap.servers", &self.brokers)
            .set("client.id", &self.client_id)
            // Outages must be noticed and left quickly: reconnect at most a second apart.
            .set("reconnect.backoff.max.ms", "1000");
        config
    }

    /// The producer: idempotent, acknowledged by every in-sync replica, Java-compatible key
    /// placement, and a delivery report (success or failure) within the append timeout.
    pub(super) fn producer(&self) -> ClientConfig {
        let mut config = self.common();
        config
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("partitioner", "murmur2_random")
            .set(
                "message.timeout.ms",
                millis(self.append_timeout).to_string(),
            )
            .set("linger.ms", millis(self.linger).to_string())
            // A command is about its request body; the largest a body may be raised to is the
            // storage's document limit (MongoDB: 16 MiB). A broker whose own limit is lower
            // refuses larger ones, which the API answers with 413.
            .set("message.max.bytes", MAX_MESSAGE_BYTES.to_string())
            // Only the log creates its topic, with the configured partition count: a broker
            // with auto-creation on would create it with its default count.
            .set("allow.auto.create.topics", "false");
        config
    }

    /// The admin client that creates the topic and reads its metadata.
    pub(super) fn admin(&self) -> ClientConfig {
        let mut config = self.common();
        // Asking for a missing topic's metadata must not create it with the broker's defaults.
        config.set("allow.auto.create.topics", "false");
        config
    }

    /// A group member that reads from the committed offsets and commits only what it is told.
    pub(super) fn consumer(&self) -> ClientConfig {
        let mut config = self.common();
        config
            .set("group.id", &self.group)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            // A group with no committed offset starts at the beginning: never skip a command.
            .set("auto.offset.reset", "earliest")
            .set("fetch.wait.max.ms", millis(self.fetch_wait).to_string())
            .set("allow.auto.create.topics", "false")
            .set(
                "session.timeout.ms",
                millis(self.session_timeout).to_string(),
            )
            .set(
                "heartbeat.interval.ms",
                millis(self.heartbeat_interval).to_string(),
            )
            .set(
                "statistics.interval.ms",
                millis(STATISTICS_INTERVAL).to_string(),
            );
        config
    }
}

/// librdkafka's log level: as verbose as `tracing` lets through now (rdkafka would otherwise
/// ask the `log` crate, which this crate does not set up).
fn log_level() -> RDKafkaLogLevel {
    match LevelFilter::current().into_level() {
        Some(Level::TRACE | Level::DEBUG) => RDKafkaLogLevel::Debug,
        Some(Level::INFO) => RDKafkaLogLevel::Info,
        Some(Level::WARN) => RDKafkaLogLevel::Warning,
        Some(Level::ERROR) | None => RDKafkaLogLevel::Error,
    }
}

/// Kafka's topic naming rule: 1 to 249 of `[a-zA-Z0-9._-]`, and not `.` or `..`.
fn check_topic_name(topic: &str) -> Result<(), KafkaSetupError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if topic.is_empty() || topic.len() > 249 || topic == "." || topic == ".." {
        return Err(refuse(format!(
            "the topic name {topic:?} must be 1 to 249 characters, not \".\" or \"..\""
        )));
    }
    if !topic.chars().all(allowed) {
        return Err(refuse(format!(
            "the topic name {topic:?} may only hold ASCII letters, digits, '.', '_' and '-'"
        )));
    }
    Ok(())
}

/// A duration in whole milliseconds, saturating (librdkafka takes milliseconds as text).
pub(super) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(adjust: impl FnOnce(&mut KafkaConfig)) -> KafkaConfig {
        let mut config = KafkaConfig::default();
        adjust(&mut config);
        config
    }

    #[test]
    fn the_defaults_are_valid() {
        assert_eq!(KafkaConfig::default().check(), Ok(()));
    }

    #[test]
    fn settings_that_can_never_work_are_refused() {
        for config in [
            with(|c| c.brokers = " ".into()),
            with(|c| c.topic = String::new()),
            with(|c| c.topic = "..".into()),
            with(|c| c.topic = "payment commands".into()),
            with(|c| c.topic = "t".repeat(250)),
            with(|c| c.partitions = 0),
            with(|c| c.partitions = u32::MAX),
            with(|c| c.replication_factor = Some(0)),
            with(|c| c.group = String::new()),
            with(|c| c.append_timeout = Duration::from_micros(10)),
            with(|c| c.heartbeat_interval = c.session_timeout),
        ] {
            assert!(config.check().is_err(), "{config:?}");
        }
    }

    #[test]
    fn the_producer_is_idempotent_acknowledged_by_all_and_bounded_by_the_append_timeout() {
        let producer = with(|c| c.append_timeout = Duration::from_millis(1500)).producer();
        assert_eq!(producer.get("enable.idempotence"), Some("true"));
        assert_eq!(producer.get("acks"), Some("all"));
        assert_eq!(producer.get("partitioner"), Some("murmur2_random"));
        assert_eq!(producer.get("message.timeout.ms"), Some("1500"));
        assert_eq!(producer.get("linger.ms"), Some("0"));
    }

    #[test]
    fn the_consumer_commits_only_when_told_and_starts_a_new_group_at_the_beginning() {
        let consumer = KafkaConfig::default().consumer();
        assert_eq!(consumer.get("enable.auto.commit"), Some("false"));
        assert_eq!(consumer.get("enable.auto.offset.store"), Some("false"));
        assert_eq!(consumer.get("auto.offset.reset"), Some("earliest"));
        assert_eq!(consumer.get("group.id"), Some("payment-workers"));
    }
}
