//! # adapters — storage for the payments domain
//!
//! Outbound adapters implementing [`domain::PaymentRepository`]:
//!
//! | backend | type | cargo feature |
//! |---|---|---|
//! | in process memory | [`InMemoryPaymentRepository`] | `memory` (default) |
//! | MongoDB | `MongoPaymentRepository` | `mongo` |
//!
//! Both pass the same contract suite ([`contract`], feature `contract-tests`), which you can also
//! run against a repository of your own.

#[cfg(feature = "contract-tests")]
pub mod contract;
#[cfg(feature = "memory")]
mod memory;

#[cfg(feature = "memory")]
pub use memory::InMemoryPaymentRepository;
