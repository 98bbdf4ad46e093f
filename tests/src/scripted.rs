//! A test server of the test's own, run by one of the repository's `scripts/*-test-server.sh`
//! (they install the server into a cache on first use), which the test may kill, freeze and
//! bring back without disturbing the tests running beside it.
//!
//! Every script takes the same commands: `start` prints the address to connect to; `kill` is
//! a SIGKILL (no clean shutdown, exactly a crash); `resume` starts it again on the same port;
//! `pause`/`unpause` are SIGSTOP/SIGCONT; `stop` is idempotent.

use std::path::PathBuf;
use std::process::{Command, Output};

/// A private server process with a state directory of its own, stopped (with its storage
/// deleted) when dropped.
#[derive(Debug)]
pub struct ScriptedServer {
    script: String,
    state_dir: PathBuf,
    address: String,
}

impl ScriptedServer {
    /// Starts the server of `scripts/{script}` on a free port and waits until it listens.
    pub async fn start(script: &str) -> ScriptedServer {
        let state_dir = std::env::temp_dir().join(format!(
            "payment-server-private-{script}-{}",
            domain::PaymentId::generate()
        ));
        let mut server = ScriptedServer {
            script: format!("{}/../scripts/{script}", env!("CARGO_MANIFEST_DIR")),
            state_dir,
            address: String::new(),
        };
        let output = server.run("start").await;
        server.address = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        server
    }

    /// What `start` printed: the address clients connect to.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Kills the server with SIGKILL; the port (and whatever storage the server keeps on
    /// disk) stays for [`Self::resume`].
    pub async fn kill(&self) {
        self.run("kill").await;
    }

    /// Starts the server again on the same port, and waits until it listens.
    pub async fn resume(&self) {
        self.run("resume").await;
    }

    /// Freezes the server (SIGSTOP): connections stay open and nothing answers, as with a
    /// server that hangs.
    pub async fn pause(&self) {
        self.run("pause").await;
    }

    /// Lets a paused server run again (SIGCONT).
    pub async fn unpause(&self) {
        self.run("unpause").await;
    }

    async fn run(&self, command: &'static str) -> Output {
        let mut script = Command::new(&self.script);
        script.arg(command).env("STATE_DIR", &self.state_dir);
        let output = tokio::task::spawn_blocking(move || script.output())
            .await
            .expect("the script runner finishes")
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.script));
        assert!(
            output.status.success(),
            "{} {command} failed: {}",
            self.script,
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        // Its data is thrown away: a SIGKILL saves the seconds of a clean shutdown.
        let stopped = ["kill", "stop"].into_iter().all(|command| {
            Command::new(&self.script)
                .arg(command)
                .env("STATE_DIR", &self.state_dir)
                .output()
                .is_ok_and(|output| output.status.success())
        });
        if !stopped {
            eprintln!(
                "the private server of {} in {} may still run",
                self.script,
                self.state_dir.display()
            );
        }
        let _ = std::fs::remove_dir_all(&self.state_dir);
    }
}
