//! The repository contract suite: every [`PaymentRepository`] must pass it.
//!
//! Each case is a public async function taking a fresh, empty repository. The
//! [`payment_repository_contract!`](crate::payment_repository_contract) macro turns all of them
//! into `#[tokio::test]`s for one backend (the calling crate needs `tokio` with the `macros` and
//! `rt-multi-thread` features as a dev-dependency):
//!
//! ```
//! // tests/my_repository_contract.rs of a crate with its own `PaymentRepository`; here the
//! // in-memory one stands in for it.
//! adapters::payment_repository_contract!(|| async {
//!     std::sync::Arc::new(adapters::InMemoryPaymentRepository::new())
//!         as std::sync::Arc<dyn domain::PaymentRepository>
//! });
//! # fn main() {}
//! ```
//!
//! The cases also run one by one, for a backend whose tests need their own set-up (a database
//! per test, a fault injected part-way):
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use std::sync::Arc;
//!
//! use adapters::{contract, InMemoryPaymentRepository};
//!
//! contract::insert_existing_id_returns_stored_payment_and_keeps_it(Arc::new(
//!     InMemoryPaymentRepository::new(),
//! ))
//! .await;
//! # }
//! ```
//!
//! [`sample_payment`] and [`sample_attributes`] are the suite's fixtures, usable in tests of
//! your own.
//!
//! The suite of the command log port is [`command_log`], with its macro
//! [`command_log_contract!`](crate::command_log_contract).

pub mod command_log;

use std::collections::BTreeSet;
use std::sync::Arc;

use domain::{
    CommandId, InsertOutcome, ListQuery, OrganisationId, PageSize, Payment, PaymentAttributes,
    PaymentId, PaymentRepository, Version, WriteOutcome,
};
use serde_json::{json, Value};

/// The repository under test.
pub type Repo = Arc<dyn PaymentRepository>;

/// Generates one `#[tokio::test]` per contract case; `$make` is a closure returning a future
/// of a fresh, empty `Arc<dyn PaymentRepository>`.
#[macro_export]
macro_rules! payment_repository_contract {
    ($make:expr) => {
        $crate::payment_repository_contract!(@cases $make;
            insert_then_find_returns_the_same_payment,
            find_unknown_id_returns_none,
            insert_existing_id_returns_stored_payment_and_keeps_it,
            update_at_stored_version_replaces_content,
            update_at_stale_version_is_a_conflict_and_changes_nothing,
            update_unknown_id_is_not_found,
            update_moving_payment_to_another_organisation_reindexes_it,
            delete_without_version_removes_payment,
            delete_at_stale_version_is_a_conflict_and_keeps_payment,
            delete_at_stored_version_removes_payment,
            delete_unknown_id_is_not_found,
            list_returns_ascending_ids_and_pages_without_gaps_or_repeats,
            list_has_more_is_false_when_last_page_is_exactly_full,
            list_filters_by_organisation,
            unmodelled_fields_and_number_types_round_trip_exactly,
            concurrent_updates_at_same_version_have_exactly_one_winner,
            concurrent_inserts_of_same_id_store_exactly_one,
            concurrent_inserts_each_get_their_own_answer,
            health_check_succeeds_when_storage_answers,
            the_command_that_wrote_a_version_is_kept_with_it,
        );
    };
    (@cases $make:expr; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let make = $make;
                $crate::contract::$case(make().await).await;
            }
        )+
    };
}

/// Typical attributes with modelled and unmodelled fields.
pub fn sample_attributes(amount: &str) -> PaymentAttributes {
    PaymentAttributes::from_value(json!({
        "amount": amount,
        "currency": "GBP",
        "payment_scheme": "FPS",
        "processing_date": "2026-11-26",
        "reference": "Payment for Em's piano lessons",
        "beneficiary_party": {
            "account_name": "W Owens",
            "account_number": "31926819",
            "bank_id": "403000",
            "bank_id_code": "GBDSC"
        },
        "debtor_party": {
            "account_name": "EJ Brown Black",
            "account_number": "GB29XABC10161234567801",
            "bank_id": "203301"
        }
    }))
    .expect("sample attributes are valid")
}

/// A version-0 payment with a fresh id for `organisation`.
pub fn sample_payment(organisation: OrganisationId) -> Payment {
    Payment::new(
        PaymentId::generate(),
        Version::INITIAL,
        organisation,
        sample_attributes("100.21"),
    )
}

fn new_organisation() -> OrganisationId {
    OrganisationId::from_uuid(uuid_v4_like())
}

fn uuid_v4_like() -> uuid::Uuid {
    // A v7 id is unique enough for test organisations and needs no extra feature.
    *PaymentId::generate().as_uuid()
}

fn version(n: u64) -> Version {
    Version::new(n).expect("small versions are valid")
}

fn next_of(payment: &Payment, attributes: PaymentAttributes) -> Payment {
    Payment::new(
        payment.id(),
        payment
            .version()
            .next()
            .expect("small versions have a next"),
        payment.organisation_id(),
        attributes,
    )
}

async fn stored(repo: &Repo, payment: Payment) -> Payment {
    assert_eq!(
        repo.insert(&payment).await.unwrap(),
        InsertOutcome::Inserted
    );
    payment
}

/// Case: what was inserted is what is found.
pub async fn insert_then_find_returns_the_same_payment(repo: Repo) {
    let payment = stored(&repo, sample_payment(new_organisation())).await;
    assert_eq!(repo.find(payment.id()).await.unwrap(), Some(payment));
}

/// Case: an unknown id is `None`, not an error.
pub async fn find_unknown_id_returns_none(repo: Repo) {
    assert_eq!(repo.find(PaymentId::generate()).await.unwrap(), None);
}

/// Case: inserting an existing id never overwrites.
pub async fn insert_existing_id_returns_stored_payment_and_keeps_it(repo: Repo) {
    let original = stored(&repo, sample_payment(new_organisation())).await;
    let intruder = Payment::new(
        original.id(),
        Version::INITIAL,
        new_organisation(),
        sample_attributes("999.99"),
    );
    assert_eq!(
        repo.insert(&intruder).await.unwrap(),
        InsertOutcome::AlreadyExists(original.clone())
    );
    assert_eq!(repo.find(original.id()).await.unwrap(), Some(original));
}

/// Case: an update at the stored version replaces content and version.
pub async fn update_at_stored_version_replaces_content(repo: Repo) {
    let original = stored(&repo, sample_payment(new_organisation())).await;
    let replacement = next_of(&original, sample_attributes("5.00"));
    assert_eq!(
        repo.update(&replacement, Version::INITIAL).await.unwrap(),
        WriteOutcome::Written
    );
    let found = repo.find(original.id()).await.unwrap().unwrap();
    assert_eq!(found, replacement);
    assert_eq!(found.version(), version(1));
}

/// Case: a stale version is a conflict carrying the stored version, and nothing changes.
pub async fn update_at_stale_version_is_a_conflict_and_changes_nothing(repo: Repo) {
    let original = stored(&repo, sample_payment(new_organisation())).await;
    let first = next_of(&original, sample_attributes("5.00"));
    repo.update(&first, Version::INITIAL).await.unwrap();
    let stale = next_of(&original, sample_attributes("6.00"));
    assert_eq!(
        repo.update(&stale, Version::INITIAL).await.unwrap(),
        WriteOutcome::VersionConflict { actual: version(1) }
    );
    assert_eq!(repo.find(original.id()).await.unwrap(), Some(first));
}

/// Case: updating a missing payment is `NotFound` and creates nothing.
pub async fn update_unknown_id_is_not_found(repo: Repo) {
    let ghost = next_of(
        &sample_payment(new_organisation()),
        sample_attributes("1.00"),
    );
    assert_eq!(
        repo.update(&ghost, Version::INITIAL).await.unwrap(),
        WriteOutcome::NotFound
    );
    assert_eq!(repo.find(ghost.id()).await.unwrap(), None);
}

/// Case: an update that changes the organisation moves the payment between filters.
pub async fn update_moving_payment_to_another_organisation_reindexes_it(repo: Repo) {
    let (from, to) = (new_organisation(), new_organisation());
    let original = stored(&repo, sample_payment(from)).await;
    let moved = Payment::new(original.id(), version(1), to, original.attributes().clone());
    repo.update(&moved, Version::INITIAL).await.unwrap();
    assert!(ids_of(&repo, Some(from)).await.is_empty());
    assert_eq!(ids_of(&repo, Some(to)).await, vec![original.id()]);
}

/// Case: an unconditional delete removes the payment.
pub async fn delete_without_version_removes_payment(repo: Repo) {
    let payment = stored(&repo, sample_payment(new_organisation())).await;
    assert_eq!(
        repo.delete(payment.id(), None).await.unwrap(),
        WriteOutcome::Written
    );
    assert_eq!(repo.find(payment.id()).await.unwrap(), None);
    assert!(ids_of(&repo, Some(payment.organisation_id()))
        .await
        .is_empty());
}

/// Case: a delete at a stale version is a conflict and keeps the payment.
pub async fn delete_at_stale_version_is_a_conflict_and_keeps_payment(repo: Repo) {
    let payment = stored(&repo, sample_payment(new_organisation())).await;
    assert_eq!(
        repo.delete(payment.id(), Some(version(3))).await.unwrap(),
        WriteOutcome::VersionConflict {
            actual: Version::INITIAL
        }
    );
    assert_eq!(repo.find(payment.id()).await.unwrap(), Some(payment));
}

/// Case: a delete at the stored version removes the payment.
pub async fn delete_at_stored_version_removes_payment(repo: Repo) {
    let payment = stored(&repo, sample_payment(new_organisation())).await;
    assert_eq!(
        repo.delete(payment.id(), Some(Version::INITIAL))
            .await
            .unwrap(),
        WriteOutcome::Written
    );
    assert_eq!(repo.find(payment.id()).await.unwrap(), None);
}

/// Case: deleting a missing payment is `NotFound`, with or without a version.
pub async fn delete_unknown_id_is_not_found(repo: Repo) {
    let id = PaymentId::generate();
    assert_eq!(repo.delete(id, None).await.unwrap(), WriteOutcome::NotFound);
    assert_eq!(
        repo.delete(id, Some(Version::INITIAL)).await.unwrap(),
        WriteOutcome::NotFound
    );
}

async fn ids_of(repo: &Repo, organisation: Option<OrganisationId>) -> Vec<PaymentId> {
    let query = ListQuery {
        organisation_id: organisation,
        ..ListQuery::default()
    };
    let page = repo.list(&query).await.unwrap();
    page.items.iter().map(Payment::id).collect()
}

async fn walk_pages(
    repo: &Repo,
    organisation: Option<OrganisationId>,
    size: u64,
) -> Vec<Vec<PaymentId>> {
    let mut pages = Vec::new();
    let mut query = ListQuery {
        organisation_id: organisation,
        after: None,
        page_size: PageSize::new(size).unwrap(),
    };
    loop {
        let page = repo.list(&query).await.unwrap();
        assert!(page.items.len() <= query.page_size.get());
        pages.push(page.items.iter().map(Payment::id).collect());
        match page.next_cursor() {
            Some(cursor) => query.after = Some(cursor),
            None => return pages,
        }
        assert!(pages.len() < 1000, "paging does not terminate");
    }
}

/// Case: pages come in ascending id order and together hold every payment exactly once.
pub async fn list_returns_ascending_ids_and_pages_without_gaps_or_repeats(repo: Repo) {
    let organisation = new_organisation();
    let mut expected = Vec::new();
    for _ in 0..7 {
        expected.push(stored(&repo, sample_payment(organisation)).await.id());
    }
    expected.sort();
    let pages = walk_pages(&repo, Some(organisation), 3).await;
    assert_eq!(
        pages.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![3, 3, 1]
    );
    assert_eq!(pages.concat(), expected);
}

/// Case: a last page that is exactly full says there is nothing more.
pub async fn list_has_more_is_false_when_last_page_is_exactly_full(repo: Repo) {
    let organisation = new_organisation();
    for _ in 0..4 {
        stored(&repo, sample_payment(organisation)).await;
    }
    let pages = walk_pages(&repo, Some(organisation), 2).await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), vec![2, 2]);
}

/// Case: the organisation filter returns that organisation's payments only.
pub async fn list_filters_by_organisation(repo: Repo) {
    let (ours, theirs) = (new_organisation(), new_organisation());
    let mine: BTreeSet<PaymentId> = [
        stored(&repo, sample_payment(ours)).await.id(),
        stored(&repo, sample_payment(ours)).await.id(),
    ]
    .into();
    let other = stored(&repo, sample_payment(theirs)).await.id();
    let listed: BTreeSet<PaymentId> = ids_of(&repo, Some(ours)).await.into_iter().collect();
    assert_eq!(listed, mine);
    let everything: BTreeSet<PaymentId> = walk_pages(&repo, None, 1000)
        .await
        .concat()
        .into_iter()
        .collect();
    assert!(everything.is_superset(&mine) && everything.contains(&other));
}

/// Case: fields the domain does not model come back as stored, with their JSON number types.
pub async fn unmodelled_fields_and_number_types_round_trip_exactly(repo: Repo) {
    let attributes = json!({
        "amount": "10.00",
        "currency": "EUR",
        "integer": 42,
        "negative": -7,
        "big": i64::MAX,
        "small": i64::MIN,
        "float": 0.1,
        "whole_float": 2.0,
        "tiny": 5e-324,
        "text": "naïve \u{1F600} \u{0} end",
        "flag": true,
        "nothing": null,
        "list": [1, "two", 3.5, [], {}],
        "nested": {"deeper": {"deepest": [{"k": "v"}]}},
        "": "empty key",
    });
    let payment = Payment::new(
        PaymentId::generate(),
        Version::INITIAL,
        new_organisation(),
        PaymentAttributes::from_value(attributes.clone()).unwrap(),
    );
    stored(&repo, payment.clone()).await;
    let found = repo.find(payment.id()).await.unwrap().unwrap();
    let found_json: Value = serde_json::from_str(found.attributes().as_json()).unwrap();
    assert_eq!(found_json, attributes);
    assert!(found_json["whole_float"].is_f64() && found_json["integer"].is_i64());
}

/// Case: of many concurrent updates at the same version, exactly one wins.
pub async fn concurrent_updates_at_same_version_have_exactly_one_winner(repo: Repo) {
    let original = stored(&repo, sample_payment(new_organisation())).await;
    let writers = 16;
    let tasks: Vec<_> = (0..writers)
        .map(|n| {
            let repo = repo.clone();
            let replacement = next_of(&original, sample_attributes(&format!("{}.00", n + 1)));
            tokio::spawn(async move { repo.update(&replacement, Version::INITIAL).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap().unwrap());
    }
    let winners = outcomes
        .iter()
        .filter(|o| **o == WriteOutcome::Written)
        .count();
    let conflicts = outcomes
        .iter()
        .filter(|o| **o == WriteOutcome::VersionConflict { actual: version(1) })
        .count();
    assert_eq!((winners, conflicts), (1, writers - 1), "{outcomes:?}");
    assert_eq!(
        repo.find(original.id()).await.unwrap().unwrap().version(),
        version(1)
    );
}

/// Case: of many concurrent inserts of one id, exactly one is stored and the rest see it.
pub async fn concurrent_inserts_of_same_id_store_exactly_one(repo: Repo) {
    let id = PaymentId::generate();
    let organisation = new_organisation();
    let tasks: Vec<_> = (0..8)
        .map(|n| {
            let repo = repo.clone();
            let payment = Payment::new(
                id,
                Version::INITIAL,
                organisation,
                sample_attributes(&format!("{}.00", n + 1)),
            );
            tokio::spawn(async move { (repo.insert(&payment).await, payment) })
        })
        .collect();
    let mut winner = None;
    let mut others = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            (Ok(InsertOutcome::Inserted), payment) => {
                assert!(
                    winner.replace(payment).is_none(),
                    "two inserts of one id succeeded"
                )
            }
            (Ok(InsertOutcome::AlreadyExists(existing)), _) => others.push(existing),
            (Err(error), _) => panic!("insert failed: {error}"),
        }
    }
    let winner = winner.expect("one insert succeeds");
    assert!(others.iter().all(|existing| *existing == winner));
    assert_eq!(repo.find(id).await.unwrap(), Some(winner));
}

/// Case: of many concurrent inserts of different ids, some taken already, each is answered
/// for its own payment (a storage that writes inserts together must not mix their answers up).
pub async fn concurrent_inserts_each_get_their_own_answer(repo: Repo) {
    let organisation = new_organisation();
    let mut taken = Vec::new();
    for n in 0..4 {
        taken.push(
            stored(
                &repo,
                Payment::new(
                    PaymentId::generate(),
                    Version::INITIAL,
                    organisation,
                    sample_attributes(&format!("{n}.01")),
                ),
            )
            .await,
        );
    }
    let tasks: Vec<_> = (0..48)
        .map(|n| {
            let repo = repo.clone();
            // Every twelfth insert names a stored payment's id, with other content.
            let id = match n % 12 {
                0 => taken[n / 12].id(),
                _ => PaymentId::generate(),
            };
            let payment = Payment::new(
                id,
                Version::INITIAL,
                organisation,
                sample_attributes(&format!("{}.00", n + 1)),
            );
            tokio::spawn(async move { (repo.insert(&payment).await.unwrap(), payment) })
        })
        .collect();
    for task in tasks {
        let (outcome, payment) = task.await.unwrap();
        match taken.iter().find(|stored| stored.id() == payment.id()) {
            Some(stored) => {
                assert_eq!(outcome, InsertOutcome::AlreadyExists(stored.clone()));
                assert_eq!(repo.find(stored.id()).await.unwrap().as_ref(), Some(stored));
            }
            None => {
                assert_eq!(outcome, InsertOutcome::Inserted);
                assert_eq!(repo.find(payment.id()).await.unwrap(), Some(payment));
            }
        }
    }
}

/// Case: a reachable storage reports healthy.
pub async fn health_check_succeeds_when_storage_answers(repo: Repo) {
    repo.check_health().await.unwrap();
}

/// The command that wrote a version is stored with it, and replaced by the next write's.
pub async fn the_command_that_wrote_a_version_is_kept_with_it(repo: Repo) {
    let command = CommandId::generate();
    let payment = sample_payment(new_organisation()).written_by(Some(command));
    repo.insert(&payment).await.unwrap();
    let stored = repo.find(payment.id()).await.unwrap().unwrap();
    assert_eq!(stored.last_command(), Some(command));

    let synchronous = next_of(&payment, payment.attributes().clone());
    let written = repo.update(&synchronous, Version::INITIAL).await.unwrap();
    assert_eq!(written, WriteOutcome::Written);
    let stored = repo.find(payment.id()).await.unwrap().unwrap();
    assert_eq!(
        stored.last_command(),
        None,
        "a synchronous write clears the mark"
    );
}
