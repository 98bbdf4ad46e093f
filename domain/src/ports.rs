//! The repository port: what the domain needs from storage. Every adapter MUST honour the
//! contract written on each method; `adapters`' contract suite checks it.
//!
//! ## Depending on the port
//!
//! A service of yours takes an `Arc<dyn PaymentRepository>` (or a [`PaymentService`] built on
//! one) and never names a backend; the binary picks the backend once, at start-up, and tests pass
//! the in-memory repository from the `adapters` crate or a mock.
//!
//! ## Mocking the port (feature `mock`)
//!
//! The in-memory repository is a real, complete backend, so most tests should use it. Failures it
//! cannot produce — storage down, timeouts, corrupt data — come from `MockPaymentRepository`,
//! which [mockall](https://docs.rs/mockall) generates with the `mock` feature. Turn the feature on
//! for tests only:
//!
//! ```toml
//! [dev-dependencies]
//! domain = { path = "../payment-server/domain", features = ["mock"] }
//! ```
//!
//! Each port method `m` gets an `expect_m()` whose `returning` closure takes the method's
//! arguments and returns its result:
//!
//! ```
//! # #[cfg(feature = "mock")]
//! # {
//! use std::sync::Arc;
//!
//! use domain::{GetPaymentError, MockPaymentRepository, PaymentId, PaymentService, RepositoryError};
//!
//! let mut repository = MockPaymentRepository::new();
//! repository
//!     .expect_find()
//!     .times(1)
//!     .returning(|_id| Err(RepositoryError::Unavailable("connection refused".into())));
//! let service = PaymentService::new(Arc::new(repository));
//!
//! let runtime = tokio::runtime::Builder::new_current_thread().build()?;
//! let refused = runtime.block_on(service.get(PaymentId::generate())).unwrap_err();
//! assert!(matches!(refused, GetPaymentError::Storage(RepositoryError::Unavailable(_))));
//! # }
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! ## Implementing the port
//!
//! A new backend implements [`PaymentRepository`] and runs the `adapters` crate's contract suite
//! (`adapters::contract`, feature `contract-tests`) against itself: the suite turns every rule
//! written on the methods below into a test.

mod command_log;
mod command_store;

use async_trait::async_trait;

pub use command_log::{CommandLog, LogError, LogPosition, LogRecord, LogSubscription};
pub use command_store::CommandStore;
#[cfg(feature = "mock")]
pub use command_store::MockCommandStore;

use crate::errors::RepositoryError;
use crate::models::{ListQuery, Page, Payment, PaymentId, Version};
#[cfg(doc)]
use crate::service::PaymentService;

/// The result of [`PaymentRepository::insert`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsertOutcome {
    /// The payment was stored (durably, as the backend defines it) before this returned.
    Inserted,
    /// A payment with the same id already exists; it is returned unchanged.
    AlreadyExists(Payment),
}

/// The result of a version-checked write ([`PaymentRepository::update`] and
/// [`PaymentRepository::delete`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    /// The write happened.
    Written,
    /// No payment has this id.
    NotFound,
    /// The payment exists at another version; nothing was written.
    VersionConflict {
        /// The version stored when the write was refused.
        actual: Version,
    },
}

/// Storage of payments.
///
/// Implementations are shared between request handlers (`Arc<dyn PaymentRepository>`), so every
/// method must be safe to call concurrently. A storage that cannot be reached or times out MUST
/// answer [`RepositoryError::Unavailable`], never hang past its configured timeout. A payment the
/// storage cannot hold for its size MUST be [`RepositoryError::TooLarge`], with nothing written.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait PaymentRepository: Send + Sync {
    /// Stores a new payment.
    ///
    /// If a payment with the same id exists the adapter MUST leave it untouched and return
    /// [`InsertOutcome::AlreadyExists`] with the stored payment, never overwrite it and never
    /// report an error. `Inserted` means the write is acknowledged durably.
    async fn insert(&self, payment: &Payment) -> Result<InsertOutcome, RepositoryError>;

    /// Fetches one payment, `None` when no payment has this id.
    async fn find(&self, id: PaymentId) -> Result<Option<Payment>, RepositoryError>;

    /// Replaces the payment with `replacement.id()` by `replacement`, if and only if the stored
    /// version is `expected`.
    ///
    /// The version check and the write MUST be one atomic step: of several concurrent updates
    /// with the same `expected` exactly one is `Written`, the others `VersionConflict` (never a
    /// silent overwrite). `replacement.version()` is the version to store (the service passes
    /// `expected + 1`). A missing payment is `NotFound`; a stale `expected` is
    /// `VersionConflict` carrying the stored version.
    async fn update(
        &self,
        replacement: &Payment,
        expected: Version,
    ) -> Result<WriteOutcome, RepositoryError>;

    /// Deletes a payment; when `expected` is given, only if the stored version is `expected`
    /// (atomically, as for [`PaymentRepository::update`]).
    ///
    /// `VersionConflict` is an answer to a delete with `expected` only: without one an existing
    /// payment MUST be deleted (`Written`). The service reports a conflict without a version as
    /// [`RepositoryError::Internal`].
    async fn delete(
        &self,
        id: PaymentId,
        expected: Option<Version>,
    ) -> Result<WriteOutcome, RepositoryError>;

    /// Lists payments in ascending id order, filtered and paged as `query` says.
    ///
    /// `has_more` MUST be true exactly when more payments match after the last one returned.
    async fn list(&self, query: &ListQuery) -> Result<Page, RepositoryError>;

    /// Checks that the storage is reachable and answering.
    async fn check_health(&self) -> Result<(), RepositoryError>;
}
