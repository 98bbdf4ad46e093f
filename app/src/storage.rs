//! Building the storage adapter the configuration names.

use std::sync::Arc;
use std::time::Duration;

use adapters::{
    InMemoryCommandStore, InMemoryPaymentRepository, MongoConfig, MongoPaymentRepository,
};
use domain::{CommandStore, PaymentRepository};

use crate::config::{Config, StorageKind, WriteMode};
use crate::metrics::Metrics;
use crate::storage_metrics::SampledGauge;
use crate::StartupError;

/// The payments repository and the command store of one backend.
pub struct Storage {
    /// Payments.
    pub payments: Arc<dyn PaymentRepository>,
    /// Command records (asynchronous writes).
    pub commands: Arc<dyn CommandStore>,
}

/// The repository and command store for `config.storage`, on one connection pool, with their
/// gauges registered in `metrics` (MongoDB: `storage_detached_operations`).
///
/// MongoDB is not contacted here: the server starts (and answers 503 with `Retry-After`) while
/// the database is down, and serves as soon as it comes up. Only a configuration that can never
/// work (a malformed URI, an invalid name) stops the start.
pub async fn build_storage(config: &Config, metrics: &Metrics) -> Result<Storage, StartupError> {
    match config.storage {
        StorageKind::Memory => Ok(Storage {
            payments: Arc::new(InMemoryPaymentRepository::new()),
            commands: Arc::new(InMemoryCommandStore::new(config.command_retention())),
        }),
        StorageKind::Mongo => {
            let repository = MongoPaymentRepository::open(&mongo_config(config))
                .await
                .map_err(|e| StartupError::Storage(e.to_string()))?;
            let detached = repository.detached_operations();
            SampledGauge::register(
                metrics,
                DETACHED_GAUGE,
                "Storage operations still running that their request stopped waiting for.",
                move || i64::try_from(detached.count()).unwrap_or(i64::MAX),
            )?;
            let commands = repository.command_store(
                &config.mongo_commands_collection,
                config.command_retention(),
            );
            Ok(Storage {
                payments: Arc::new(repository),
                commands: Arc::new(commands),
            })
        }
    }
}

/// The gauge of [`MongoPaymentRepository::detached_operations`].
pub const DETACHED_GAUGE: &str = "storage_detached_operations";

/// The `--mongo-*` options as the adapter's settings.
pub fn mongo_config(config: &Config) -> MongoConfig {
    MongoConfig {
        uri: config.mongo_uri.clone(),
        database: config.mongo_database.clone(),
        collection: config.mongo_collection.clone(),
        connect_timeout: Duration::from_millis(config.mongo_connect_timeout_ms),
        server_selection_timeout: Duration::from_millis(config.mongo_server_selection_timeout_ms),
        operation_timeout: Duration::from_millis(config.mongo_operation_timeout_ms),
        write_concern: config.mongo_write_concern.clone(),
        journal: config.mongo_journal,
        max_detached_operations: config.mongo_max_detached_operations,
        // In async mode every payment is written by a worker, many creates at once under a
        // backlog; a synchronous request's insert stays a call of its own.
        batch_inserts: config.write_mode == WriteMode::Async,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_options_are_the_adapter_defaults() {
        assert_eq!(mongo_config(&Config::defaults()), MongoConfig::default());
    }

    #[test]
    fn only_async_mode_batches_inserts() {
        let mut config = Config::defaults();
        assert!(!mongo_config(&config).batch_inserts);
        config.write_mode = WriteMode::Async;
        assert!(mongo_config(&config).batch_inserts);
    }

    #[tokio::test]
    async fn mongo_storage_builds_while_the_database_is_unreachable() {
        let mut config = Config::defaults();
        config.storage = StorageKind::Mongo;
        config.mongo_uri = "mongodb://127.0.0.1:1/?directConnection=true".into();
        config.mongo_server_selection_timeout_ms = 200;
        config.mongo_operation_timeout_ms = 500;
        let repository = build_storage(&config, &Metrics::new().unwrap())
            .await
            .unwrap();
        let refused = repository.payments.check_health().await.unwrap_err();
        assert!(
            matches!(refused, domain::RepositoryError::Unavailable(_)),
            "{refused:?}"
        );
    }

    #[tokio::test]
    async fn an_invalid_mongo_configuration_stops_the_start() {
        let mut config = Config::defaults();
        config.storage = StorageKind::Mongo;
        config.mongo_write_concern = "0".into();
        assert!(matches!(
            build_storage(&config, &Metrics::new().unwrap()).await,
            Err(StartupError::Storage(_))
        ));
    }
}
