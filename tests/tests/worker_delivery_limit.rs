//! The worker and a log's delivery limit: a record the log marks as delivered as often as it
//! allows (NATS: `max_deliver` workers died with it) is recorded rejected with an internal
//! error and committed, never applied, and the partition goes on with the next record.
//!
//! The log is the in-memory one, wrapped so its records carry the mark the NATS adapter sets
//! (`tests/tests/nats_contract.rs` checks that the adapter sets it after `max_deliver`).

use std::sync::Arc;
use std::time::Duration;

use adapters::{InMemoryCommandStore, InMemoryPaymentRepository};
use domain::{CommandLog, CommandService, PaymentService, RepositoryError};
use tests::worker_log::{create, finished, organisation, RunningWorker, WatchedLog};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_past_the_delivery_limit_is_rejected_not_applied_and_the_next_one_is() {
    let organisation = organisation();
    let (poison, next) = (create(organisation), create(organisation));
    let log = WatchedLog::marking(4, Some(poison.encode()));
    let payments = PaymentService::new(Arc::new(InMemoryPaymentRepository::new()));
    let store = Arc::new(InMemoryCommandStore::new(Duration::from_secs(3600)));
    let commands = CommandService::new(payments.clone(), store);
    for command in [&poison, &next] {
        log.publish(&commands, command).await;
    }
    let worker = RunningWorker::start(log.clone(), commands.clone());

    let given_up = finished(&commands, poison.id).await;
    let applied = finished(&commands, next.id).await;
    worker.stop().await;

    let refusal = given_up.outcome().unwrap();
    assert!(!refusal.is_applied(), "{given_up:?}");
    assert!(
        matches!(
            refusal,
            domain::CommandOutcome::Refused(error)
                if matches!(error.storage(), Some(RepositoryError::Internal(_)))
        ),
        "{given_up:?}"
    );
    assert!(
        payments.get(poison.payment_id).await.is_err(),
        "the poison command was applied"
    );
    assert!(applied.outcome().unwrap().is_applied(), "{applied:?}");
    assert!(payments.get(next.payment_id).await.is_ok());
    let lag = log.inner.subscribe().await.unwrap().lag();
    assert!(
        lag.iter().all(|&(_, lag)| lag == 0),
        "not all committed: {lag:?}"
    );
}
