//! [`NatsSubscription`]: one member of the workers' group.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use domain::{LogError, LogPosition, LogRecord, LogSubscription};
use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use super::member::Member;
use super::topology::{unavailable, Topology};

/// The longest pause between two rounds of the keeper (progress, pins, lag, sharing).
const KEEP_EVERY: Duration = Duration::from_secs(1);

/// One member of the workers' group (see the [module docs](super) for pins, sharing and
/// acknowledgements). Dropping it leaves the group, in the background: its pins are released
/// and its commands in flight returned for immediate redelivery.
pub struct NatsSubscription {
    member: Arc<Member>,
    records: tokio::sync::Mutex<mpsc::Receiver<LogRecord>>,
    /// The keeper and the presence listener.
    tasks: Vec<AbortHandle>,
}

impl NatsSubscription {
    /// Joins the group on `topology`'s stream, which must exist; needs a tokio runtime.
    pub(super) async fn join(topology: Arc<Topology>) -> Result<Self, LogError> {
        let config = &topology.config;
        let client = topology.jetstream.client();
        let presence = client
            .subscribe(config.presence_subject())
            .await
            .map_err(|e| unavailable("joining the group", e))?;
        let stream = topology
            .jetstream
            .get_stream_no_info(&config.stream)
            .await
            .map_err(|e| LogError::Internal(format!("the stream's name: {e}")))?;
        let (sender, records) = mpsc::channel(topology.partitions() as usize);
        let id = domain::CommandId::generate().to_string();
        let member = Member::new(topology.clone(), stream, id.clone(), sender);
        member.say_alive().await;
        member.pull_all();
        let keep_every = KEEP_EVERY.min(config.ack_wait / 4);
        let tasks = vec![
            tokio::spawn(listen(member.clone(), presence)).abort_handle(),
            tokio::spawn(keep(member.clone(), keep_every, config.ack_wait)).abort_handle(),
        ];
        Ok(Self {
            member,
            records: tokio::sync::Mutex::new(records),
            tasks,
        })
    }
}

/// Notes every presence message of the group.
async fn listen(member: Arc<Member>, mut presence: async_nats::Subscriber) {
    while let Some(message) = presence.next().await {
        member.heard(String::from_utf8_lossy(&message.payload).into_owned());
    }
}

/// Every `every`: says this member is alive, reports progress on the commands in flight,
/// checks the pins and lag of the partitions held, and shares the partitions with the members
/// heard from. A given-up partition is pulled again after `cool_off`.
async fn keep(member: Arc<Member>, every: Duration, cool_off: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        member.say_alive().await;
        member.report_progress().await;
        member.check_held().await;
        member.balance(every * 3, cool_off).await;
    }
}

#[async_trait]
impl LogSubscription for NatsSubscription {
    async fn next(&self, wait: Duration) -> Result<Option<LogRecord>, LogError> {
        let received = tokio::time::timeout(wait, async {
            let mut records = self.records.lock().await;
            records.recv().await
        })
        .await;
        Ok(received.ok().flatten())
    }

    fn holding(&self, partition: u32) -> Option<u64> {
        self.member.holding(partition)
    }

    async fn commit(&self, position: LogPosition) -> Result<(), LogError> {
        let Some(acker) = self.member.take_in_flight(position) else {
            // Committed before (or never delivered here): nothing is waiting for it.
            return Ok(());
        };
        let bound = self.member.topology.config.append_timeout;
        match tokio::time::timeout(bound, acker.double_ack()).await {
            Ok(Ok(())) => Ok(()),
            // Out of the book all the same: without progress reports the server redelivers it
            // after ack_wait, and the worker commits the copy it already applied.
            Ok(Err(error)) => Err(unavailable("acknowledging the command", error)),
            Err(_) => Err(LogError::Unavailable(format!(
                "acknowledging the command: no answer within {} ms",
                bound.as_millis()
            ))),
        }
    }

    // Each partition's consumer delivers its next command only after the previous one is
    // acknowledged (`max_ack_pending = 1`): a reader never has more than one record of a
    // partition waiting, so there is nothing to pause.
    fn pause(&self, _partition: u32) {}

    fn resume(&self, _partition: u32) {}

    fn lag(&self) -> Vec<(u32, u64)> {
        self.member.lag()
    }
}

impl Drop for NatsSubscription {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        let member = self.member.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move { member.leave().await });
            }
            // Without a runtime the server times the pins and commands out instead.
            Err(_) => tracing::debug!("subscription dropped outside a runtime; not left"),
        }
    }
}
