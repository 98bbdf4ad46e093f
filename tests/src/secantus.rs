//! A MongoDB server of the test's own, which the test may kill and bring back.
//!
//! Outage and crash tests must stop the database under a running app without disturbing the
//! tests running beside them, so each starts a private SecantusDB (a MongoDB wire-protocol
//! server; see `scripts/mongo-test-server.sh`, which installs it into a cache on first use)
//! with a state directory of its own. `kill` is a SIGKILL: no clean shutdown, exactly a crash.

use std::ops::Deref;

use crate::scripted::ScriptedServer;

/// A private SecantusDB process, stopped (and its storage deleted) when dropped;
/// [`ScriptedServer`]'s `kill`, `resume`, `pause` and `unpause` act on it.
#[derive(Debug)]
pub struct PrivateMongoServer(ScriptedServer);

impl PrivateMongoServer {
    /// Starts a server on a free port with empty on-disk storage, and waits until it listens.
    pub async fn start() -> PrivateMongoServer {
        PrivateMongoServer(ScriptedServer::start("mongo-test-server.sh").await)
    }

    /// `mongodb://127.0.0.1:PORT/?directConnection=true`.
    pub fn uri(&self) -> &str {
        self.0.address()
    }
}

impl Deref for PrivateMongoServer {
    type Target = ScriptedServer;

    fn deref(&self) -> &ScriptedServer {
        &self.0
    }
}
