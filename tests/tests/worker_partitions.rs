//! The worker inside one partition: organisations that share a partition do not wait for each
//! other, one organisation's commands apply one after another, the partition's position is
//! committed only up to its first unfinished command, a command delivered again after it
//! finished is not applied again, and a partition given away and back is applied again from
//! where its records come.
//!
//! The worker runs in this process on the in-memory log ([`WatchedLog`] sees its commits) and
//! in-memory storage, where a gate holds one organisation's inserts back.

use std::sync::Arc;
use std::time::Duration;

use adapters::{InMemoryCommandStore, InMemoryPaymentRepository};
use async_trait::async_trait;
use domain::{
    CommandLog, CommandService, InsertOutcome, ListQuery, LogPosition, OrganisationId, Page,
    Payment, PaymentId, PaymentRepository, PaymentService, RepositoryError, Version, WriteOutcome,
};
use tests::worker_log::{create, delete, finished, organisation, RunningWorker, WatchedLog};
use tokio::sync::Semaphore;

/// The in-memory repository, whose inserts of one organisation's payments wait for a permit.
struct GatedRepository {
    inner: InMemoryPaymentRepository,
    gated: OrganisationId,
    gate: Semaphore,
}

#[async_trait]
impl PaymentRepository for GatedRepository {
    async fn insert(&self, payment: &Payment) -> Result<InsertOutcome, RepositoryError> {
        if payment.organisation_id() == self.gated {
            self.gate
                .acquire()
                .await
                .expect("the gate stays open")
                .forget();
        }
        self.inner.insert(payment).await
    }

    async fn find(&self, id: PaymentId) -> Result<Option<Payment>, RepositoryError> {
        self.inner.find(id).await
    }

    async fn update(
        &self,
        replacement: &Payment,
        expected: Version,
    ) -> Result<WriteOutcome, RepositoryError> {
        self.inner.update(replacement, expected).await
    }

    async fn delete(
        &self,
        id: PaymentId,
        expected: Option<Version>,
    ) -> Result<WriteOutcome, RepositoryError> {
        self.inner.delete(id, expected).await
    }

    async fn list(&self, query: &ListQuery) -> Result<Page, RepositoryError> {
        self.inner.list(query).await
    }

    async fn check_health(&self) -> Result<(), RepositoryError> {
        self.inner.check_health().await
    }
}

/// Storage whose inserts of `slow`'s payments wait for the gate, and the use case over it.
fn gated(slow: OrganisationId) -> (Arc<GatedRepository>, CommandService) {
    let repository = Arc::new(GatedRepository {
        inner: InMemoryPaymentRepository::new(),
        gated: slow,
        gate: Semaphore::new(0),
    });
    let commands = command_service(repository.clone());
    (repository, commands)
}

fn command_service(repository: Arc<dyn PaymentRepository>) -> CommandService {
    let store = Arc::new(InMemoryCommandStore::new(Duration::from_secs(3600)));
    CommandService::new(PaymentService::new(repository), store)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organisations_sharing_a_partition_apply_side_by_side_each_in_order() {
    let (slow, fast) = (organisation(), organisation());
    let (repository, commands) = gated(slow);
    // One partition: every command lands on it, in this order.
    let log = WatchedLog::new(1);
    let slow_first = create(slow);
    let slow_second = create(slow);
    let fast_create = create(fast);
    let fast_delete = delete(fast, fast_create.payment_id);
    for command in [&slow_first, &slow_second, &fast_create, &fast_delete] {
        log.publish(&commands, command).await;
    }
    let worker = RunningWorker::start(log.clone(), commands.clone());

    // The fast organisation's commands, behind the slow one's in the partition, finish while
    // the slow one's first insert is held.
    assert!(finished(&commands, fast_create.id)
        .await
        .outcome()
        .unwrap()
        .is_applied());
    assert!(finished(&commands, fast_delete.id)
        .await
        .outcome()
        .unwrap()
        .is_applied());
    let payments = commands.payments();
    assert!(
        payments.get(fast_create.payment_id).await.is_err(),
        "deleted"
    );
    // The slow organisation's second command waits for its first; nothing is committed past
    // the unfinished first command.
    tokio::time::sleep(Duration::from_millis(200)).await;
    for command in [&slow_first, &slow_second] {
        let record = commands.find(command.id).await.unwrap().unwrap();
        assert!(record.outcome().is_none(), "finished early: {record:?}");
    }
    assert_eq!(repository.gate.available_permits(), 0);
    assert!(payments.get(slow_second.payment_id).await.is_err());
    assert_eq!(
        log.commits(),
        vec![],
        "committed past an unfinished command"
    );

    repository.gate.add_permits(2);
    let first = finished(&commands, slow_first.id).await;
    let second = finished(&commands, slow_second.id).await;
    assert!(first.outcome().unwrap().is_applied());
    assert!(second.outcome().unwrap().is_applied());
    assert!(
        first.finished_at() <= second.finished_at(),
        "{first:?} {second:?}"
    );
    tests::eventually(
        "every position is committed",
        Duration::from_secs(5),
        || async {
            log.commits()
                .last()
                .filter(|position| position.offset == 3)
                .copied()
        },
    )
    .await;
    worker.stop().await;
    let commits = log.commits();
    assert!(
        commits
            .windows(2)
            .all(|pair| pair[0].offset < pair[1].offset),
        "{commits:?}"
    );
    assert_eq!(
        commits.last(),
        Some(&LogPosition {
            partition: 0,
            offset: 3
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_delivered_again_after_it_finished_is_not_applied_again() {
    let commands = command_service(Arc::new(InMemoryPaymentRepository::new()));
    let organisation = organisation();
    let created = create(organisation);
    let deleted = delete(organisation, created.payment_id);
    let log = WatchedLog::new(2);
    for command in [&created, &deleted] {
        log.publish(&commands, command).await;
    }
    let worker = RunningWorker::start(log.clone(), commands.clone());
    let first = finished(&commands, created.id).await;
    assert!(finished(&commands, deleted.id)
        .await
        .outcome()
        .unwrap()
        .is_applied());
    worker.stop().await;

    // The create comes again, alone, from another log (as after a crash of a worker that
    // applied both without committing; a worker of another process takes over): it must not
    // bring the deleted payment back, and its outcome stays.
    let again = WatchedLog::new(2);
    again
        .append(
            &created.id.to_string(),
            created.key().as_bytes(),
            &created.encode(),
        )
        .await
        .unwrap();
    let worker = RunningWorker::start(again.clone(), commands.clone());
    tests::eventually(
        "the create delivered again is committed",
        Duration::from_secs(10),
        || async { (!again.commits().is_empty()).then_some(()) },
    )
    .await;
    worker.stop().await;
    assert!(
        commands.payments().get(created.payment_id).await.is_err(),
        "the deleted payment came back"
    );
    assert_eq!(commands.find(created.id).await.unwrap(), Some(first));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partition_given_back_after_another_member_moved_on_is_applied_again() {
    let commands = command_service(Arc::new(InMemoryPaymentRepository::new()));
    let organisation = organisation();
    let (first, read_ahead, after) = (
        create(organisation),
        create(organisation),
        create(organisation),
    );
    let log = WatchedLog::new(1);
    let worker = RunningWorker::start(log.clone(), commands.clone());
    log.publish(&commands, &first).await;
    finished(&commands, first.id).await;

    // The partition is given away; a record read ahead comes under the holding that is over.
    log.take_away();
    log.publish(&commands, &read_ahead).await;
    tests::eventually(
        "the record read ahead is delivered",
        Duration::from_secs(10),
        || async { (log.delivered().len() == 2).then_some(()) },
    )
    .await;
    // Another member applies it and commits past it (here: from a log of its own).
    let other = WatchedLog::new(1);
    other.publish(&commands, &read_ahead).await;
    let member = RunningWorker::start(other.clone(), commands.clone());
    let applied = finished(&commands, read_ahead.id).await;
    member.stop().await;

    // Given back, the partition's records come from where the other member committed: the
    // next one is applied (a lane that only waited for the record it skipped would wait
    // forever), the one read ahead is not applied again.
    log.give_back();
    log.publish(&commands, &after).await;
    let outcome = finished(&commands, after.id).await;
    assert!(outcome.outcome().unwrap().is_applied(), "{outcome:?}");
    tests::eventually(
        "the partition is committed past the command given back",
        Duration::from_secs(10),
        || async {
            log.commits()
                .contains(&LogPosition {
                    partition: 0,
                    offset: 2,
                })
                .then_some(())
        },
    )
    .await;
    worker.stop().await;
    assert!(
        !log.commits().contains(&LogPosition {
            partition: 0,
            offset: 1
        }),
        "the record read ahead under the holding that was over was committed: {:?}",
        log.commits()
    );
    assert_eq!(commands.find(read_ahead.id).await.unwrap(), Some(applied));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_waiting_in_a_partition_given_away_are_left_to_its_new_holder() {
    let (slow, fast) = (organisation(), organisation());
    let (repository, commands) = gated(slow);
    let log = WatchedLog::new(1);
    let (slow_first, slow_second, fast_create) = (create(slow), create(slow), create(fast));
    for command in [&slow_first, &slow_second, &fast_create] {
        log.publish(&commands, command).await;
    }
    let worker = RunningWorker::start(log.clone(), commands.clone());
    // The fast organisation's create, last in the partition, finished: the slow one's second
    // command was taken, and waits behind its first, whose insert the gate holds.
    finished(&commands, fast_create.id).await;

    // The partition is given away; then the held insert goes through.
    log.take_away();
    repository.gate.add_permits(2);
    assert!(finished(&commands, slow_first.id)
        .await
        .outcome()
        .unwrap()
        .is_applied());
    // What had started finished; what waited is not started here any more.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let second = commands.find(slow_second.id).await.unwrap().unwrap();
    assert!(
        second.outcome().is_none(),
        "applied after the partition was given away: {second:?}"
    );
    assert!(commands
        .payments()
        .get(slow_second.payment_id)
        .await
        .is_err());
    assert_eq!(
        log.commits(),
        vec![],
        "committed for a holding that is over"
    );
    worker.stop().await;
}
