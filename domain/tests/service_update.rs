//! `PaymentService::update` against a mocked repository: the write it asks for, and how a
//! stale version becomes a 409-kind conflict or a failed precondition.
#![cfg(feature = "mock")]

mod common;

use common::{content, service, stored, unavailable, version};
use std::sync::{Arc, Mutex};

use domain::{
    CommandId, MockPaymentRepository, PaymentId, PaymentUpdate, UpdatePaymentError, Version,
    VersionCheck, WriteOutcome,
};
use mockall::predicate::eq;

fn update(id: PaymentId, check: VersionCheck) -> PaymentUpdate {
    PaymentUpdate {
        id,
        content: content("9.99"),
        check,
    }
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

        let mark = updated.last_command();
        assert!(mark.is_some(), "a write carries an id of its own");
        assert_eq!(updated, stored(id, 5, "9.99").written_by(mark), "{check:?}");
    }
}

/// A driver that retried an update whose acknowledgement was lost finds the version its first
/// attempt wrote: the service recognises its own mark and answers success, not a conflict.
#[tokio::test]
async fn an_update_storage_applied_twice_is_answered_as_written() {
    let id = PaymentId::generate();
    let written = Arc::new(Mutex::new(None));
    let mut repository = MockPaymentRepository::new();
    let keep = Arc::clone(&written);
    repository
        .expect_update()
        .times(1)
        .returning(move |replacement, _| {
            *keep.lock().unwrap() = Some(replacement.clone());
            Ok(WriteOutcome::VersionConflict { actual: version(5) })
        });
    let read = Arc::clone(&written);
    repository
        .expect_find()
        .with(eq(id))
        .times(1)
        .returning(move |_| Ok(read.lock().unwrap().clone()));

    let updated = service(repository)
        .update(update(id, VersionCheck::Document(version(4))))
        .await;

    let stored_by_us = written
        .lock()
        .unwrap()
        .clone()
        .expect("an update was asked");
    assert_eq!(updated, Ok(stored_by_us));
}

/// The same conflict with a version another write produced (its mark differs) stays a conflict.
#[tokio::test]
async fn a_conflict_with_another_writes_version_stays_a_conflict() {
    let id = PaymentId::generate();
    let mut repository = MockPaymentRepository::new();
    repository
        .expect_update()
        .times(1)
        .returning(|_, _| Ok(WriteOutcome::VersionConflict { actual: version(5) }));
    repository
        .expect_find()
        .with(eq(id))
        .times(1)
        .returning(move |_| {
            Ok(Some(
                stored(id, 5, "1.00").written_by(Some(CommandId::generate())),
            ))
        });

    let updated = service(repository)
        .update(update(id, VersionCheck::Document(version(4))))
        .await;

    assert_eq!(
        updated,
        Err(UpdatePaymentError::VersionConflict {
            expected: version(4),
            actual: version(5),
        })
    );
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
        // Version 2 is the one this write would have produced: the service looks whether the
        // stored one is its own (a write storage applied twice); another write's is not.
        repository
            .expect_find()
            .with(eq(id))
            .returning(move |_| Ok(Some(stored(id, 2, "1.00"))));

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
