//! Building the storage adapter the configuration names.

use std::sync::Arc;

use adapters::InMemoryPaymentRepository;
use domain::PaymentRepository;

use crate::config::{Config, StorageKind};
use crate::StartupError;

/// The repository for `config.storage`.
pub async fn build_repository(config: &Config) -> Result<Arc<dyn PaymentRepository>, StartupError> {
    match config.storage {
        StorageKind::Memory => Ok(Arc::new(InMemoryPaymentRepository::new())),
        StorageKind::Mongo => Err(StartupError::Storage(
            "the mongo backend is not available in this build".into(),
        )),
    }
}
