//! A real NATS server with JetStream for the command log tests, and a fresh stream on it for
//! each test.
//!
//! The server is `NATS_URL` when set (`scripts/test.sh` sets it to the nats-server it
//! provisions, see `scripts/nats-test-server.sh`), else a server answering on
//! `127.0.0.1:4222`; with neither, the test fails and says to run `scripts/test.sh`. Tests that
//! must kill the server itself start a private one ([`PrivateNatsServer`]).

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use adapters::{NatsCommandLog, NatsConfig};
use domain::CommandLog;

const NO_NATS: &str = "no NATS server for the NATS tests: set NATS_URL, start nats-server -js on \
127.0.0.1:4222, or run every test with scripts/test.sh, which provisions one";

/// The append bound of the logs these tests open.
pub const APPEND_TIMEOUT: Duration = Duration::from_secs(5);
/// The append bound of [`unreachable_log`]: short, so the outage case is quick.
pub const UNREACHABLE_APPEND_TIMEOUT: Duration = Duration::from_millis(1_000);
/// Partitions of the test streams: several, so keys spread, and few, so groups settle fast.
pub const TEST_PARTITIONS: u32 = 8;
/// The acknowledgement wait (and pin timeout) of the test streams: short, so failovers are.
pub const TEST_ACK_WAIT: Duration = Duration::from_secs(2);

/// The URL of the test server (see the module docs).
pub fn server_url() -> String {
    match std::env::var("NATS_URL") {
        Ok(url) if !url.trim().is_empty() => url,
        _ => {
            let local = SocketAddr::from(([127, 0, 0, 1], 4222));
            if TcpStream::connect_timeout(&local, Duration::from_millis(500)).is_ok() {
                format!("nats://{local}")
            } else {
                panic!("{NO_NATS}")
            }
        }
    }
}

/// Test settings on `url`: a stream and subjects no other test uses, short failovers.
pub fn test_config(url: &str) -> NatsConfig {
    let unique = domain::PaymentId::generate().as_uuid().simple().to_string();
    NatsConfig {
        url: url.to_owned(),
        stream: format!("TEST_COMMANDS_{unique}"),
        subject: format!("test.{unique}.commands"),
        partitions: TEST_PARTITIONS,
        append_timeout: APPEND_TIMEOUT,
        ack_wait: TEST_ACK_WAIT,
        client_name: "payment-server-tests".into(),
        ..NatsConfig::default()
    }
}

/// Points a server's `--broker` at the stream `nats` describes (its URL, stream and subject),
/// with 4 partitions and the tests' short acknowledgement wait.
pub fn configure(config: &mut app::Config, nats: NatsConfig) {
    config.broker = app::config::BrokerKind::Nats;
    config.nats_url = nats.url;
    config.nats_stream = nats.stream;
    config.nats_subject = nats.subject;
    config.nats_partitions = 4;
    config.nats_ack_wait_ms = u64::try_from(TEST_ACK_WAIT.as_millis()).unwrap_or(u64::MAX);
}

/// A log on `config`, its stream created.
pub async fn open_log(config: &NatsConfig) -> NatsCommandLog {
    let log = NatsCommandLog::open(config)
        .await
        .expect("the NATS log opens");
    log.ensure_stream()
        .await
        .unwrap_or_else(|e| panic!("cannot create a stream on {}: {e}; {NO_NATS}", config.url));
    log
}

/// A fresh, empty log on the test server: what the contract suite runs against.
pub async fn fresh_log() -> Arc<dyn CommandLog> {
    Arc::new(open_log(&test_config(&server_url())).await)
}

/// A log whose server cannot be reached (nothing listens on its port), with
/// [`UNREACHABLE_APPEND_TIMEOUT`] as its bound.
pub async fn unreachable_log() -> Arc<dyn CommandLog> {
    let mut config = test_config("nats://127.0.0.1:1");
    config.append_timeout = UNREACHABLE_APPEND_TIMEOUT;
    Arc::new(
        NatsCommandLog::open(&config)
            .await
            .expect("a log opens without a server"),
    )
}

/// A nats-server of one test's own, on its own store (`scripts/nats-test-server.sh` with a
/// private `STATE_DIR`), so the test can kill and restart it; stopped and deleted when dropped.
pub struct PrivateNatsServer {
    state_dir: PathBuf,
    url: String,
}

impl PrivateNatsServer {
    /// Starts a fresh server.
    pub fn start() -> PrivateNatsServer {
        let unique = domain::PaymentId::generate().as_uuid().simple().to_string();
        let state_dir = std::env::temp_dir().join(format!("nats-test-{unique}"));
        let mut server = PrivateNatsServer {
            state_dir,
            url: String::new(),
        };
        server.url = server.script("start");
        server
    }

    /// `nats://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// SIGKILL: no shutdown, the store left as the crash left it.
    pub fn kill(&self) {
        self.script("kill");
    }

    /// Starts it again on the same port and store, and waits until it is ready.
    pub fn resume(&self) {
        self.script("resume");
    }

    fn script(&self, command: &str) -> String {
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/nats-test-server.sh");
        let output = Command::new(script)
            .arg(command)
            .env("STATE_DIR", &self.state_dir)
            .output()
            .expect("scripts/nats-test-server.sh runs");
        assert!(
            output.status.success(),
            "nats-test-server.sh {command} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }
}

impl Drop for PrivateNatsServer {
    fn drop(&mut self) {
        let _ = std::panic::catch_unwind(|| self.script("stop"));
        let _ = std::fs::remove_dir_all(&self.state_dir);
    }
}
