//! The settler against the in-memory repository (real behaviour) and a mock (storage failures).

use std::sync::Arc;

use adapters::InMemoryPaymentRepository;
use domain::{
    Amount, Currency, MockPaymentRepository, OrganisationId, PaymentRepository, RepositoryError,
    Version,
};
use uuid::Uuid;

use super::*;

fn invoice(amount: &str) -> Invoice {
    Invoice {
        id: InvoiceId::new(Uuid::parse_str("0f7c2d2e-9d4c-4a3b-8f7e-2b1c0d9e8f70").unwrap()),
        number: "INV-2026-0042".into(),
        payer: OrganisationId::parse("743d5b63-8e6f-432e-a8fa-c5d8d2ee5fcb").unwrap(),
        amount: Amount::parse(amount).unwrap(),
        currency: Currency::parse("GBP").unwrap(),
    }
}

/// A settler over a fresh in-memory repository, and the repository to inspect.
fn settler_in_memory() -> (InvoiceSettler, Arc<InMemoryPaymentRepository>) {
    let repository = Arc::new(InMemoryPaymentRepository::new());
    (InvoiceSettler::new(repository.clone()), repository)
}

#[tokio::test]
async fn settling_an_invoice_stores_one_payment_for_its_amount_and_payer() {
    let (settler, repository) = settler_in_memory();
    let invoice = invoice("120.00");

    let settlement = settler.settle(&invoice).await.unwrap();

    assert_eq!(
        settlement,
        Settlement {
            payment_id: invoice.id.payment_id(),
            version: Version::INITIAL,
            already_settled: false,
        }
    );
    let stored = repository
        .find(settlement.payment_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.organisation_id(), invoice.payer);
    assert_eq!(stored.attributes().amount().to_string(), "120.00");
    assert_eq!(
        stored.attributes().get("reference"),
        Some("Invoice INV-2026-0042".into())
    );
    assert_eq!(repository.len(), 1);
}

#[tokio::test]
async fn settling_the_same_invoice_again_pays_only_once() {
    let (settler, repository) = settler_in_memory();
    let first = settler.settle(&invoice("120.00")).await.unwrap();

    let retry = settler.settle(&invoice("120.00")).await.unwrap();

    assert!(retry.already_settled);
    assert_eq!(retry.payment_id, first.payment_id);
    assert_eq!(repository.len(), 1);
}

#[tokio::test]
async fn settling_an_invoice_whose_amount_changed_is_refused_and_keeps_the_first_payment() {
    let (settler, repository) = settler_in_memory();
    let first = settler.settle(&invoice("120.00")).await.unwrap();

    let changed = settler.settle(&invoice("150.00")).await;

    assert_eq!(
        changed,
        Err(SettleError::SettledDifferently {
            invoice: invoice("150.00").id
        })
    );
    let stored = repository.find(first.payment_id).await.unwrap().unwrap();
    assert_eq!(stored.attributes().amount().to_string(), "120.00");
}

#[tokio::test]
async fn settling_above_the_fps_limit_is_unpayable_and_stores_nothing() {
    let (settler, repository) = settler_in_memory();

    let refused = settler.settle(&invoice("250000.01")).await;

    let Err(SettleError::Unpayable { reason, .. }) = refused else {
        panic!("expected Unpayable, got {refused:?}");
    };
    assert_eq!(reason.fields()[0].field, "amount");
    assert!(repository.is_empty());
}

#[tokio::test]
async fn cancelling_at_the_seen_version_removes_the_payment() {
    let (settler, repository) = settler_in_memory();
    let invoice = invoice("120.00");
    let settlement = settler.settle(&invoice).await.unwrap();

    settler
        .cancel(invoice.id, settlement.version)
        .await
        .unwrap();

    assert!(repository.is_empty());
    assert_eq!(
        settler.cancel(invoice.id, settlement.version).await,
        Err(CancelError::NotSettled {
            invoice: invoice.id
        })
    );
}

#[tokio::test]
async fn cancelling_after_someone_else_changed_the_payment_is_a_conflict_and_keeps_it() {
    let (settler, repository) = settler_in_memory();
    let invoice = invoice("120.00");
    let settlement = settler.settle(&invoice).await.unwrap();
    // Another service amends the payment (version 0 -> 1) after we read it.
    let stored = repository
        .find(settlement.payment_id)
        .await
        .unwrap()
        .unwrap();
    let amended = domain::Payment::new(
        stored.id(),
        stored.version().next().unwrap(),
        stored.organisation_id(),
        stored.attributes().clone(),
    );
    repository.update(&amended, stored.version()).await.unwrap();

    let refused = settler.cancel(invoice.id, settlement.version).await;

    assert_eq!(
        refused,
        Err(CancelError::ChangedMeanwhile {
            invoice: invoice.id,
            seen: Version::INITIAL,
            current: amended.version(),
        })
    );
    assert_eq!(repository.len(), 1);
}

/// A settler whose storage fails every insert and delete with `error`.
fn settler_with_failing_storage(error: RepositoryError) -> InvoiceSettler {
    let mut repository = MockPaymentRepository::new();
    let on_insert = error.clone();
    repository
        .expect_insert()
        .returning(move |_| Err(on_insert.clone()));
    repository
        .expect_delete()
        .returning(move |_, _| Err(error.clone()));
    InvoiceSettler::new(Arc::new(repository))
}

#[tokio::test]
async fn unavailable_storage_makes_settling_and_cancelling_retryable() {
    let settler =
        settler_with_failing_storage(RepositoryError::Unavailable("connection refused".into()));

    assert_eq!(
        settler.settle(&invoice("120.00")).await,
        Err(SettleError::TryAgainLater)
    );
    assert_eq!(
        settler.cancel(invoice("120.00").id, Version::INITIAL).await,
        Err(CancelError::TryAgainLater)
    );
}

#[tokio::test]
async fn internal_storage_failure_is_reported_as_failed_not_retryable() {
    let settler =
        settler_with_failing_storage(RepositoryError::Internal("corrupt document".into()));

    assert_eq!(
        settler.settle(&invoice("120.00")).await,
        Err(SettleError::Failed("corrupt document".into()))
    );
}
