//! A real Kafka-compatible broker for the command log tests, and a fresh topic and consumer
//! group on it for each test.
//!
//! The broker is `KAFKA_BOOTSTRAP_SERVERS` when set (`scripts/test.sh` sets it to the tansu
//! test server it provisions, see `scripts/kafka-test-server.sh`), else a broker answering on
//! `127.0.0.1:9092`; with neither, the test fails and says to run `scripts/test.sh`. Tests that
//! must stop the broker itself use a private broker of their own instead.

use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use adapters::{KafkaCommandLog, KafkaConfig};
use domain::CommandLog;

const NO_KAFKA: &str = "no Kafka broker for the Kafka tests: set KAFKA_BOOTSTRAP_SERVERS, start \
a broker on 127.0.0.1:9092, or run every test with scripts/test.sh, which provisions a tansu \
test broker";

/// The append bound of the logs these tests open.
pub const APPEND_TIMEOUT: Duration = Duration::from_secs(5);
/// The append bound of [`unreachable_log`]: short, so the outage case is quick.
pub const UNREACHABLE_APPEND_TIMEOUT: Duration = Duration::from_millis(1_000);
/// Partitions of the test topics: several, so keys spread, and few, so groups settle fast.
pub const TEST_PARTITIONS: u32 = 8;

/// The bootstrap address of the test broker (see the module docs).
pub fn bootstrap_servers() -> String {
    match std::env::var("KAFKA_BOOTSTRAP_SERVERS") {
        Ok(servers) if !servers.trim().is_empty() => servers,
        _ => {
            let local = SocketAddr::from(([127, 0, 0, 1], 9092));
            if TcpStream::connect_timeout(&local, Duration::from_millis(500)).is_ok() {
                local.to_string()
            } else {
                panic!("{NO_KAFKA}")
            }
        }
    }
}

/// Test settings on `brokers`: a topic and a group no other test uses, short group timeouts
/// (tansu's first join takes about half the session timeout; real Kafka brokers refuse
/// sessions under 6 s by default), short fetch waits (see [`KafkaConfig::fetch_wait`]).
pub fn test_config(brokers: &str) -> KafkaConfig {
    let unique = domain::PaymentId::generate().as_uuid().simple().to_string();
    KafkaConfig {
        brokers: brokers.to_owned(),
        topic: format!("test-commands-{unique}"),
        partitions: TEST_PARTITIONS,
        group: format!("test-workers-{unique}"),
        append_timeout: APPEND_TIMEOUT,
        session_timeout: Duration::from_secs(2),
        heartbeat_interval: Duration::from_millis(500),
        // tansu holds each fetch for the whole wait: keep record delivery quick.
        fetch_wait: Duration::from_millis(50),
        client_id: "payment-server-tests".into(),
        ..KafkaConfig::default()
    }
}

/// Points a server's `--broker` at the topic and group `log` describes (its brokers, session
/// timeout and fetch wait), with 4 partitions.
pub fn configure(config: &mut app::Config, log: KafkaConfig) {
    config.broker = app::config::BrokerKind::Kafka;
    config.kafka_brokers = log.brokers;
    config.kafka_topic = log.topic;
    config.kafka_group = log.group;
    config.kafka_partitions = 4;
    config.kafka_session_timeout_ms = millis(log.session_timeout);
    config.kafka_fetch_wait_ms = millis(log.fetch_wait);
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// A log on `config`, its topic created.
pub async fn open_log(config: &KafkaConfig) -> KafkaCommandLog {
    let log = KafkaCommandLog::open(config)
        .await
        .expect("the Kafka log opens");
    log.ensure_topic().await.unwrap_or_else(|e| {
        panic!(
            "cannot create a topic on {}: {e}; {NO_KAFKA}",
            config.brokers
        )
    });
    log
}

/// A fresh, empty log on the test broker: what the contract suite runs against.
pub async fn fresh_log() -> Arc<dyn CommandLog> {
    Arc::new(open_log(&test_config(&bootstrap_servers())).await)
}

/// A log whose broker cannot be reached (nothing listens on its port), with
/// [`UNREACHABLE_APPEND_TIMEOUT`] as its bound.
pub async fn unreachable_log() -> Arc<dyn CommandLog> {
    let mut config = test_config("127.0.0.1:1");
    config.append_timeout = UNREACHABLE_APPEND_TIMEOUT;
    Arc::new(
        KafkaCommandLog::open(&config)
            .await
            .expect("a log opens without a broker"),
    )
}
