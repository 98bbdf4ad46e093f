//! # invoice-service — an example consumer of the payments libraries
//!
//! A billing team's service: an [`Invoice`] is settled by exactly one payment, and a settlement
//! can be cancelled as long as nobody changed the payment in the meantime. Production code
//! depends on the `domain` crate only (the `PaymentRepository` port and `PaymentService`); the
//! unit tests run it against the in-memory repository from `adapters` and, for storage failures,
//! against `domain`'s mockall mock. No database, no Docker, no MongoDB driver.
//!
//! ```
//! use std::sync::Arc;
//!
//! use adapters::InMemoryPaymentRepository;
//! use domain::{Amount, Currency, OrganisationId};
//! use invoice_service::{Invoice, InvoiceId, InvoiceSettler};
//! use uuid::Uuid;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let settler = InvoiceSettler::new(Arc::new(InMemoryPaymentRepository::new()));
//! let invoice = Invoice {
//!     id: InvoiceId::new(Uuid::parse_str("0f7c2d2e-9d4c-4a3b-8f7e-2b1c0d9e8f70")?),
//!     number: "INV-2026-0042".into(),
//!     payer: OrganisationId::parse("743d5b63-8e6f-432e-a8fa-c5d8d2ee5fcb")?,
//!     amount: Amount::parse("120.00")?,
//!     currency: Currency::parse("GBP")?,
//! };
//!
//! let settlement = settler.settle(&invoice).await?;
//! assert!(!settlement.already_settled);
//! settler.cancel(invoice.id, settlement.version).await?;
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod invoice;
mod settle;

pub use invoice::{Invoice, InvoiceId};
pub use settle::{CancelError, InvoiceSettler, SettleError, Settlement};
