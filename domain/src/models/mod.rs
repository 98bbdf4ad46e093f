//! The payment model and its value objects.

mod access;
mod amount;
mod attributes;
mod date;
mod ids;
mod list;
mod payment;
pub mod strict;
mod version;

pub use access::{Access, Forbidden};
pub use amount::{Amount, Currency, MAX_AMOUNT_LEN};
pub use attributes::{AttributesReader, PaymentAttributes, DATE_FIELDS, MAX_ATTRIBUTES_DEPTH};
pub use date::is_calendar_date;
pub use ids::{CommandId, CommandPage, OrganisationId, PaymentId};
pub use list::{ListQuery, Page, PageSize};
pub use payment::{NewPayment, Payment, PaymentContent, PaymentUpdate, VersionCheck, PAYMENT_TYPE};
pub use strict::{key_problem, number_in_range};
pub use version::Version;
