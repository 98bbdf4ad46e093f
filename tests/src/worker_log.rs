//! A worker on the in-memory log, in the test's own process, for tests of what the worker does
//! with the records it reads: the log is wrapped so a test sees every commit, can mark one
//! payload as past the log's delivery limit (as the NATS adapter does after `max_deliver`), and
//! can take the partitions away from the subscription and give them back (as a rebalance
//! does), which the in-memory log itself never does.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use adapters::InMemoryCommandLog;
use async_trait::async_trait;
use domain::{
    Access, CommandBody, CommandId, CommandLog, CommandRecord, CommandService, LogError,
    LogPosition, LogRecord, LogSubscription, OrganisationId, PaymentAttributes, PaymentCommand,
    PaymentContent, PaymentId, Timestamp,
};
use serde_json::json;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The in-memory log, watched.
pub struct WatchedLog {
    /// The log itself.
    pub inner: InMemoryCommandLog,
    /// Records with this payload are delivered marked as past the delivery limit.
    pub marked: Option<Vec<u8>>,
    commits: Arc<Mutex<Vec<LogPosition>>>,
    holdings: Arc<Holdings>,
}

/// The holdings a test gives and takes, over the in-memory log's own.
#[derive(Default)]
struct Holdings {
    /// The partitions are taken away: the subscription holds none.
    away: AtomicBool,
    /// Added to the in-memory log's generations: how often they were given back.
    given_back: AtomicU64,
    /// Every position delivered so far.
    delivered: Mutex<Vec<LogPosition>>,
}

impl WatchedLog {
    /// An in-memory log of `partitions` partitions.
    pub fn new(partitions: u32) -> Arc<WatchedLog> {
        WatchedLog::marking(partitions, None)
    }

    /// An in-memory log whose records with payload `marked` come marked.
    pub fn marking(partitions: u32, marked: Option<Vec<u8>>) -> Arc<WatchedLog> {
        Arc::new(WatchedLog {
            inner: InMemoryCommandLog::new(partitions),
            marked,
            commits: Arc::default(),
            holdings: Arc::default(),
        })
    }

    /// Takes every partition away from the subscriptions (as a rebalance giving them to another
    /// member): records keep coming, as those a consumer read ahead do, but are not held.
    pub fn take_away(&self) {
        self.holdings.away.store(true, Ordering::SeqCst);
    }

    /// Gives the partitions back, under a new holding: records delivered from now on carry its
    /// generation.
    pub fn give_back(&self) {
        self.holdings.given_back.fetch_add(1, Ordering::SeqCst);
        self.holdings.away.store(false, Ordering::SeqCst);
    }

    /// Every position delivered so far, in delivery order.
    pub fn delivered(&self) -> Vec<LogPosition> {
        self.holdings
            .delivered
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Every position committed so far, in the order of the calls.
    pub fn commits(&self) -> Vec<LogPosition> {
        self.commits
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Appends `command` as the API does (its accepted record stored first).
    pub async fn publish(&self, commands: &CommandService, command: &PaymentCommand) {
        commands
            .record_accepted(&[command.accepted_record()])
            .await
            .expect("the store takes the accepted record");
        self.append(
            &command.id.to_string(),
            command.key().as_bytes(),
            &command.encode(),
        )
        .await
        .expect("the in-memory log appends");
    }
}

struct WatchedSubscription {
    inner: Arc<dyn LogSubscription>,
    marked: Option<Vec<u8>>,
    commits: Arc<Mutex<Vec<LogPosition>>>,
    holdings: Arc<Holdings>,
}

#[async_trait]
impl CommandLog for WatchedLog {
    async fn append(&self, id: &str, key: &[u8], payload: &[u8]) -> Result<LogPosition, LogError> {
        self.inner.append(id, key, payload).await
    }

    async fn subscribe(&self) -> Result<Arc<dyn LogSubscription>, LogError> {
        let inner = self.inner.subscribe().await?;
        Ok(Arc::new(WatchedSubscription {
            inner,
            marked: self.marked.clone(),
            commits: self.commits.clone(),
            holdings: self.holdings.clone(),
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
impl LogSubscription for WatchedSubscription {
    async fn next(&self, wait: Duration) -> Result<Option<LogRecord>, LogError> {
        let record = self.inner.next(wait).await?;
        Ok(record.map(|mut record| {
            record.delivery_limit_reached = self.marked.as_ref() == Some(&record.payload);
            record.generation += self.holdings.given_back.load(Ordering::SeqCst);
            self.holdings
                .delivered
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(record.position);
            record
        }))
    }

    fn holding(&self, partition: u32) -> Option<u64> {
        if self.holdings.away.load(Ordering::SeqCst) {
            return None;
        }
        let given_back = self.holdings.given_back.load(Ordering::SeqCst);
        Some(self.inner.holding(partition)? + given_back)
    }

    async fn commit(&self, position: LogPosition) -> Result<(), LogError> {
        self.inner.commit(position).await?;
        self.commits
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(position);
        Ok(())
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

/// A worker running in this process until [`RunningWorker::stop`].
pub struct RunningWorker {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl RunningWorker {
    /// Starts a worker applying `log`'s commands with `commands`.
    pub fn start(log: Arc<dyn CommandLog>, commands: CommandService) -> RunningWorker {
        let metrics =
            app::command_metrics::CommandMetrics::register(&app::metrics::Metrics::new().unwrap())
                .unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(app::worker::run(log, commands, metrics, async {
            let _ = stopped.await;
        }));
        RunningWorker { stop, task }
    }

    /// Stops the worker and waits until it finished what it started.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.expect("the worker does not panic");
    }
}

/// A create of a fresh payment of `organisation` (unrestricted access).
pub fn create(organisation: OrganisationId) -> PaymentCommand {
    let attributes = PaymentAttributes::from_value(json!({"amount": "1.00", "currency": "GBP"}))
        .expect("valid attributes");
    create_with(organisation, attributes)
}

/// A create of a fresh payment of `organisation` with `attributes` (unrestricted access, no
/// request id).
pub fn create_with(organisation: OrganisationId, attributes: PaymentAttributes) -> PaymentCommand {
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

/// A delete of `payment` of `organisation`, at whatever version it has.
pub fn delete(organisation: OrganisationId, payment: PaymentId) -> PaymentCommand {
    PaymentCommand {
        body: CommandBody::Delete { expected: None },
        payment_id: payment,
        ..create(organisation)
    }
}

/// A fresh organisation.
pub fn organisation() -> OrganisationId {
    OrganisationId::parse(&crate::new_organisation_id()).expect("a valid organisation id")
}

/// The record of command `id` once it finished (within 10 s).
pub async fn finished(commands: &CommandService, id: CommandId) -> CommandRecord {
    crate::eventually("the command finishes", Duration::from_secs(10), || async {
        commands
            .find(id)
            .await
            .expect("the store answers")
            .filter(|record| record.outcome().is_some())
    })
    .await
}
