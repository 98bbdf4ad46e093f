//! `PaymentService` against a mocked repository: how each port outcome and storage failure
//! becomes a use-case result, and which writes the service asks for.
#![cfg(feature = "mock")]

use std::sync::Arc;

use domain::{
    CreatePaymentError, Created, DeletePaymentError, GetPaymentError, InsertOutcome,
    ListPaymentsError, ListQuery, MockPaymentRepository, NewPayment, OrganisationId, Page, Payment,
    PaymentAttributes, PaymentContent, PaymentId, PaymentService, PaymentUpdate, RepositoryError,
    UpdatePaymentError, Version, VersionCheck, WriteOutcome,
};
use mockall::predicate::eq;
use serde_json::json;

fn organisation() -> OrganisationId {
    OrganisationId::parse("743d5b63-8e6f-432e-a8fa-c5d8d2ee5fcb").unwrap()
}

fn content(amount: &str) -> PaymentContent {
    PaymentContent {
        organisation_id: organisation(),
        attributes: PaymentAttributes::from_value(
            json!({"amount": amount, "currency": "GBP", "reference": "rent"}),
        )
        .unwrap(),
    }
}

fn stored(id: PaymentId, version: u64, amount: &str) -> Payment {
    let content = content(amount);
    Payment::new(
        id,
        Version::new(version).unwrap(),
        content.organisation_id,
        content.attributes,
    )
}

fn version(value: u64) -> Version {
    Version::new(value).unwrap()
}

fn unavailable() -> RepositoryError {
    RepositoryError::Unavailable("connection refused".into())
}

fn service(repository: MockPaymentRepository) -> PaymentService {
    PaymentService::new(Arc::new(repository))
}

fn update(id: PaymentId, check: VersionCheck) -> PaymentUpdate {
    PaymentUpdate {
        id,
        content: content("9.99"),
        check,
    }
}

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
async fn update_writes_the_replacement_at_the_next_version_when_the_expected_one_holds() {
    let id = PaymentId::generate();
    for check in [
        VersionCheck::Document(version(4)),
        VersionCheck::IfMatch(version(4)),
        VersionCheck::Both {
            document: version(4),
            if_match: version(4),
        },
    ] {
        let mut repository = MockPaymentRepository::new();
        repository
            .expect_update()
            .withf(move |replacement, expected| {
                *expected == version(4)
                    && replacement.id() == id
                    && replacement.version() == version(5)
                    && replacement.has_content(&content("9.99"))
            })
            .times(1)
            .returning(|_, _| Ok(WriteOutcome::Written));

        let updated = service(repository).update(update(id, check)).await.unwrap();

        assert_eq!(updated, stored(id, 5, "9.99"), "{check:?}");
    }
}

#[tokio::test]
async fn update_maps_a_stale_version_to_conflict_or_failed_precondition_by_check() {
    let id = PaymentId::generate();
    let cases = [
        (
            VersionCheck::Document(version(1)),
            UpdatePaymentError::VersionConflict {
                expected: version(1),
                actual: version(2),
            },
        ),
        (
            VersionCheck::IfMatch(version(1)),
            UpdatePaymentError::PreconditionFailed {
                expected: version(1),
                actual: version(2),
            },
        ),
        (
            VersionCheck::Both {
                document: version(1),
                if_match: version(1),
            },
            UpdatePaymentError::PreconditionFailed {
                expected: version(1),
                actual: version(2),
            },
        ),
    ];
    for (check, expected_error) in cases {
        let mut repository = MockPaymentRepository::new();
        repository
            .expect_update()
            .times(1)
            .returning(|_, _| Ok(WriteOutcome::VersionConflict { actual: version(2) }));

        let updated = service(repository).update(update(id, check)).await;

        assert_eq!(updated, Err(expected_error), "{check:?}");
    }
}

#[tokio::test]
async fn update_with_differing_versions_reads_the_stored_version_and_never_writes() {
    let id = PaymentId::generate();
    let check = VersionCheck::Both {
        document: version(1),
        if_match: version(2),
    };
    let cases = [
        // If-Match holds, so the stale document version is the failure.
        (
            Some(2),
            UpdatePaymentError::VersionConflict {
                expected: version(1),
                actual: version(2),
            },
        ),
        // If-Match is evaluated first.
        (
            Some(1),
            UpdatePaymentError::PreconditionFailed {
                expected: version(2),
                actual: version(1),
            },
        ),
        (
            Some(7),
            UpdatePaymentError::PreconditionFailed {
                expected: version(2),
                actual: version(7),
            },
        ),
        (None, UpdatePaymentError::NotFound { id }),
    ];
    for (stored_version, expected_error) in cases {
        let mut repository = MockPaymentRepository::new();
        repository.expect_update().never();
        repository
            .expect_find()
            .with(eq(id))
            .times(1)
            .returning(move |_| Ok(stored_version.map(|v| stored(id, v, "1.00"))));

        let updated = service(repository).update(update(id, check)).await;

        assert_eq!(updated, Err(expected_error), "stored {stored_version:?}");
    }
}

#[tokio::test]
async fn update_at_the_highest_version_is_exhausted_without_writing() {
    let id = PaymentId::generate();
    let mut repository = MockPaymentRepository::new();
    repository.expect_update().never();
    repository
        .expect_find()
        .returning(move |_| Ok(Some(stored(id, Version::MAX.value(), "1.00"))));

    let updated = service(repository)
        .update(update(id, VersionCheck::Document(Version::MAX)))
        .await;

    assert_eq!(updated, Err(UpdatePaymentError::VersionExhausted { id }));
}

#[tokio::test]
async fn update_maps_missing_payment_and_storage_failures() {
    let id = PaymentId::generate();
    let mut repository = MockPaymentRepository::new();
    let mut answers = vec![Err(unavailable()), Ok(WriteOutcome::NotFound)];
    repository
        .expect_update()
        .times(2)
        .returning(move |_, _| answers.pop().unwrap());
    repository
        .expect_find()
        .times(1)
        .returning(|_| Err(unavailable()));
    let service = service(repository);
    let by_document = || update(id, VersionCheck::Document(version(0)));

    assert_eq!(
        service.update(by_document()).await,
        Err(UpdatePaymentError::NotFound { id })
    );
    assert_eq!(
        service.update(by_document()).await,
        Err(UpdatePaymentError::Storage(unavailable()))
    );
    let differing = VersionCheck::Both {
        document: version(0),
        if_match: version(1),
    };
    assert_eq!(
        service.update(update(id, differing)).await,
        Err(UpdatePaymentError::Storage(unavailable()))
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
