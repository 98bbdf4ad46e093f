//! Where and how the MongoDB repository connects.

use std::fmt;
use std::time::Duration;

use mongodb::options::{Acknowledgment, ClientOptions, WriteConcern};
use mongodb::Client;

/// Connection settings of a [`MongoPaymentRepository`](super::MongoPaymentRepository).
///
/// The defaults are the server's documented ones: a local MongoDB, database `payment`,
/// collection `payments`, 2 s to connect and to find a server, 3 s per operation, writes
/// acknowledged by a majority and journaled, at most 256 detached operations, each insert a
/// call of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MongoConfig {
    /// The connection string, e.g. `mongodb://127.0.0.1:27017`. Options in it (replica set,
    /// TLS, credentials) apply, except those set by the fields below, which win.
    pub uri: String,
    /// The database name.
    pub database: String,
    /// The collection name.
    pub collection: String,
    /// How long opening one connection may take.
    pub connect_timeout: Duration,
    /// How long an operation waits for a reachable server before failing as unavailable.
    pub server_selection_timeout: Duration,
    /// The longest one repository call may take, all its round trips included.
    pub operation_timeout: Duration,
    /// The write concern `w`: `majority`, a number of nodes (at least 1) or a tag-set name.
    pub write_concern: String,
    /// Whether writes wait for the on-disk journal (`j: true`).
    pub journal: bool,
    /// Most operations left running after their caller stopped waiting (timed out or gone);
    /// while there are this many, new calls are refused as unavailable. At least 1.
    pub max_detached_operations: usize,
    /// Whether concurrent inserts are written together, in one unordered `insert_many` per batch
    /// instead of one `insert_one` each: what a worker applying a backlog of creates wants (see
    /// [`MongoPaymentRepository`](super::MongoPaymentRepository)). Each insert's answer is the
    /// same either way.
    pub batch_inserts: bool,
}

impl Default for MongoConfig {
    fn default() -> Self {
        Self {
            uri: "mongodb://127.0.0.1:27017".into(),
            database: "payment".into(),
            collection: "payments".into(),
            connect_timeout: Duration::from_secs(2),
            server_selection_timeout: Duration::from_secs(2),
            operation_timeout: Duration::from_secs(3),
            write_concern: "majority".into(),
            journal: true,
            max_detached_operations: 256,
            batch_inserts: false,
        }
    }
}

/// A MongoDB configuration that can never work (the server's state does not matter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MongoSetupError(String);

impl fmt::Display for MongoSetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MongoDB configuration: {}", self.0)
    }
}

impl std::error::Error for MongoSetupError {}

fn refuse(message: impl Into<String>) -> MongoSetupError {
    MongoSetupError(message.into())
}

impl MongoConfig {
    /// A driver client for these settings. Connects lazily: nothing here waits for a server,
    /// except the DNS lookup of a `mongodb+srv://` URI, which is bounded by the timeouts.
    pub(super) async fn client(&self) -> Result<Client, MongoSetupError> {
        self.check_names()?;
        if self.operation_timeout.is_zero() {
            return Err(refuse("the operation timeout must be above zero"));
        }
        if self.max_detached_operations == 0 {
            return Err(refuse(
                "the limit of detached operations must be above zero",
            ));
        }
        let write_concern = WriteConcern::builder()
            .w(self.acknowledgment()?)
            .journal(self.journal)
            .build();
        let lookup = self.connect_timeout + self.server_selection_timeout;
        let mut options = tokio::time::timeout(lookup, ClientOptions::parse(&self.uri))
            .await
            .map_err(|_| refuse(format!("resolving the URI took over {lookup:?}")))?
            .map_err(|e| refuse(format!("invalid URI: {e}")))?;
        options
            .app_name
            .get_or_insert_with(|| "payment-server".into());
        options.connect_timeout = Some(self.connect_timeout);
        options.server_selection_timeout = Some(self.server_selection_timeout);
        options.write_concern = Some(write_concern);
        Client::with_options(options).map_err(|e| refuse(format!("invalid options: {e}")))
    }

    fn acknowledgment(&self) -> Result<Acknowledgment, MongoSetupError> {
        let w = self.write_concern.trim();
        if w.is_empty() {
            return Err(refuse("the write concern must not be empty"));
        }
        match w.parse::<u32>() {
            // An unacknowledged write could be lost while the API reports it stored.
            Ok(0) => Err(refuse("write concern 0 (unacknowledged) is not allowed")),
            Ok(nodes) => Ok(Acknowledgment::Nodes(nodes)),
            Err(_) if w == "majority" => Ok(Acknowledgment::Majority),
            Err(_) => Ok(Acknowledgment::Custom(w.to_owned())),
        }
    }

    /// MongoDB's naming rules, checked up front so a typo fails at start-up, not per request.
    fn check_names(&self) -> Result<(), MongoSetupError> {
        const DATABASE_FORBIDDEN: &[char] = &['/', '\\', '.', ' ', '"', '$', '\0'];
        if self.database.is_empty() || self.database.len() > 63 {
            return Err(refuse("the database name must be 1 to 63 bytes"));
        }
        if self.database.contains(DATABASE_FORBIDDEN) {
            return Err(refuse(format!(
                "the database name {:?} contains one of / \\ . space \" $ NUL",
                self.database
            )));
        }
        if self.collection.is_empty()
            || self.collection.contains(['$', '\0'])
            || self.collection.starts_with("system.")
        {
            return Err(refuse(format!(
                "the collection name {:?} must be non-empty, without $ or NUL, and not start \
                 with \"system.\"",
                self.collection
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(adjust: impl FnOnce(&mut MongoConfig)) -> MongoConfig {
        let mut config = MongoConfig::default();
        adjust(&mut config);
        config
    }

    #[test]
    fn write_concern_accepts_majority_node_counts_and_tags() {
        assert_eq!(
            MongoConfig::default().acknowledgment(),
            Ok(Acknowledgment::Majority)
        );
        assert_eq!(
            with(|c| c.write_concern = "2".into()).acknowledgment(),
            Ok(Acknowledgment::Nodes(2))
        );
        assert_eq!(
            with(|c| c.write_concern = "eastCoast".into()).acknowledgment(),
            Ok(Acknowledgment::Custom("eastCoast".into()))
        );
    }

    #[test]
    fn unacknowledged_or_empty_write_concern_is_refused() {
        assert!(with(|c| c.write_concern = "0".into())
            .acknowledgment()
            .is_err());
        assert!(with(|c| c.write_concern = " ".into())
            .acknowledgment()
            .is_err());
    }

    #[test]
    fn invalid_names_are_refused() {
        for config in [
            with(|c| c.database = String::new()),
            with(|c| c.database = "pay.ment".into()),
            with(|c| c.database = "a".repeat(64)),
            with(|c| c.collection = String::new()),
            with(|c| c.collection = "pay$".into()),
            with(|c| c.collection = "system.payments".into()),
        ] {
            assert!(config.check_names().is_err(), "{config:?}");
        }
        assert_eq!(MongoConfig::default().check_names(), Ok(()));
    }

    #[tokio::test]
    async fn a_client_is_built_without_a_reachable_server() {
        // Port 1 on loopback: nothing listens there; building the client must not care.
        let config = with(|c| c.uri = "mongodb://127.0.0.1:1/?directConnection=true".into());
        assert!(config.client().await.is_ok());
    }

    #[tokio::test]
    async fn a_malformed_uri_is_a_setup_error() {
        let error = with(|c| c.uri = "postgres://localhost".into())
            .client()
            .await
            .unwrap_err();
        assert!(error.to_string().contains("invalid URI"), "{error}");
    }

    #[tokio::test]
    async fn a_zero_operation_timeout_is_refused() {
        let config = with(|c| c.operation_timeout = Duration::ZERO);
        assert!(config.client().await.is_err());
    }
}
