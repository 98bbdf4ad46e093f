//! A MongoDB server of the test's own, which the test may kill and bring back.
//!
//! Outage and crash tests must stop the database under a running app without disturbing the
//! tests running beside them, so each starts a private SecantusDB (a MongoDB wire-protocol
//! server; see `scripts/mongo-test-server.sh`, which installs it into a cache on first use)
//! with a state directory of its own. `kill` is a SIGKILL: no clean shutdown, exactly a crash.

use std::path::PathBuf;
use std::process::{Command, Output};

/// `scripts/mongo-test-server.sh`.
const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../scripts/mongo-test-server.sh"
);

/// A private SecantusDB process, stopped (and its storage deleted) when dropped.
#[derive(Debug)]
pub struct PrivateMongoServer {
    state_dir: PathBuf,
    uri: String,
}

impl PrivateMongoServer {
    /// Starts a server on a free port with empty on-disk storage, and waits until it listens.
    pub async fn start() -> PrivateMongoServer {
        let state_dir = std::env::temp_dir().join(format!(
            "payment-server-private-mongo-{}",
            domain::PaymentId::generate()
        ));
        let mut server = PrivateMongoServer {
            state_dir,
            uri: String::new(),
        };
        let output = server.run("start").await;
        server.uri = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        server
    }

    /// `mongodb://127.0.0.1:PORT/?directConnection=true`.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// Kills the server with SIGKILL; the port and the storage stay for [`Self::resume`].
    pub async fn kill(&self) {
        self.run("kill").await;
    }

    /// Starts the server again on the same port and storage, and waits until it listens.
    pub async fn resume(&self) {
        self.run("resume").await;
    }

    /// Freezes the server (SIGSTOP): connections stay open and nothing answers, as with a
    /// database that hangs.
    pub async fn pause(&self) {
        self.run("pause").await;
    }

    /// Lets a paused server run again (SIGCONT).
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
            "mongo-test-server.sh {command} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }
}

impl Drop for PrivateMongoServer {
    fn drop(&mut self) {
        // Its data is thrown away: a SIGKILL saves the seconds of a clean WiredTiger shutdown.
        let stopped = ["kill", "stop"].into_iter().all(|command| {
            Command::new(SCRIPT)
                .arg(command)
                .env("STATE_DIR", &self.state_dir)
                .output()
                .is_ok_and(|output| output.status.success())
        });
        if !stopped {
            eprintln!(
                "private MongoDB server in {} may still run",
                self.state_dir.display()
            );
        }
        let _ = std::fs::remove_dir_all(&self.state_dir);
    }
}
