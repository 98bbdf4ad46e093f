//! # adapters — storage for the payments domain
//!
//! Outbound adapters implementing [`domain::PaymentRepository`] and [`domain::CommandLog`], each
//! behind its own cargo feature so you compile only the backends you use:
//!
//! | backend | type | cargo feature | extra dependencies |
//! |---|---|---|---|
//! | in process memory | [`InMemoryPaymentRepository`] | `memory` (default) | none |
//! | MongoDB | `MongoPaymentRepository` (with `MongoConfig`) | `mongo` | the official `mongodb` driver, `tokio`, `tracing` |
//! | Kafka (the command log) | `KafkaCommandLog` (with `KafkaConfig`), module `kafka` | `kafka` | `rdkafka` (librdkafka compiled from its bundled C source: a C compiler and `make`), `tokio`, `tracing` |
//! | NATS JetStream (the command log) | `NatsCommandLog` (with `NatsConfig`), module `nats` | `nats` | `async-nats` (pure Rust), `tokio`, `tracing` |
//! | — | the contract suites, module `contract` (repository; `contract::command_log` for the command log) | `contract-tests` | `tokio` |
//!
//! Every backend passes the same contract suite, so a test that passes against the in-memory
//! repository exercises the same rules production storage keeps: ids are never overwritten,
//! version checks and writes are one atomic step, lists page in ascending id order.
//!
//! ## Using the in-memory repository in your own tests
//!
//! The in-memory repository is a complete, concurrent implementation of the port, not a stub:
//! teams whose services store or read payments can unit-test against it with no database, no
//! Docker and no MongoDB driver in their build. Depend on this crate with only the `memory`
//! feature:
//!
//! ```toml
//! [dependencies]
//! domain = { path = "../payment-server/domain" }
//!
//! [dev-dependencies]
//! adapters = { path = "../payment-server/adapters", default-features = false, features = ["memory"] }
//! tokio = { version = "1", features = ["rt", "macros"] }
//! ```
//!
//! (A `git = "..."` dependency works the same way; see the repository README.) The [`guide`]
//! module walks through the techniques — seeding state, provoking version conflicts and
//! retries, forcing storage failures with a mock — and `examples/invoice-service` in the
//! repository is a complete consumer crate written that way.
//!
//! ## Example: create, get, update, list and a version conflict
//!
// The example needs the in-memory backend; without it the doc-test is shown but not compiled.
#![cfg_attr(feature = "memory", doc = "```")]
#![cfg_attr(not(feature = "memory"), doc = "```ignore")]
//! use std::sync::Arc;
//!
//! use adapters::InMemoryPaymentRepository;
//! use domain::{
//!     ListQuery, NewPayment, OrganisationId, PaymentAttributes, PaymentContent, PaymentService,
//!     PaymentUpdate, UpdatePaymentError, Version, VersionCheck,
//! };
//! use serde_json::json;
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // A fresh repository per test: it starts empty and vanishes with the test.
//!     let repository = Arc::new(InMemoryPaymentRepository::new());
//!     let payments = PaymentService::new(repository.clone());
//!
//!     let organisation = OrganisationId::parse("743d5b63-8e6f-432e-a8fa-c5d8d2ee5fcb")?;
//!     let content = |amount: &str| -> Result<PaymentContent, domain::ValidationError> {
//!         Ok(PaymentContent {
//!             organisation_id: organisation,
//!             attributes: PaymentAttributes::from_value(json!({
//!                 "amount": amount,
//!                 "currency": "GBP",
//!                 "reference": "Invoice 42",
//!             }))?,
//!         })
//!     };
//!
//!     // Create: without an id the service picks a time-ordered one; new payments are version 0.
//!     let created = payments
//!         .create(NewPayment { id: None, content: content("100.21")? })
//!         .await?;
//!     assert!(created.newly_created);
//!     let id = created.payment.id();
//!     assert_eq!(created.payment.version(), Version::INITIAL);
//!
//!     // Get.
//!     let seen = payments.get(id).await?;
//!     assert_eq!(seen, created.payment);
//!
//!     // Update at the version we read: the version goes up by one.
//!     let updated = payments
//!         .update(PaymentUpdate {
//!             id,
//!             content: content("120.00")?,
//!             check: VersionCheck::Document(seen.version()),
//!         })
//!         .await?;
//!     assert_eq!(updated.version().value(), 1);
//!
//!     // A second writer still holding version 0 is refused; nothing is overwritten.
//!     let stale = payments
//!         .update(PaymentUpdate {
//!             id,
//!             content: content("999.99")?,
//!             check: VersionCheck::Document(Version::INITIAL),
//!         })
//!         .await;
//!     assert_eq!(
//!         stale,
//!         Err(UpdatePaymentError::VersionConflict {
//!             expected: Version::INITIAL,
//!             actual: updated.version(),
//!         })
//!     );
//!     assert_eq!(payments.get(id).await?.attributes().amount().to_string(), "120.00");
//!
//!     // List one organisation's payments, in ascending id order.
//!     let query = ListQuery { organisation_id: Some(organisation), ..ListQuery::default() };
//!     let page = payments.list(&query).await?;
//!     assert_eq!(page.items, vec![updated]);
//!     assert!(!page.has_more);
//!     assert_eq!(repository.len(), 1);
//!     Ok(())
//! }
//! ```
//!
//! The example needs the default `memory` feature. `serde_json` and `tokio` come from your own
//! dependencies; this crate adds none for the in-memory backend.

#![warn(missing_docs)]

#[cfg(feature = "contract-tests")]
pub mod command_store_contract;
#[cfg(feature = "contract-tests")]
pub mod contract;
#[cfg(feature = "memory")]
pub mod guide;
#[cfg(feature = "kafka")]
pub mod kafka;
#[cfg(feature = "memory")]
mod memory;
#[cfg(feature = "mongo")]
mod mongo;
#[cfg(feature = "nats")]
pub mod nats;

#[cfg(feature = "kafka")]
pub use kafka::{KafkaCommandLog, KafkaConfig, KafkaSetupError, KafkaSubscription};
#[cfg(feature = "memory-log")]
pub use memory::InMemoryCommandLog;
#[cfg(feature = "memory")]
pub use memory::{InMemoryCommandStore, InMemoryPaymentRepository};
#[cfg(feature = "mongo")]
pub use mongo::{
    DetachedOperations, MongoCommandStore, MongoConfig, MongoPaymentRepository, MongoSetupError,
};
#[cfg(feature = "nats")]
pub use nats::{NatsCommandLog, NatsConfig, NatsSetupError, NatsSubscription};
