//! # Guide: testing your own service with the in-memory repository
//!
//! This module holds no code; it is the long form of the crate docs for a team whose service
//! stores or reads payments and wants fast, deterministic unit tests without a database. The
//! examples all run as doc-tests. `examples/invoice-service` in the repository puts them together
//! in a complete consumer crate.
//!
//! ## 1. Dependencies
//!
//! Your production code needs only `domain`: it names the port, never a backend. The in-memory
//! repository is a dev-dependency, with default features off so the MongoDB driver is not built:
//!
//! ```toml
//! [dependencies]
//! domain = { path = "../payment-server/domain" }
//!
//! [dev-dependencies]
//! adapters = { path = "../payment-server/adapters", default-features = false, features = ["memory"] }
//! domain = { path = "../payment-server/domain", features = ["mock"] }  # only for section 5
//! serde_json = "1"
//! tokio = { version = "1", features = ["rt", "macros"] }
//! ```
//!
//! `cargo tree -e normal,dev` then shows no `mongodb` and no database client.
//!
//! ## 2. Write your service against the port
//!
//! Take an `Arc<dyn PaymentRepository>` (or a [`PaymentService`] built on one) in your
//! constructor. The binary hands over the production backend; tests hand over a fresh
//! [`InMemoryPaymentRepository`]. Keep a second `Arc` to the repository in the test to arrange
//! and inspect state directly.
//!
//! ```
//! use std::sync::Arc;
//!
//! use adapters::InMemoryPaymentRepository;
//! use domain::{PaymentId, PaymentRepository, PaymentService};
//!
//! /// A service of yours: says whether a payment is large.
//! struct Auditor {
//!     payments: PaymentService,
//! }
//!
//! impl Auditor {
//!     fn new(repository: Arc<dyn PaymentRepository>) -> Self {
//!         Self { payments: PaymentService::new(repository) }
//!     }
//!
//!     async fn is_large(&self, id: PaymentId) -> Result<bool, domain::GetPaymentError> {
//!         let payment = self.payments.get(id).await?;
//!         // 10000.00 and more, counted in pence (the minor units of GBP).
//!         Ok(payment.attributes().minor_units() >= 1_000_000)
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let repository = Arc::new(InMemoryPaymentRepository::new());
//! let auditor = Auditor::new(repository.clone());
//! let missing = auditor.is_large(PaymentId::generate()).await;
//! assert!(matches!(missing, Err(domain::GetPaymentError::NotFound { .. })));
//! assert!(repository.is_empty());
//! # }
//! ```
//!
//! ## 3. Arrange state through the port
//!
//! [`PaymentRepository::insert`](domain::PaymentRepository::insert) stores a [`Payment`] exactly
//! as given, version included, so a test can start from any state — here a payment that has
//! already been updated three times — without replaying history:
//!
//! ```
//! use std::sync::Arc;
//!
//! use adapters::InMemoryPaymentRepository;
//! use domain::{
//!     InsertOutcome, OrganisationId, Payment, PaymentAttributes, PaymentId, PaymentRepository,
//!     Version,
//! };
//! use serde_json::json;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let repository = Arc::new(InMemoryPaymentRepository::new());
//! let payment = Payment::new(
//!     PaymentId::generate(),
//!     Version::new(3)?,
//!     OrganisationId::parse("743d5b63-8e6f-432e-a8fa-c5d8d2ee5fcb")?,
//!     PaymentAttributes::from_value(json!({"amount": "10.00", "currency": "EUR"}))?,
//! );
//! assert_eq!(repository.insert(&payment).await?, InsertOutcome::Inserted);
//!
//! // Assert on outcomes by reading back through the port.
//! assert_eq!(repository.find(payment.id()).await?, Some(payment));
//! assert_eq!(repository.len(), 1);
//! # Ok(())
//! # }
//! ```
//!
//! ## 4. Provoke conflicts and retries
//!
//! The in-memory repository enforces the same optimistic-concurrency and idempotency rules as
//! production storage, so the paths your service takes on them are testable for real:
//!
//! - a create with a client-chosen id and the *same* content is a safe retry:
//!   [`Created::newly_created`](domain::Created::newly_created) is `false`;
//! - the same id with *other* content is [`CreatePaymentError::Conflict`];
//! - an update or delete naming a version other than the stored one is a `VersionConflict`
//!   carrying the stored version.
//!
//! ```
//! use std::sync::Arc;
//!
//! use adapters::InMemoryPaymentRepository;
//! use domain::{
//!     CreatePaymentError, DeletePaymentError, NewPayment, OrganisationId, PaymentAttributes,
//!     PaymentContent, PaymentId, PaymentService, Version,
//! };
//! use serde_json::json;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let payments = PaymentService::new(Arc::new(InMemoryPaymentRepository::new()));
//! let id = PaymentId::parse("4ee3a8d8-ca7b-4290-a52c-dd5b6165ec43")?;
//! let request = |amount: &str| -> Result<NewPayment, domain::ValidationError> {
//!     Ok(NewPayment {
//!         id: Some(id),
//!         content: PaymentContent {
//!             organisation_id: OrganisationId::parse("743d5b63-8e6f-432e-a8fa-c5d8d2ee5fcb")?,
//!             attributes: PaymentAttributes::from_value(json!({"amount": amount, "currency": "GBP"}))?,
//!         },
//!     })
//! };
//!
//! assert!(payments.create(request("5.00")?).await?.newly_created);
//! // The client timed out and sends the same request again: no second payment.
//! assert!(!payments.create(request("5.00")?).await?.newly_created);
//! // Someone reuses the id for something else: refused.
//! assert_eq!(
//!     payments.create(request("6.00")?).await,
//!     Err(CreatePaymentError::Conflict { id })
//! );
//! // A delete at a version nobody has seen: refused, the payment stays.
//! assert_eq!(
//!     payments.delete(id, Some(Version::new(7)?)).await,
//!     Err(DeletePaymentError::VersionConflict { expected: Version::new(7)?, actual: Version::INITIAL })
//! );
//! assert!(payments.get(id).await.is_ok());
//! # Ok(())
//! # }
//! ```
//!
//! ## 5. Force the failures a real backend cannot produce on demand
//!
//! The in-memory repository never fails: it has no network to lose. For "storage is down" and
//! "storage returned garbage", use `MockPaymentRepository`, which `domain` generates with
//! [mockall](https://docs.rs/mockall) when its `mock` feature is on (a dev-dependency, see section
//! 1). Set expectations only on the methods the path under test calls; an unexpected call
//! panics, which is itself a useful assertion.
//!
//! ```
//! use std::sync::Arc;
//!
//! use domain::{
//!     ListPaymentsError, ListQuery, MockPaymentRepository, PaymentService, RepositoryError,
//! };
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let mut repository = MockPaymentRepository::new();
//! repository
//!     .expect_list()
//!     .times(1)
//!     .returning(|_query| Err(RepositoryError::Unavailable("timed out after 2s".into())));
//! let payments = PaymentService::new(Arc::new(repository));
//!
//! let refused = payments.list(&ListQuery::default()).await;
//! assert_eq!(
//!     refused,
//!     Err(ListPaymentsError::Storage(RepositoryError::Unavailable("timed out after 2s".into())))
//! );
//! # }
//! ```
//!
//! Map [`RepositoryError::Unavailable`](domain::RepositoryError::Unavailable) to "try again
//! later" in your own error type and [`RepositoryError::Internal`](domain::RepositoryError::Internal)
//! to a failure you log; the mock lets you test both mappings.
//!
//! ## 6. Concurrency
//!
//! [`InMemoryPaymentRepository`] is `Send + Sync` and takes one lock per operation, so one
//! repository can be shared (`Arc::clone`) by many tasks in a multi-threaded test; of several
//! concurrent updates at the same version exactly one wins, as in production.
//!
//! ## 7. Checking a repository of your own
//!
//! If you write another implementation of [`PaymentRepository`](domain::PaymentRepository) —
//! a cache in front of ours, a different database — run the contract suite against it: enable
//! the `contract-tests` feature and see the `adapters::contract` module (documented when that
//! feature is on).
//!
//! ## What the in-memory repository is not
//!
//! Data lives as long as the value: nothing is persisted, nothing is shared between processes,
//! and there are no timeouts to hit. Tests of persistence, of a real database's behaviour under
//! failure, or of your deployment belong with the backend they are about.

#[cfg(doc)]
use crate::InMemoryPaymentRepository;
#[cfg(doc)]
use domain::{CreatePaymentError, Payment, PaymentService};
