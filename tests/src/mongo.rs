//! A real MongoDB for the tests, and a fresh database on it for each test.
//!
//! The server comes, in order, from:
//! 1. `MONGODB_URI`, when set: every test uses its own database on that server, so tests run in
//!    parallel (`scripts/test.sh` sets it to the SecantusDB server it provisions);
//! 2. a reachable Docker engine (`DOCKER_HOST`, or a connectable `/var/run/docker.sock`):
//!    `testcontainers` starts the official `mongo` image, one container per test, removed when
//!    the test ends;
//! 3. otherwise the test fails and says to run `scripts/test.sh`.
//!
//! Tests that must stop the database itself use [`crate::secantus::PrivateMongoServer`] instead.

use std::sync::Arc;
use std::time::Duration;

use adapters::{MongoCommandStore, MongoConfig, MongoPaymentRepository};
use app::config::StorageKind;
use app::Config;
use async_trait::async_trait;
use domain::{
    CommandId, CommandRecord, CommandStore, InsertOutcome, ListQuery, Page, Payment, PaymentId,
    PaymentRepository, RepositoryError, Timestamp, Version, WriteOutcome,
};
use mongodb::bson::Document;
use mongodb::{Client, Collection};
use testcontainers_modules::mongo::Mongo;
use testcontainers_modules::testcontainers::runners::AsyncRunner;
use testcontainers_modules::testcontainers::ContainerAsync;

const NO_MONGODB: &str = "no MongoDB for the MongoDB tests: set MONGODB_URI, start a Docker \
engine, or run every test with scripts/test.sh, which provisions a SecantusDB test server";

/// A database of its own for one test, on the test MongoDB server.
///
/// A database from [`TestDatabase::create`] is dropped (with its data) when the last handle
/// goes, unless the test failed: a failing test's database is kept for a post-mortem.
#[derive(Debug)]
pub struct TestDatabase {
    uri: String,
    name: String,
    drop_at_end: bool,
    _container: Option<ContainerAsync<Mongo>>,
}

impl TestDatabase {
    /// A fresh database on the test server (see the module docs for where the server comes from).
    pub async fn create() -> Arc<TestDatabase> {
        match std::env::var("MONGODB_URI") {
            Ok(uri) if !uri.trim().is_empty() => {
                let mut database = Self::unmanaged(uri);
                database.drop_at_end = true;
                Arc::new(database)
            }
            _ if docker_available() => Self::in_container().await,
            _ => panic!("{NO_MONGODB}"),
        }
    }

    /// A fresh database on the server at `uri`, left there at the end (for a throw-away server
    /// such as [`crate::secantus::PrivateMongoServer`]).
    pub fn on(uri: impl Into<String>) -> Arc<TestDatabase> {
        Arc::new(Self::unmanaged(uri))
    }

    fn unmanaged(uri: impl Into<String>) -> TestDatabase {
        TestDatabase {
            uri: uri.into(),
            name: unique_name(),
            drop_at_end: false,
            _container: None,
        }
    }

    async fn in_container() -> Arc<TestDatabase> {
        let container = Mongo::default()
            .start()
            .await
            .unwrap_or_else(|e| panic!("cannot start a mongo container: {e}; {NO_MONGODB}"));
        let host = container.get_host().await.expect("the container's host");
        let port = container
            .get_host_port_ipv4(27017)
            .await
            .expect("the container's mapped port");
        Arc::new(TestDatabase {
            uri: format!("mongodb://{host}:{port}/?directConnection=true"),
            name: unique_name(),
            drop_at_end: false,
            _container: Some(container),
        })
    }

    /// The server's connection string.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// The database name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Points `config` at this database (storage `mongo`).
    pub fn configure(&self, config: &mut Config) {
        config.storage = StorageKind::Mongo;
        config.mongo_uri = self.uri.clone();
        config.mongo_database = self.name.clone();
    }

    /// The adapter's settings for this database, with the default collection and timeouts.
    pub fn repository_config(&self) -> MongoConfig {
        MongoConfig {
            uri: self.uri.clone(),
            database: self.name.clone(),
            ..MongoConfig::default()
        }
    }

    /// A repository on this database, its indexes created.
    pub async fn repository(&self) -> MongoPaymentRepository {
        self.repository_with(MongoConfig::default()).await
    }

    /// A repository on this database with `config`'s settings but its server and name, its
    /// indexes created.
    pub async fn repository_with(&self, config: MongoConfig) -> MongoPaymentRepository {
        let config = MongoConfig {
            uri: self.uri.clone(),
            database: self.name.clone(),
            ..config
        };
        let repository = MongoPaymentRepository::open(&config)
            .await
            .expect("the repository opens");
        repository
            .ensure_indexes()
            .await
            .expect("the indexes are created");
        repository
    }

    /// The payments collection, through a driver client of the test's own (to look behind the
    /// adapter's back: raw documents, indexes).
    pub async fn payments(&self) -> Collection<Document> {
        self.collection(&MongoConfig::default().collection).await
    }

    /// The collection `name` of this database, through a driver client of the test's own.
    pub async fn collection(&self, name: &str) -> Collection<Document> {
        let client = Client::with_uri_str(&self.uri)
            .await
            .expect("a MongoDB client");
        client.database(&self.name).collection(name)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if !self.drop_at_end || std::thread::panicking() {
            return;
        }
        // Drop runs in sync code, possibly inside the test's runtime: use a thread of its own.
        let (uri, name) = (self.uri.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || drop_database(&uri, &name)).join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("test database {} was left behind: {dropped:?}", self.name);
        }
    }
}

fn drop_database(uri: &str, name: &str) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let work = async {
            let client = Client::with_uri_str(uri).await?;
            client.database(name).drop().await
        };
        match tokio::time::timeout(Duration::from_secs(5), work).await {
            Ok(result) => result.map_err(|e| e.to_string()),
            Err(_) => Err("timed out".into()),
        }
    })
}

/// A database name no other test uses (MongoDB allows 63 bytes: this is 38).
fn unique_name() -> String {
    format!("test_{}", domain::PaymentId::generate().as_uuid().simple())
}

/// Whether a Docker engine answers, checked cheaply: an explicit `DOCKER_HOST`, or the default
/// socket accepting a connection.
fn docker_available() -> bool {
    if std::env::var_os("DOCKER_HOST").is_some_and(|host| !host.is_empty()) {
        return true;
    }
    #[cfg(unix)]
    {
        std::os::unix::net::UnixStream::connect("/var/run/docker.sock").is_ok()
    }
    #[cfg(not(unix))]
    {
        false
    }
}

/// A MongoDB repository on a fresh test database, which lives as long as the repository:
/// what the contract suite runs against.
pub async fn contract_repository() -> Arc<dyn PaymentRepository> {
    on_test_database(MongoConfig::default()).await
}

/// [`contract_repository`] with [`MongoConfig::batch_inserts`].
pub async fn batched_contract_repository() -> Arc<dyn PaymentRepository> {
    on_test_database(MongoConfig {
        batch_inserts: true,
        ..MongoConfig::default()
    })
    .await
}

/// A repository with `config`'s settings, on a fresh test database that lives as long as it.
async fn on_test_database(config: MongoConfig) -> Arc<dyn PaymentRepository> {
    let database = TestDatabase::create().await;
    let repository = database.repository_with(config).await;
    Arc::new(RepositoryOnTestDatabase {
        repository,
        _database: database,
    })
}

/// A repository holding its test database, so the database is dropped after the repository.
struct RepositoryOnTestDatabase {
    repository: MongoPaymentRepository,
    _database: Arc<TestDatabase>,
}

#[async_trait]
impl PaymentRepository for RepositoryOnTestDatabase {
    async fn insert(&self, payment: &Payment) -> Result<InsertOutcome, RepositoryError> {
        self.repository.insert(payment).await
    }

    async fn find(&self, id: PaymentId) -> Result<Option<Payment>, RepositoryError> {
        self.repository.find(id).await
    }

    async fn update(
        &self,
        replacement: &Payment,
        expected: Version,
    ) -> Result<WriteOutcome, RepositoryError> {
        self.repository.update(replacement, expected).await
    }

    async fn delete(
        &self,
        id: PaymentId,
        expected: Option<Version>,
    ) -> Result<WriteOutcome, RepositoryError> {
        self.repository.delete(id, expected).await
    }

    async fn list(&self, query: &ListQuery) -> Result<Page, RepositoryError> {
        self.repository.list(query).await
    }

    async fn check_health(&self) -> Result<(), RepositoryError> {
        self.repository.check_health().await
    }
}

/// A fresh MongoDB command store on a database of its own, for the command store contract.
pub async fn contract_command_store() -> Arc<dyn CommandStore> {
    let database = TestDatabase::create().await;
    let store = database
        .repository()
        .await
        .command_store("payment_commands", Duration::from_secs(3600));
    Arc::new(CommandStoreOnTestDatabase {
        store,
        _database: database,
    })
}

/// A command store holding its test database, so the database is dropped after the store.
struct CommandStoreOnTestDatabase {
    store: MongoCommandStore,
    _database: Arc<TestDatabase>,
}

#[async_trait]
impl CommandStore for CommandStoreOnTestDatabase {
    async fn record_accepted(&self, records: &[CommandRecord]) -> Result<(), RepositoryError> {
        self.store.record_accepted(records).await
    }

    async fn mark_deleting(&self, record: &CommandRecord) -> Result<(), RepositoryError> {
        self.store.mark_deleting(record).await
    }

    async fn record_finished(
        &self,
        record: &CommandRecord,
    ) -> Result<CommandRecord, RepositoryError> {
        self.store.record_finished(record).await
    }

    async fn record_finished_many(
        &self,
        records: &[CommandRecord],
    ) -> Vec<Result<CommandRecord, RepositoryError>> {
        self.store.record_finished_many(records).await
    }

    async fn find(&self, id: CommandId) -> Result<Option<CommandRecord>, RepositoryError> {
        self.store.find(id).await
    }

    async fn find_finished(&self, id: CommandId) -> Result<Option<CommandRecord>, RepositoryError> {
        self.store.find_finished(id).await
    }

    async fn find_finished_many(
        &self,
        ids: &[CommandId],
    ) -> Result<Vec<CommandRecord>, RepositoryError> {
        self.store.find_finished_many(ids).await
    }

    async fn expire(&self, cutoff: Timestamp) -> Result<(), RepositoryError> {
        self.store.expire(cutoff).await
    }
}
