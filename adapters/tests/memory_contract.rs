//! The repository contract, run against the in-memory backend.
#![cfg(all(feature = "memory", feature = "contract-tests"))]

use std::sync::Arc;

use adapters::InMemoryPaymentRepository;
use domain::PaymentRepository;

adapters::payment_repository_contract!(|| async {
    Arc::new(InMemoryPaymentRepository::new()) as Arc<dyn PaymentRepository>
});
