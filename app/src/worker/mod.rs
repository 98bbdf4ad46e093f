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
/// Records read ahead per partition (beyond its lane's window) before the reader pauses that
/// partition (see [`Feed`]).
const LANE_DEPTH: usize = 64;
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
            held_back |= feed.paused;
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
/// lane's depth). A record a full lane cannot take waits here, the log is asked to pause the
/// partition (so no more than about one such record waits), and it is resumed once the lane
/// has drained to half its depth.
struct Feed {
    sender: mpsc::Sender<LogRecord>,
    /// Records delivered that the lane had no room for yet, in delivery order.
    waiting: VecDeque<LogRecord>,
    /// Whether the log was asked to pause the partition and not to resume it since.
    paused: bool,
}

impl Feed {
    fn new(sender: mpsc::Sender<LogRecord>) -> Feed {
        Feed {
            sender,
            waiting: VecDeque::new(),
            paused: false,
        }
    }

    /// Hands `record` to the lane behind those waiting; pauses the partition if it must wait.
    fn take(&mut self, partition: u32, record: LogRecord, log: &dyn LogSubscription) {
        self.waiting.push_back(record);
        self.forward();
        if !self.waiting.is_empty() {
            // Also when paused before: a rebalance lifts a pause, and a record came.
            log.pause(partition);
            self.paused = true;
        }
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
            match self.sender.try_send(record) {
                Ok(()) => {}
                Err(TrySendError::Full(record)) => {
                    self.waiting.push_front(record);
                    return;
                }
                // The lane ended (a panic): its records come again to the partition's next
                // holder, from the committed position.
                Err(TrySendError::Closed(_)) => {
                    self.waiting.clear();
                    return;
                }
            }
        }
    }
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
