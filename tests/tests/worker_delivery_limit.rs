//! The worker and a log's delivery limit: a record the log marks as delivered as often as it
//! allows (NATS: `max_deliver` workers died with it) is recorded rejected with an internal
//! error and committed, never applied, and the partition goes on with the next record.
//!
//! The log is the in-memory one, wrapped so its records carry the mark the NATS adapter sets
//! (`tests/tests/nats_contract.rs` checks that the adapter sets it after `max_deliver`).

use std::sync::Arc;
use std::time::Duration;

use adapters::{InMemoryCommandLog, InMemoryCommandStore, InMemoryPaymentRepository};
use async_trait::async_trait;
use domain::{
    Access, CommandBody, CommandId, CommandLog, CommandRecord, CommandService, LogError,
    LogPosition, LogRecord, LogSubscription, OrganisationId, PaymentAttributes, PaymentCommand,
    PaymentContent, PaymentId, PaymentService, RepositoryError, Timestamp,
};
use serde_json::json;

/// A log whose records of one payload are marked as past the delivery limit.
struct MarkingLog {
    inner: InMemoryCommandLog,
    marked: Vec<u8>,
}

struct MarkingSubscription {
    inner: Arc<dyn LogSubscription>,
    marked: Vec<u8>,
}

#[async_trait]
impl CommandLog for MarkingLog {
    async fn append(&self, id: &str, key: &[u8], payload: &[u8]) -> Result<LogPosition, LogError> {
        self.inner.append(id, key, payload).await
    }

    async fn subscribe(&self) -> Result<Arc<dyn LogSubscription>, LogError> {
        let inner = self.inner.subscribe().await?;
        Ok(Arc::new(MarkingSubscription {
            inner,
            marked: self.marked.clone(),
        }))
    }

    fn partitions(&self) -> u32 {
        self.inner.partitions()
    }

    async fn check_health(&self) -> Result<(), LogError> {
        self.inner.check_health().await
    }
}

#[async_trait]
impl LogSubscription for MarkingSubscription {
    async fn next(&self, wait: Duration) -> Result<Option<LogRecord>, LogError> {
        let record = self.inner.next(wait).await?;
        Ok(record.map(|mut record| {
            record.delivery_limit_reached = record.payload == self.marked;
            record
        }))
    }

    fn holds(&self, partition: u32) -> bool {
        self.inner.holds(partition)
    }

    async fn commit(&self, position: LogPosition) -> Result<(), LogError> {
        self.inner.commit(position).await
    }

    fn pause(&self, partition: u32) {
        self.inner.pause(partition);
    }

    fn resume(&self, partition: u32) {
        self.inner.resume(partition);
    }

    fn lag(&self) -> Vec<(u32, u64)> {
        self.inner.lag()
    }
}

fn create(organisation: OrganisationId) -> PaymentCommand {
    let attributes = PaymentAttributes::from_value(json!({"amount": "1.00", "currency": "GBP"}))
        .expect("valid attributes");
    PaymentCommand {
        id: CommandId::generate(),
        payment_id: PaymentId::generate(),
        organisation_id: organisation,
        accepted_at: Timestamp::now(),
        request_id: None,
        subject: None,
        access: Access::Unrestricted,
        body: CommandBody::Create {
            content: PaymentContent {
                organisation_id: organisation,
                attributes,
            },
        },
    }
}

async fn finished(commands: &CommandService, id: CommandId) -> CommandRecord {
    tests::eventually("the command finishes", Duration::from_secs(10), || async {
        commands
            .find(id)
            .await
            .expect("the store answers")
            .filter(|record| record.outcome().is_some())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_past_the_delivery_limit_is_rejected_not_applied_and_the_next_one_is() {
    let organisation = OrganisationId::parse(&tests::new_organisation_id()).unwrap();
    let (poison, next) = (create(organisation), create(organisation));
    let log = Arc::new(MarkingLog {
        inner: InMemoryCommandLog::new(4),
        marked: poison.encode(),
    });
    let payments = PaymentService::new(Arc::new(InMemoryPaymentRepository::new()));
    let store = Arc::new(InMemoryCommandStore::new(Duration::from_secs(3600)));
    let commands = CommandService::new(payments.clone(), store);
    for command in [&poison, &next] {
        commands
            .record_accepted(&[command.accepted_record()])
            .await
            .unwrap();
        log.append(
            &command.id.to_string(),
            command.key().as_bytes(),
            &command.encode(),
        )
        .await
        .unwrap();
    }
    let metrics =
        app::command_metrics::CommandMetrics::register(&app::metrics::Metrics::new().unwrap())
            .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn(app::worker::run(
        log.clone(),
        commands.clone(),
        metrics,
        async {
            let _ = stopped.await;
        },
    ));

    let given_up = finished(&commands, poison.id).await;
    let applied = finished(&commands, next.id).await;
    let _ = stop.send(());
    worker.await.unwrap();

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
