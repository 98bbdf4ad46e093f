//! The command store contract suite: every [`CommandStore`] must pass it.
//!
//! Each case is a public async function taking a fresh, empty store; the
//! [`command_store_contract!`](crate::command_store_contract!) macro turns all of them into
//! `#[tokio::test]`s for one backend, as `payment_repository_contract!` does for repositories.

use std::sync::Arc;

use domain::{
    CommandAction, CommandError, CommandId, CommandOutcome, CommandPage, CommandRecord,
    CommandStatus, CommandStore, OrganisationId, PaymentId, Timestamp, UpdatePaymentError, Version,
};

/// The store under test.
pub type Store = Arc<dyn CommandStore>;

/// Generates one `#[tokio::test]` per contract case; `$make` is a closure returning a future
/// of a fresh, empty `Arc<dyn CommandStore>`.
#[macro_export]
macro_rules! command_store_contract {
    ($make:expr) => {
        $crate::command_store_contract!(@cases $make;
            an_accepted_record_reads_back_accepted,
            an_unknown_command_is_none,
            accepting_again_never_changes_a_record,
            the_first_finished_outcome_wins,
            concurrent_finishers_all_get_the_one_stored_outcome,
            a_command_finishes_without_having_been_recorded_accepted,
            marking_a_delete_never_reopens_a_finished_record,
            the_records_of_one_page_read_back_however_they_were_stored,
            finishing_many_at_once_keeps_each_first_outcome,
        );
    };
    (@cases $make:expr; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let make = $make;
                $crate::command_store_contract::$case(make().await).await;
            }
        )+
    };
}

/// An accepted update record with fresh ids.
pub fn sample_record() -> CommandRecord {
    CommandRecord {
        id: CommandId::generate(),
        action: CommandAction::Update,
        payment_id: PaymentId::generate(),
        organisation_id: OrganisationId::from_uuid(*PaymentId::generate().as_uuid()),
        // Whole milliseconds: every store keeps those exactly.
        accepted_at: Timestamp::now(),
        status: CommandStatus::Accepted,
    }
}

fn updated(version: u64) -> CommandOutcome {
    CommandOutcome::Updated {
        version: Version::new(version).expect("small versions are valid"),
    }
}

fn conflict(expected: u64, actual: u64) -> CommandOutcome {
    CommandOutcome::Refused(CommandError::Update(UpdatePaymentError::VersionConflict {
        expected: Version::new(expected).expect("small versions are valid"),
        actual: Version::new(actual).expect("small versions are valid"),
    }))
}

fn finished(record: &CommandRecord, outcome: CommandOutcome) -> CommandRecord {
    record.clone().finished(outcome, Timestamp::now())
}

/// `record_accepted` stores records that `find` returns as they were.
pub async fn an_accepted_record_reads_back_accepted(store: Store) {
    let (first, second) = (sample_record(), sample_record());
    store
        .record_accepted(&[first.clone(), second.clone()])
        .await
        .unwrap();
    assert_eq!(store.find(first.id).await.unwrap(), Some(first));
    assert_eq!(store.find(second.id).await.unwrap(), Some(second));
}

/// `find` of an id never recorded is `None`.
pub async fn an_unknown_command_is_none(store: Store) {
    assert_eq!(store.find(CommandId::generate()).await.unwrap(), None);
}

/// `record_accepted` of an id already stored (even finished) changes nothing.
pub async fn accepting_again_never_changes_a_record(store: Store) {
    let record = sample_record();
    let done = finished(&record, updated(4));
    store.record_finished(&done).await.unwrap();
    store
        .record_accepted(std::slice::from_ref(&record))
        .await
        .unwrap();
    assert_eq!(store.find(record.id).await.unwrap(), Some(done));
}

/// A second `record_finished` returns the first outcome and stores nothing new.
pub async fn the_first_finished_outcome_wins(store: Store) {
    let record = sample_record();
    store
        .record_accepted(std::slice::from_ref(&record))
        .await
        .unwrap();
    let first = finished(&record, updated(4));
    assert_eq!(store.record_finished(&first).await.unwrap(), first);
    let second = finished(&record, conflict(3, 4));
    assert_eq!(store.record_finished(&second).await.unwrap(), first);
    assert_eq!(store.find(record.id).await.unwrap(), Some(first));
}

/// Concurrent `record_finished` calls with different outcomes all return the one stored.
pub async fn concurrent_finishers_all_get_the_one_stored_outcome(store: Store) {
    let record = sample_record();
    store
        .record_accepted(std::slice::from_ref(&record))
        .await
        .unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|n| {
            let (store, attempt) = (store.clone(), finished(&record, updated(n + 1)));
            tokio::spawn(async move { store.record_finished(&attempt).await.unwrap() })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    let stored = store.find(record.id).await.unwrap().unwrap();
    assert!(stored.outcome().is_some());
    assert!(
        answers.iter().all(|answer| *answer == stored),
        "{answers:?}"
    );
}

/// A command whose accepted record was never written still finishes.
pub async fn a_command_finishes_without_having_been_recorded_accepted(store: Store) {
    let record = finished(&sample_record(), updated(1));
    assert_eq!(store.record_finished(&record).await.unwrap(), record);
    assert_eq!(store.find(record.id).await.unwrap(), Some(record));
}

/// `mark_deleting` turns an accepted or unknown record into `Deleting`, a finished one never.
pub async fn marking_a_delete_never_reopens_a_finished_record(store: Store) {
    let mut accepted = sample_record();
    accepted.action = CommandAction::Delete;
    store
        .record_accepted(std::slice::from_ref(&accepted))
        .await
        .unwrap();
    store.mark_deleting(&accepted).await.unwrap();
    let read = store.find(accepted.id).await.unwrap().unwrap();
    assert_eq!(read.status, CommandStatus::Deleting);

    let mut unknown = sample_record();
    unknown.action = CommandAction::Delete;
    store.mark_deleting(&unknown).await.unwrap();
    let read = store.find(unknown.id).await.unwrap().unwrap();
    assert_eq!(read.status, CommandStatus::Deleting);

    let done = finished(&accepted, CommandOutcome::Deleted);
    store.record_finished(&done).await.unwrap();
    store.mark_deleting(&accepted).await.unwrap();
    assert_eq!(store.find(accepted.id).await.unwrap(), Some(done));
}

/// Records whose ids share a page ([`CommandPage`]), as an API instance issues them, read back
/// whether they were stored together or late, in more calls than MongoDB gives a page
/// documents, and beside another page's; a finished one reads back finished; an id of the page
/// never recorded is `None`. `find_finished` finds only the finished one.
pub async fn the_records_of_one_page_read_back_however_they_were_stored(store: Store) {
    let (page, other) = (CommandPage::generate(), CommandPage::generate());
    let of = |page: CommandPage| CommandRecord {
        id: page.id(),
        ..sample_record()
    };
    let mut stored: Vec<CommandRecord> = (0..50).map(|_| of(page)).collect();
    store.record_accepted(&stored).await.unwrap();
    for _ in 0..10 {
        let late = vec![of(page), of(other), of(page)];
        store.record_accepted(&late).await.unwrap();
        stored.extend(late);
    }
    let done = finished(&stored[7], updated(2));
    store.record_finished(&done).await.unwrap();
    stored[7] = done;
    for record in &stored {
        assert_eq!(store.find(record.id).await.unwrap().as_ref(), Some(record));
        let finished = record.outcome().is_some().then_some(record);
        assert_eq!(
            store.find_finished(record.id).await.unwrap().as_ref(),
            finished
        );
    }
    assert_eq!(store.find(page.id()).await.unwrap(), None);
}

/// `record_finished_many` answers each record in order as `record_finished` would: a record
/// only accepted (in a page, or never recorded) finishes with the outcome given; one marked
/// `Deleting` finishes too; one finished before keeps, and answers, its first outcome.
/// `find_finished_many` finds the finished ones, and only those, among ids.
pub async fn finishing_many_at_once_keeps_each_first_outcome(store: Store) {
    let page = CommandPage::generate();
    let accepted: Vec<CommandRecord> = (0..3)
        .map(|_| CommandRecord {
            id: page.id(),
            ..sample_record()
        })
        .collect();
    store.record_accepted(&accepted).await.unwrap();
    let mut deleting = sample_record();
    deleting.action = CommandAction::Delete;
    store.mark_deleting(&deleting).await.unwrap();
    let before = finished(&sample_record(), updated(3));
    store.record_finished(&before).await.unwrap();
    let never_accepted = sample_record();

    let batch = vec![
        finished(&accepted[0], updated(1)),
        finished(&before, conflict(2, 3)),
        finished(&accepted[1], conflict(4, 5)),
        finished(&deleting, CommandOutcome::Deleted),
        finished(&never_accepted, updated(9)),
        finished(&accepted[2], updated(2)),
    ];
    let answers: Vec<CommandRecord> = store
        .record_finished_many(&batch)
        .await
        .into_iter()
        .map(|answer| answer.unwrap())
        .collect();
    let mut expected = batch.clone();
    expected[1] = before;
    assert_eq!(answers, expected);
    for record in &expected {
        assert_eq!(store.find(record.id).await.unwrap().as_ref(), Some(record));
    }
    // Again with other outcomes, as after a crash: nothing changes.
    let again: Vec<CommandRecord> = batch
        .iter()
        .map(|record| finished(record, CommandOutcome::Deleted))
        .collect();
    let answers: Vec<CommandRecord> = store
        .record_finished_many(&again)
        .await
        .into_iter()
        .map(|answer| answer.unwrap())
        .collect();
    assert_eq!(answers, expected);
    assert!(store.record_finished_many(&[]).await.is_empty());

    // Looked up together: the finished ones, whatever else is asked for.
    let (unknown, pending) = (sample_record(), sample_record());
    store
        .record_accepted(std::slice::from_ref(&pending))
        .await
        .unwrap();
    let mut ids: Vec<CommandId> = expected.iter().map(|record| record.id).collect();
    ids.extend([unknown.id, pending.id, deleting_again(&store).await]);
    let mut found = store.find_finished_many(&ids).await.unwrap();
    found.sort_by_key(|record| record.id.to_string());
    expected.sort_by_key(|record| record.id.to_string());
    assert_eq!(found, expected);
    assert!(store.find_finished_many(&[]).await.unwrap().is_empty());
}

/// A delete marked `deleting` and not finished; its id.
async fn deleting_again(store: &Store) -> CommandId {
    let mut deleting = sample_record();
    deleting.action = CommandAction::Delete;
    store.mark_deleting(&deleting).await.unwrap();
    deleting.id
}
