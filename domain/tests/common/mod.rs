//! Fixtures shared by the `PaymentService` tests.

use std::sync::Arc;

use domain::{
    MockPaymentRepository, OrganisationId, Payment, PaymentAttributes, PaymentContent, PaymentId,
    PaymentService, RepositoryError, Version,
};
use serde_json::json;

/// The organisation every fixture payment belongs to.
pub fn organisation() -> OrganisationId {
    OrganisationId::parse("743d5b63-8e6f-432e-a8fa-c5d8d2ee5fcb").unwrap()
}

/// Owner and attributes with `amount`.
pub fn content(amount: &str) -> PaymentContent {
    PaymentContent {
        organisation_id: organisation(),
        attributes: PaymentAttributes::from_value(
            json!({"amount": amount, "currency": "GBP", "reference": "rent"}),
        )
        .unwrap(),
    }
}

/// A payment as the repository would hold it.
pub fn stored(id: PaymentId, version: u64, amount: &str) -> Payment {
    let content = content(amount);
    Payment::new(
        id,
        Version::new(version).unwrap(),
        content.organisation_id,
        content.attributes,
    )
}

/// A version from a number known to be in range.
pub fn version(value: u64) -> Version {
    Version::new(value).unwrap()
}

/// The storage failure the mocks report.
pub fn unavailable() -> RepositoryError {
    RepositoryError::Unavailable("connection refused".into())
}

/// A service over `repository`.
pub fn service(repository: MockPaymentRepository) -> PaymentService {
    PaymentService::new(Arc::new(repository))
}
