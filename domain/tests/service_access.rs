//! Tenancy in the use cases: a caller restricted to some organisations never sees, changes or
//! learns of another organisation's payments, whichever adapter calls the service.
#![cfg(feature = "mock")]

mod common;

use common::{content, organisation, service, stored, unavailable, version};
use domain::{
    Access, CreatePaymentError, DeletePaymentError, Forbidden, GetPaymentError, ListPaymentsError,
    ListQuery, MockPaymentRepository, NewPayment, OrganisationId, Page, PageSize, Payment,
    PaymentContent, PaymentId, PaymentUpdate, UpdatePaymentError, VersionCheck, WriteOutcome,
};

fn other_organisation() -> OrganisationId {
    OrganisationId::parse("0b9c63a2-3c6e-4d3e-9e55-0d1c8e3a7f10").unwrap()
}

fn own() -> Access {
    Access::organisations([organisation()])
}

fn others() -> Access {
    Access::organisations([other_organisation()])
}

fn finding(payment: Payment) -> MockPaymentRepository {
    let mut repository = MockPaymentRepository::new();
    repository
        .expect_find()
        .returning(move |_| Ok(Some(payment.clone())));
    repository
}

#[tokio::test]
async fn another_organisations_payment_is_not_found() {
    let id = PaymentId::generate();
    let payments = service(finding(stored(id, 0, "1.00")));

    let refused = payments.get_as(&others(), id).await;
    let seen = payments.get_as(&own(), id).await;

    assert_eq!(refused, Err(GetPaymentError::NotFound { id }));
    assert_eq!(seen.unwrap().id(), id);
}

#[tokio::test]
async fn a_restricted_read_reports_a_storage_failure_as_such() {
    let id = PaymentId::generate();
    let mut repository = MockPaymentRepository::new();
    repository.expect_find().returning(|_| Err(unavailable()));

    let refused = service(repository).get_as(&own(), id).await;

    assert_eq!(refused, Err(GetPaymentError::Storage(unavailable())));
}

#[tokio::test]
async fn a_create_for_an_organisation_not_held_is_forbidden_and_stores_nothing() {
    // No expectation: any call of the repository fails the test.
    let payments = service(MockPaymentRepository::new());

    let refused = payments
        .create_as(
            &others(),
            NewPayment {
                id: None,
                content: content("1.00"),
            },
        )
        .await;

    assert_eq!(
        refused,
        Err(CreatePaymentError::Forbidden(Forbidden {
            organisation_id: organisation()
        }))
    );
}

#[tokio::test]
async fn an_update_of_another_organisations_payment_is_not_found_and_writes_nothing() {
    let id = PaymentId::generate();
    let mut repository = MockPaymentRepository::new();
    let mut theirs = content("1.00");
    theirs.organisation_id = other_organisation();
    let stored_theirs = Payment::new(id, version(0), theirs.organisation_id, theirs.attributes);
    repository
        .expect_find()
        .returning(move |_| Ok(Some(stored_theirs.clone())));

    let refused = service(repository)
        .update_as(
            &own(),
            PaymentUpdate {
                id,
                content: content("2.00"),
                check: VersionCheck::Document(version(0)),
            },
        )
        .await;

    assert_eq!(refused, Err(UpdatePaymentError::NotFound { id }));
}

#[tokio::test]
async fn moving_a_payment_to_an_organisation_not_held_is_forbidden() {
    let id = PaymentId::generate();
    let moved = PaymentContent {
        organisation_id: other_organisation(),
        ..content("1.00")
    };

    let refused = service(MockPaymentRepository::new())
        .update_as(
            &own(),
            PaymentUpdate {
                id,
                content: moved,
                check: VersionCheck::Document(version(0)),
            },
        )
        .await;

    assert_eq!(
        refused,
        Err(UpdatePaymentError::Forbidden(Forbidden {
            organisation_id: other_organisation()
        }))
    );
}

#[tokio::test]
async fn a_delete_of_another_organisations_payment_is_not_found_and_deletes_nothing() {
    let id = PaymentId::generate();
    let payments = service(finding(stored(id, 2, "1.00")));

    let refused = payments.delete_as(&others(), id, None).await;

    assert_eq!(refused, Err(DeletePaymentError::NotFound { id }));
}

#[tokio::test]
async fn a_restricted_delete_removes_the_version_whose_owner_it_checked() {
    let id = PaymentId::generate();
    let mut repository = finding(stored(id, 2, "1.00"));
    repository
        .expect_delete()
        .withf(move |deleted, expected| *deleted == id && *expected == Some(version(2)))
        .times(1)
        .returning(|_, _| Ok(WriteOutcome::Written));

    service(repository)
        .delete_as(&own(), id, None)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_list_filtered_by_an_organisation_not_held_is_forbidden() {
    let query = ListQuery {
        organisation_id: Some(other_organisation()),
        ..ListQuery::default()
    };

    let refused = service(MockPaymentRepository::new())
        .list_as(&own(), &query)
        .await;

    assert_eq!(
        refused,
        Err(ListPaymentsError::Forbidden(Forbidden {
            organisation_id: other_organisation()
        }))
    );
}

#[tokio::test]
async fn an_unfiltered_list_merges_the_organisations_held_in_id_order_one_page_long() {
    let first = PaymentId::generate();
    let second = PaymentId::generate();
    let third = PaymentId::generate();
    let of = |id, organisation_id| {
        let content = PaymentContent {
            organisation_id,
            ..content("1.00")
        };
        Payment::new(id, version(0), organisation_id, content.attributes)
    };
    let mut repository = MockPaymentRepository::new();
    let (a, b) = (organisation(), other_organisation());
    let (one, two, three) = (of(first, a), of(second, b), of(third, a));
    repository.expect_list().times(2).returning(move |query| {
        let items = match query.organisation_id {
            Some(organisation) if organisation == a => vec![one.clone(), three.clone()],
            Some(organisation) if organisation == b => vec![two.clone()],
            unexpected => panic!("an unfiltered list reached storage: {unexpected:?}"),
        };
        Ok(Page {
            items,
            has_more: false,
        })
    });
    let query = ListQuery {
        page_size: PageSize::new(2).unwrap(),
        ..ListQuery::default()
    };

    let page = service(repository)
        .list_as(&Access::organisations([a, b]), &query)
        .await
        .unwrap();

    let ids: Vec<PaymentId> = page.items.iter().map(Payment::id).collect();
    assert_eq!(ids, [first, second]);
    assert!(page.has_more, "the third payment is on the next page");
}
