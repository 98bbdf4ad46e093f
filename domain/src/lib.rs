//! # domain — the payments core
//!
//! The pure heart of the payment server: the [`Payment`](models::Payment) aggregate and its value
//! objects, the [`PaymentRepository`](ports::PaymentRepository) port that storage adapters
//! implement, and the [`PaymentService`](service::PaymentService) use cases. No web framework, no
//! database driver, no async runtime: this crate compiles into any project.
//!
//! Values are parsed once at the edge and valid ever after: a [`PaymentId`](models::PaymentId)
//! cannot be passed as an [`OrganisationId`](models::OrganisationId), an
//! [`Amount`](models::Amount) is always a positive decimal with at most two decimals, and
//! [`PaymentAttributes`](models::PaymentAttributes) keep unmodelled fields untouched.
//!
//! Each use case has its own error enum ([`errors`]), so callers match exhaustively.
//!
//! ```
//! use domain::{PaymentAttributes, OrganisationId};
//! use serde_json::json;
//!
//! let attributes = PaymentAttributes::from_value(json!({
//!     "amount": "100.21",
//!     "currency": "GBP",
//!     "payment_scheme": "FPS",
//!     "reference": "Payment for Em's piano lessons",
//! }))?;
//! assert_eq!(attributes.amount().to_string(), "100.21");
//! assert_eq!(attributes.get("reference"), Some(json!("Payment for Em's piano lessons")));
//!
//! // Every broken rule is reported with its field.
//! let refused = PaymentAttributes::from_value(json!({"amount": "-1", "currency": "XXQ"}))
//!     .unwrap_err();
//! assert_eq!(refused.fields().len(), 2);
//! assert!(OrganisationId::parse("not-a-uuid").is_err());
//! # Ok::<(), domain::ValidationError>(())
//! ```

pub mod errors;
pub mod models;
pub mod ports;
pub mod service;

pub use errors::*;
pub use models::*;
pub use ports::*;
pub use service::*;
