//! A Kafka broker of the test's own, which the test may kill, freeze and bring back.
//!
//! Outage tests must stop the broker under a running log without disturbing the tests running
//! beside them, so each starts a private tansu broker (see `scripts/kafka-test-server.sh`)
//! with a state directory of its own. tansu keeps its storage in memory, so a broker brought
//! back by `resume` is empty: no topics, no committed offsets.

use std::ops::Deref;

use crate::scripted::ScriptedServer;

/// A private tansu process, stopped when dropped; [`ScriptedServer`]'s `kill`, `resume`,
/// `pause` and `unpause` act on it.
#[derive(Debug)]
pub struct PrivateKafkaServer(ScriptedServer);

impl PrivateKafkaServer {
    /// Starts a broker on a free port and waits until it listens.
    pub async fn start() -> PrivateKafkaServer {
        PrivateKafkaServer(ScriptedServer::start("kafka-test-server.sh").await)
    }

    /// `127.0.0.1:PORT`.
    pub fn bootstrap(&self) -> &str {
        self.0.address()
    }
}

impl Deref for PrivateKafkaServer {
    type Target = ScriptedServer;

    fn deref(&self) -> &ScriptedServer {
        &self.0
    }
}
