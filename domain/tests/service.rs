//! `PaymentService` against a mocked repository: create, get, delete, list and health, and
//! how each port outcome and storage failure becomes a use-case result.
#![cfg(feature = "mock")]

mod common;

use common::{content, organisation, service, stored, unavailable, version};
use domain::{
    CreatePaymentError, Created, DeletePaymentError, GetPaymentError, InsertOutcome,
    ListPaymentsError, ListQuery, MockPaymentRepository, NewPayment, OrganisationId, Page, Payment,
    PaymentId, RepositoryError, Version, WriteOutcome,
};
use mockall::predicate::eq;

#[tokio::test]
async fn create_without_id_inserts_a_uuid_v7_payment_at_version_0() {
    let mut repository = MockPaymentRepository::new();
    repository
        .expect_insert()
        .withf(|payment| {
            payment.version() == Version::INITIAL
                && payment.id().as_uuid().get_version_num() == 7
                && payment.has_content(&content("1.00"))
        })
        .times(1)
        .returning(|_| Ok(InsertOutcome::Inserted));

    let created = service(repository)
        .create(NewPayment {
            id: None,
            content: content("1.00"),
        })
        .await
        .unwrap();

    assert!(created.newly_created);
    assert_eq!(created.payment.version(), Version::INITIAL);
    assert!(created.payment.has_content(&content("1.00")));
}

/// A driver that retried an insert whose acknowledgement was lost meets the payment its first
/// attempt stored: the service recognises its own mark and answers a new payment (201), not an
/// identical retry (200).
#[tokio::test]
async fn a_create_storage_applied_twice_is_answered_as_created() {
    let id = PaymentId::generate();
    let mut repository = MockPaymentRepository::new();
    repository
        .expect_insert()
        .times(1)
        .returning(|payment| Ok(InsertOutcome::AlreadyExists(payment.clone())));

    let created = service(repository)
        .create(NewPayment {
            id: Some(id),
            content: content("1.00"),
        })
        .await
        .unwrap();

    assert!(created.newly_created);
    assert!(created.payment.last_command().is_some());
    assert_eq!(created.payment.version(), Version::INITIAL);
}

#[tokio::test]
async fn create_with_existing_id_and_same_content_returns_the_stored_payment() {
    let id = PaymentId::generate();
    // The stored copy may have moved on to another version; the retry returns it as stored.
    let existing = stored(id, 3, "1.00");
    let mut repository = MockPaymentRepository::new();
    let returned = existing.clone();
    repository
        .expect_insert()
        .withf(move |payment| payment.id() == id)
        .times(1)
        .returning(move |_| Ok(InsertOutcome::AlreadyExists(returned.clone())));

    let created = service(repository)
        .create(NewPayment {
            id: Some(id),
            content: content("1.00"),
        })
        .await;

    assert_eq!(
        created,
        Ok(Created {
            payment: existing,
            newly_created: false
        })
    );
}

#[tokio::test]
async fn create_with_existing_id_and_other_content_is_a_conflict() {
    let id = PaymentId::generate();
    let other_owner = Payment::new(
        id,
        Version::INITIAL,
        OrganisationId::from_uuid(*PaymentId::generate().as_uuid()),
        content("1.00").attributes,
    );
    for existing in [stored(id, 0, "2.00"), other_owner] {
        let mut repository = MockPaymentRepository::new();
        repository
            .expect_insert()
            .times(1)
            .returning(move |_| Ok(InsertOutcome::AlreadyExists(existing.clone())));

        let created = service(repository)
            .create(NewPayment {
                id: Some(id),
                content: content("1.00"),
            })
            .await;

        assert_eq!(created, Err(CreatePaymentError::Conflict { id }));
    }
}

#[tokio::test]
async fn create_reports_storage_failure() {
    let mut repository = MockPaymentRepository::new();
    repository.expect_insert().returning(|_| Err(unavailable()));

    let created = service(repository)
        .create(NewPayment {
            id: None,
            content: content("1.00"),
        })
        .await;

    assert_eq!(created, Err(CreatePaymentError::Storage(unavailable())));
}

#[tokio::test]
async fn get_maps_found_missing_and_storage_failure() {
    let id = PaymentId::generate();
    let payment = stored(id, 2, "1.00");
    let mut repository = MockPaymentRepository::new();
    let mut answers = vec![Err(unavailable()), Ok(None), Ok(Some(payment.clone()))];
    repository
        .expect_find()
        .with(eq(id))
        .times(3)
        .returning(move |_| answers.pop().unwrap());
    let service = service(repository);

    assert_eq!(service.get(id).await, Ok(payment));
    assert_eq!(service.get(id).await, Err(GetPaymentError::NotFound { id }));
    assert_eq!(
        service.get(id).await,
        Err(GetPaymentError::Storage(unavailable()))
    );
}

#[tokio::test]
async fn delete_maps_every_outcome() {
    let id = PaymentId::generate();
    let cases = [
        (None, Ok(WriteOutcome::Written), Ok(())),
        (
            Some(version(1)),
            Ok(WriteOutcome::NotFound),
            Err(DeletePaymentError::NotFound { id }),
        ),
        (
            Some(version(1)),
            Ok(WriteOutcome::VersionConflict { actual: version(3) }),
            Err(DeletePaymentError::VersionConflict {
                expected: version(1),
                actual: version(3),
            }),
        ),
        (
            None,
            Err(unavailable()),
            Err(DeletePaymentError::Storage(unavailable())),
        ),
    ];
    for (expected_version, outcome, result) in cases {
        let mut repository = MockPaymentRepository::new();
        repository
            .expect_delete()
            .with(eq(id), eq(expected_version))
            .times(1)
            .return_once(move |_, _| outcome);

        assert_eq!(
            service(repository).delete(id, expected_version).await,
            result
        );
    }
}

#[tokio::test]
async fn delete_without_a_version_reports_a_conflict_from_the_repository_as_a_storage_failure() {
    let id = PaymentId::generate();
    let mut repository = MockPaymentRepository::new();
    repository
        .expect_delete()
        .with(eq(id), eq(None))
        .times(1)
        .return_once(|_, _| Ok(WriteOutcome::VersionConflict { actual: version(3) }));

    let result = service(repository).delete(id, None).await;

    let Err(DeletePaymentError::Storage(RepositoryError::Internal(message))) = result else {
        panic!("a conflict without a version must be a storage failure, got {result:?}");
    };
    assert!(message.contains("without a version"), "{message}");
    assert!(message.contains(&id.to_string()), "{message}");
}

#[tokio::test]
async fn list_passes_the_query_through_and_reports_storage_failure() {
    let query = ListQuery {
        organisation_id: Some(organisation()),
        ..ListQuery::default()
    };
    let page = Page {
        items: vec![stored(PaymentId::generate(), 0, "1.00")],
        has_more: true,
    };
    let mut repository = MockPaymentRepository::new();
    let mut answers = vec![Err(unavailable()), Ok(page.clone())];
    repository
        .expect_list()
        .with(eq(query))
        .times(2)
        .returning(move |_| answers.pop().unwrap());
    let service = service(repository);

    assert_eq!(service.list(&query).await, Ok(page));
    assert_eq!(
        service.list(&query).await,
        Err(ListPaymentsError::Storage(unavailable()))
    );
}

#[tokio::test]
async fn health_check_reports_storage_failure() {
    let mut repository = MockPaymentRepository::new();
    repository
        .expect_check_health()
        .times(1)
        .returning(|| Err(unavailable()));

    assert_eq!(service(repository).check_health().await, Err(unavailable()));
}
