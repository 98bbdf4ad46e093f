//! # domain — the payments core
//!
//! The pure heart of the payment server: the [`Payment`] aggregate and its value objects, the
//! [`PaymentRepository`] port that storage adapters implement, and the [`PaymentService`] use
//! cases. No web framework, no database driver, no async runtime: this crate compiles into any
//! project, and its types are what a service of yours passes to and gets back from payments.
//!
//! ## What is in it
//!
//! | module | holds |
//! |---|---|
//! | [`models`] | [`Payment`]; value objects [`PaymentId`], [`OrganisationId`], [`Version`], [`Amount`], [`Currency`], [`PaymentAttributes`] and their one-pass reader [`AttributesReader`]; requests [`NewPayment`], [`PaymentUpdate`], [`VersionCheck`]; paging [`ListQuery`], [`PageSize`], [`Page`] |
//! | [`strict`] | the strict reading of JSON (duplicate keys, keys a document store cannot hold, nesting, the 64-bit number range): the one rule set of the attributes reader and of the HTTP adapter's envelope |
//! | [`ports`] | the storage port [`PaymentRepository`] with its contract, [`InsertOutcome`], [`WriteOutcome`] |
//! | [`service`] | [`PaymentService`]: create, get, update, delete, list, health |
//! | [`errors`] | one error enum per use case ([`CreatePaymentError`], [`UpdatePaymentError`], ...), the storage error [`RepositoryError`], and [`ValidationError`] / [`FieldError`] for refused input |
//!
//! Everything is re-exported at the crate root, so `use domain::{Payment, PaymentService};` is
//! enough.
//!
//! Values are parsed once at the edge and valid ever after: a [`PaymentId`] cannot be passed as an
//! [`OrganisationId`], [`PaymentAttributes`] hold a positive [`Amount`] with no more decimals than
//! their [`Currency`]'s minor unit (ISO 4217: JPY none, GBP 2, KWD 3) and keep unmodelled fields
//! untouched. Each use case has its own error enum, so callers `match` exhaustively and the
//! compiler tells them when a new failure appears.
//!
//! ## Cargo features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `mock` | off | `MockPaymentRepository`, a [mockall](https://docs.rs/mockall) mock of [`PaymentRepository`], for forcing failures in your unit tests (see [`ports`]) |
//!
//! ## Example: from client input to use-case requests
//!
//! Parse what a caller sent into domain values, collect every refused field, and build the
//! requests [`PaymentService`] takes:
//!
//! ```
//! use domain::{
//!     NewPayment, OrganisationId, PaymentAttributes, PaymentContent, PaymentId, PaymentUpdate,
//!     ValidationError, Version, VersionCheck,
//! };
//! use serde_json::json;
//!
//! let organisation = OrganisationId::parse("743d5b63-8e6f-432e-a8fa-c5d8d2ee5fcb")?;
//! let attributes = PaymentAttributes::from_value(json!({
//!     "amount": "100.21",
//!     "currency": "GBP",
//!     "payment_scheme": "FPS",
//!     "reference": "Payment for Em's piano lessons",
//! }))?;
//! assert_eq!(attributes.amount().to_string(), "100.21");
//! assert_eq!(attributes.currency().code(), "GBP");
//! // Fields the domain does not model are kept as sent.
//! assert_eq!(attributes.get("reference"), Some(json!("Payment for Em's piano lessons")));
//!
//! // A create with a client-chosen id is safe to retry; `id: None` lets the service pick one.
//! let id = PaymentId::parse("4ee3a8d8-ca7b-4290-a52c-dd5b6165ec43")?;
//! let content = PaymentContent { organisation_id: organisation, attributes };
//! let create = NewPayment { id: Some(id), content: content.clone() };
//!
//! assert_eq!(create.id, Some(id));
//!
//! // An update names the version the caller last saw; a stale one is refused, never applied.
//! // (`VersionCheck::from_parts` combines a body version and an `If-Match` header.)
//! let update = PaymentUpdate { id, content, check: VersionCheck::Document(Version::INITIAL) };
//! assert_eq!(update.id, id);
//!
//! // Every broken rule is reported at once, each with its field path.
//! let refused: ValidationError =
//!     PaymentAttributes::from_value(json!({"amount": "-1", "currency": "XXQ"})).unwrap_err();
//! let fields: Vec<&str> = refused.fields().iter().map(|e| e.field.as_str()).collect();
//! assert_eq!(fields, ["amount", "currency"]);
//! assert!(OrganisationId::parse("not-a-uuid").is_err());
//!
//! // An amount has at most as many decimals as its currency's minor unit: yen have none.
//! let yen = PaymentAttributes::from_value(json!({"amount": "100.50", "currency": "JPY"}));
//! assert_eq!(yen.unwrap_err().fields()[0].field, "amount");
//! let dinars = PaymentAttributes::from_value(json!({"amount": "1.234", "currency": "KWD"}))?;
//! assert_eq!(dinars.minor_units(), 1234);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! To run the use cases, give [`PaymentService::new`] a repository: the `adapters` crate's
//! `InMemoryPaymentRepository` (its crate docs have a complete create/get/update/list example and
//! a guide to testing your own services with it), or `MockPaymentRepository` with the `mock`
//! feature for failures a real backend cannot produce on demand (see [`ports`]).

#![warn(missing_docs)]

pub mod commands;
pub mod errors;
pub mod models;
pub mod ports;
pub mod service;

pub use commands::*;
pub use errors::*;
pub use models::*;
pub use ports::*;
pub use service::*;
