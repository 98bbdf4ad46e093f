//! A Kafka broker of the test's own, which the test may kill, freeze and bring back.
//!
//! Outage tests must stop the broker under a running log without disturbing the tests running
//! beside them, so each starts a private tansu broker (see `scripts/kafka-test-server.sh`,
//! which installs it into a cache on first use) with a state directory of its own. `kill` is a
//! SIGKILL: no clean shutdown, exactly a crash. tansu keeps its storage in memory, so a broker
//! brought back by `resume` is empty: no topics, no committed offsets.

use std::path::PathBuf;
use std::process::{Command, Output};

/// `scripts/kafka-test-server.sh`.
const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../scripts/kafka-test-server.sh"
);

/// A private tansu process, stopped when dropped.
#[derive(Debug)]
pub struct PrivateKafkaServer {
    state_dir: PathBuf,
    bootstrap: String,
}

impl PrivateKafkaServer {
    /// Starts a broker on a free port and waits until it listens.
    pub async fn start() -> PrivateKafkaServer {
        let state_dir = std::env::temp_dir().join(format!(
            "payment-server-private-kafka-{}",
            domain::PaymentId::generate()
        ));
        let mut server = PrivateKafkaServer {
            state_dir,
            bootstrap: String::new(),
        };
        let output = server.run("start").await;
        server.bootstrap = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        server
    }

    /// `127.0.0.1:PORT`.
    pub fn bootstrap(&self) -> &str {
        &self.bootstrap
    }

    /// Kills the broker with SIGKILL; the port stays for [`Self::resume`].
    pub async fn kill(&self) {
        self.run("kill").await;
    }

    /// Starts the broker again on the same port (empty), and waits until it listens.
    pub async fn resume(&self) {
        self.run("resume").await;
    }

    /// Freezes the broker (SIGSTOP): connections stay open and nothing answers, as with a
    /// broker that hangs.
    pub async fn pause(&self) {
        self.run("pause").await;
    }

    /// Lets a paused broker run again (SIGCONT).
    pub async fn unpause(&self) {
        self.run("unpause").await;
    }

    async fn run(&self, command: &'static str) -> Output {
        let mut script = Command::new(SCRIPT);
        script.arg(command).env("STATE_DIR", &self.state_dir);
        let output = tokio::task::spawn_blocking(move || script.output())
            .await
            .expect("the script runner finishes")
            .unwrap_or_else(|e| panic!("cannot run {SCRIPT}: {e}"));
        assert!(
            output.status.success(),
            "kafka-test-server.sh {command} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }
}

impl Drop for PrivateKafkaServer {
    fn drop(&mut self) {
        let stopped = Command::new(SCRIPT)
            .arg("stop")
            .env("STATE_DIR", &self.state_dir)
            .output()
            .is_ok_and(|output| output.status.success());
        if !stopped {
            eprintln!(
                "private Kafka broker in {} may still run",
                self.state_dir.display()
            );
        }
        let _ = std::fs::remove_dir_all(&self.state_dir);
    }
}
