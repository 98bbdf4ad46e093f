//! The worker: the second inbound adapter. It reads commands from the log and applies them
//! through the domain's [`CommandService`]: each organisation's commands in log order, one
//! after another (several organisations of a partition at once), committing a partition's
//! position only up to the first command whose effect and outcome are not both stored.
//!
//! One reader takes records from the log and hands each partition's to its lane (`lane.rs`);
//! a lane decides what may run (`window.rs`); one writer stores the outcomes of every lane
//! together (`outcomes.rs`).
//!
//! No axum here: the worker depends on the domain's ports and use cases only.

mod lane;
mod outcomes;
mod window;

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use domain::{CommandLog, CommandService, LogRecord, LogSubscription};
use tokio::sync::mpsc::{self, error::TrySendError};
use tokio::sync::Notify;
use tokio::task::JoinSet;

use crate::command_metrics::CommandMetrics;
use lane::Tools;
use outcomes::Outcomes;

/// How long one wait for the next record lasts (the shutdown signal is checked in between).
const POLL: Duration = Duration::from_millis(200);
/// Records a lane's queue takes (beyond its window).
const LANE_DEPTH: usize = 64;
/// Bytes of a partition's records (keys and payloads) the reader holds back for its full lane
/// before it asks the log to pause the partition (see [`Feed`]).
const HELD_BYTES: usize = 1 << 20;
/// Backoff bounds while storage or the log is unavailable.
const BACKOFF_MIN: Duration = Duration::from_millis(50);
const BACKOFF_MAX: Duration = Duration::from_secs(2);
/// How often the consumer-lag gauge is refreshed.
const LAG_EVERY: Duration = Duration::from_secs(1);
/// Attempts at a command that fails with an internal storage error before it is rejected.
const INTERNAL_ATTEMPTS: u32 = 5;

/// Applies commands from `log` until `shutdown` completes; then finishes the commands being
/// applied, stores their outcomes, commits, and returns.
pub async fn run(
    log: Arc<dyn CommandLog>,
    commands: CommandService,
    metrics: CommandMetrics,
    shutdown: impl Future<Output = ()> + Send,
) {
    tokio::pin!(shutdown);
    let subscription = tokio::select! {
        subscription = subscribe(&log) => subscription,
        () = &mut shutdown => return,
    };
    tracing::info!("worker started");
    let (outcomes, writer) = Outcomes::start(commands.clone());
    let room = Arc::new(Notify::new());
    let tools = Tools {
        subscription: subscription.clone(),
        commands,
        outcomes,
        metrics: metrics.clone(),
        room: room.clone(),
    };
    let mut lanes: HashMap<u32, Feed> = HashMap::new();
    let mut running = JoinSet::new();
    let mut backoff = BACKOFF_MIN;
    let mut lag_updated = tokio::time::Instant::now();
    loop {
        if lag_updated.elapsed() >= LAG_EVERY {
            metrics.set_lag(&subscription.lag());
            lag_updated = tokio::time::Instant::now();
        }
        let mut held_back = false;
        for (&partition, feed) in &mut lanes {
            feed.refill(partition, &*subscription);
            held_back |= feed.holds_back();
        }
        let next = tokio::select! {
            next = subscription.next(POLL) => next,
            // A lane with records held back made room: hand them over without waiting for
            // the next record of another partition.
            () = room.notified(), if held_back => continue,
            () = &mut shutdown => break,
        };
        let record = match next {
            Ok(Some(record)) => record,
            Ok(None) => continue,
            Err(error) => {
                tracing::warn!(%error, "command log read failed; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(BACKOFF_MAX);
                continue;
            }
        };
        backoff = BACKOFF_MIN;
        let partition = record.position.partition;
        let feed = lanes.entry(partition).or_insert_with(|| {
            let (sender, receiver) = mpsc::channel(LANE_DEPTH);
            running.spawn(lane::lane(partition, receiver, tools.clone()));
            Feed::new(sender)
        });
        feed.take(partition, record, &*subscription);
    }
    lanes.clear();
    drop(tools);
    while running.join_next().await.is_some() {}
    // Every lane is done with the writer: it stops once what they sent is stored.
    let _ = writer.await;
    tracing::info!("worker stopped");
}

/// The reader's end of one partition's lane.
///
/// The reader never waits for a lane: one reader serves every partition, so waiting for a
/// full lane would leave the records of the others unread behind it (a partition with a
/// backlog would hold every other partition of the worker until its backlog was down to the
/// lane's depth). Records a full lane cannot take wait here; once they pass [`HELD_BYTES`], the
/// log is asked to pause the partition, and it is resumed once nothing waits and the lane has
/// drained to half its depth.
///
/// Why hold back so much rather than pause at the first record a full lane refuses: a Kafka
/// consumer drops the records it fetched ahead for a partition when it is paused, and fetches
/// them again when it is resumed. Pausing whenever a lane was full (every 32 records under a
/// backlog) made the broker send each record several times over (docs/benchmarks: its CPU per
/// command drained fell about tenfold with the held bytes); a megabyte between pauses makes
/// the records fetched twice a small share.
struct Feed {
    sender: mpsc::Sender<LogRecord>,
    /// Records delivered that the lane had no room for yet, in delivery order.
    waiting: VecDeque<LogRecord>,
    /// The keys' and payloads' bytes of `waiting`.
    waiting_bytes: usize,
    /// Whether the log was asked to pause the partition and not to resume it since.
    paused: bool,
}

impl Feed {
    fn new(sender: mpsc::Sender<LogRecord>) -> Feed {
        Feed {
            sender,
            waiting: VecDeque::new(),
            waiting_bytes: 0,
            paused: false,
        }
    }

    /// Hands `record` to the lane behind those waiting; pauses the partition if more than
    /// [`HELD_BYTES`] must wait.
    fn take(&mut self, partition: u32, record: LogRecord, log: &dyn LogSubscription) {
        self.waiting_bytes += held_size(&record);
        self.waiting.push_back(record);
        self.forward();
        if self.waiting_bytes > HELD_BYTES {
            // Also when paused before: a rebalance lifts a pause, and records came.
            log.pause(partition);
            self.paused = true;
        }
    }

    /// Whether records wait here, or the partition is paused: the reader then listens for the
    /// lane making room.
    fn holds_back(&self) -> bool {
        self.paused || !self.waiting.is_empty()
    }

    /// Hands waiting records over while the lane has room; resumes the partition once nothing
    /// waits and the lane is down to half its depth.
    fn refill(&mut self, partition: u32, log: &dyn LogSubscription) {
        self.forward();
        if self.paused && self.waiting.is_empty() && self.sender.capacity() >= LANE_DEPTH / 2 {
            log.resume(partition);
            self.paused = false;
        }
    }

    fn forward(&mut self) {
        while let Some(record) = self.waiting.pop_front() {
            let size = held_size(&record);
            match self.sender.try_send(record) {
                Ok(()) => self.waiting_bytes -= size,
                Err(TrySendError::Full(record)) => {
                    self.waiting.push_front(record);
                    return;
                }
                // The lane ended (a panic): its records come again to the partition's next
                // holder, from the committed position.
                Err(TrySendError::Closed(_)) => {
                    self.waiting.clear();
                    self.waiting_bytes = 0;
                    return;
                }
            }
        }
    }
}

/// What a record held back counts against [`HELD_BYTES`].
fn held_size(record: &LogRecord) -> usize {
    record.key.len() + record.payload.len()
}

/// Joins the readers' group, retrying until the log answers.
async fn subscribe(log: &Arc<dyn CommandLog>) -> Arc<dyn LogSubscription> {
    let mut backoff = BACKOFF_MIN;
    loop {
        match log.subscribe().await {
            Ok(subscription) => return subscription,
            Err(error) => {
                tracing::warn!(%error, "cannot join the command log's readers; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use adapters::InMemoryCommandLog;

    use super::*;

    const SIZE: usize = 100_000;

    /// Takes every record the log delivers now into `feed`, as the reader does; how many came.
    async fn read(log: &dyn LogSubscription, feed: &mut Feed) -> usize {
        let mut count = 0;
        while let Some(record) = log.next(Duration::from_millis(20)).await.unwrap() {
            feed.take(record.position.partition, record, log);
            count += 1;
        }
        count
    }

    #[tokio::test]
    async fn a_full_lane_pauses_its_partition_only_past_the_held_bytes_and_resumes_drained() {
        let log = InMemoryCommandLog::new(1);
        let total = LANE_DEPTH + HELD_BYTES / SIZE + 20;
        for _ in 0..total {
            log.append("id", b"organisation", &[7; SIZE]).await.unwrap();
        }
        let subscription = log.subscribe().await.unwrap();
        let (sender, mut lane) = mpsc::channel(LANE_DEPTH);
        let mut feed = Feed::new(sender);

        // The lane takes its depth; the reader holds records back until they pass the held
        // bytes, and only then is the partition paused: the rest stays in the log.
        let held = HELD_BYTES / SIZE + 1;
        assert_eq!(read(&*subscription, &mut feed).await, LANE_DEPTH + held);
        assert!(feed.paused);
        assert_eq!(feed.waiting.len(), held);
        assert!(feed.waiting_bytes > HELD_BYTES);
        assert!(feed.holds_back());

        // The lane drains: the records held back go first, and the partition is resumed once
        // none waits and the lane is down to half its depth.
        let mut offsets = Vec::new();
        while let Ok(record) = lane.try_recv() {
            offsets.push(record.position.offset);
            feed.refill(0, &*subscription);
        }
        assert!(!feed.paused);
        assert!(feed.waiting.is_empty());
        assert_eq!(feed.waiting_bytes, 0);
        assert_eq!(
            read(&*subscription, &mut feed).await,
            total - LANE_DEPTH - held
        );
        while let Ok(record) = lane.try_recv() {
            offsets.push(record.position.offset);
        }
        assert_eq!(offsets, (0..total as u64).collect::<Vec<_>>());
    }
}
