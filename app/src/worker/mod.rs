//! The worker: the second inbound adapter. It reads commands from the log and applies them
//! through the domain's [`CommandService`], each partition strictly in order, one command after
//! another, committing a position only after the command's effect and outcome are stored.
//!
//! No axum here: the worker depends on the domain's ports and use cases only.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use domain::{
    CommandLog, CommandService, LogPosition, LogRecord, LogSubscription, PaymentCommand,
    RepositoryError,
};
use tokio::sync::mpsc::{self, error::TrySendError};
use tokio::sync::Notify;
use tokio::task::JoinSet;

use crate::command_metrics::CommandMetrics;

/// How long one wait for the next record lasts (the shutdown signal is checked in between).
const POLL: Duration = Duration::from_millis(200);
/// Records read ahead per partition before the reader pauses that partition (see [`Feed`]).
const LANE_DEPTH: usize = 64;
/// Backoff bounds while storage or the log is unavailable.
const BACKOFF_MIN: Duration = Duration::from_millis(50);
const BACKOFF_MAX: Duration = Duration::from_secs(2);
/// How often the consumer-lag gauge is refreshed.
const LAG_EVERY: Duration = Duration::from_secs(1);
/// Attempts at a command that fails with an internal storage error before it is rejected.
const INTERNAL_ATTEMPTS: u32 = 5;

/// Applies commands from `log` until `shutdown` completes; then finishes the command each
/// partition is applying and returns.
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
    let mut lanes: HashMap<u32, Feed> = HashMap::new();
    let room = Arc::new(Notify::new());
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
            running.spawn(lane(
                partition,
                receiver,
                subscription.clone(),
                commands.clone(),
                metrics.clone(),
                room.clone(),
            ));
            Feed::new(sender)
        });
        feed.take(partition, record, &*subscription);
    }
    lanes.clear();
    while running.join_next().await.is_some() {}
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

/// Applies one partition's records in order.
///
/// A record of a partition this worker no longer holds (a rebalance gave it away) is skipped
/// and not committed; the lane then skips every later record until the partition's records come
/// again from a position at or before the first one skipped (the committed position), so
/// nothing read ahead before the rebalance is applied out of order. Records delivered twice
/// (read ahead, then again from the committed position; or a log that lost its positions, as a
/// restarted in-memory test broker does) are applied again: applying a command is idempotent
/// and its first outcome stays.
async fn lane(
    partition: u32,
    mut records: mpsc::Receiver<LogRecord>,
    subscription: Arc<dyn LogSubscription>,
    commands: CommandService,
    metrics: CommandMetrics,
    room: Arc<Notify>,
) {
    let mut resume_at: Option<u64> = None;
    while let Some(record) = records.recv().await {
        if records.len() <= LANE_DEPTH / 2 {
            // The reader may hold records of this partition back, waiting for room.
            room.notify_one();
        }
        let offset = record.position.offset;
        if resume_at.is_some_and(|resume| offset > resume) {
            continue; // read ahead before a rebalance; comes again from the committed position
        }
        if !subscription.holds(partition) {
            resume_at = Some(resume_at.map_or(offset, |resume| resume.min(offset)));
            continue;
        }
        resume_at = None;
        let finished = match record.delivery_limit_reached {
            false => apply(&commands, &record).await,
            true => give_up(&commands, &record).await,
        };
        if let Some(finished) = finished {
            metrics.finished(&finished);
        }
        commit(&*subscription, &record).await;
    }
}

/// Commits `record`'s position; a failure is logged, not retried.
async fn commit(subscription: &dyn LogSubscription, record: &LogRecord) {
    let LogPosition { partition, offset } = record.position;
    if let Err(error) = subscription.commit(record.position).await {
        // The next holder of the partition applies the command again: exactly once in effect
        // all the same.
        tracing::warn!(%error, partition, offset, "command position not committed");
    }
}

/// Finishes a record the log will not deliver again (every delivery so far went to a worker
/// that died before committing it, as often as the log allows): a command that keeps killing
/// its workers is recorded rejected with `internal_error` rather than tried once more. A
/// command applied before is not changed: the first outcome recorded wins.
async fn give_up(commands: &CommandService, record: &LogRecord) -> Option<domain::CommandRecord> {
    let position = record.position;
    let Some(accepted) = PaymentCommand::decode_record(&record.payload) else {
        tracing::error!(
            partition = position.partition,
            offset = position.offset,
            "log record is not a command; skipped"
        );
        return None;
    };
    tracing::error!(command_id = %accepted.id, partition = position.partition,
        offset = position.offset, "command delivered as often as the log allows; rejected");
    let reason = "the command was delivered as often as the command log allows, each time to a \
        worker that stopped before finishing it";
    retry_unavailable(|| commands.reject(accepted.clone(), reason.to_owned())).await
}

/// Applies one record until its outcome is stored, and returns the stored record. Unavailable
/// storage is waited out (the partition pauses, never skips); a command that cannot be decoded
/// or keeps failing with an internal error is recorded rejected with `internal_error`.
async fn apply(commands: &CommandService, record: &LogRecord) -> Option<domain::CommandRecord> {
    let command = match PaymentCommand::decode(&record.payload) {
        Ok(command) => command,
        Err(error) => {
            let position = record.position;
            match PaymentCommand::decode_record(&record.payload) {
                Some(accepted) => {
                    tracing::error!(%error, command_id = %accepted.id, partition = position.partition,
                        offset = position.offset, "command cannot be decoded; rejected");
                    let reason = error.to_string();
                    return retry_unavailable(|| commands.reject(accepted.clone(), reason.clone()))
                        .await;
                }
                None => tracing::error!(%error, partition = position.partition,
                    offset = position.offset, "log record is not a command; skipped"),
            }
            return None;
        }
    };
    let mut internal_failures = 0;
    let mut backoff = BACKOFF_MIN;
    loop {
        match commands.apply(&command).await {
            Ok(finished) => {
                let LogPosition { partition, offset } = record.position;
                let applied = finished.outcome().is_some_and(|o| o.is_applied());
                tracing::debug!(command_id = %command.id, partition, offset,
                    sub = ?command.subject, applied, "command finished");
                return Some(finished);
            }
            Err(RepositoryError::Internal(cause)) if internal_failures + 1 >= INTERNAL_ATTEMPTS => {
                tracing::error!(%cause, command_id = %command.id, request_id = ?command.request_id,
                    "command keeps failing; rejected with internal_error");
                return retry_unavailable(|| {
                    commands.reject(command.accepted_record(), cause.clone())
                })
                .await;
            }
            Err(error) => {
                if matches!(error, RepositoryError::Internal(_)) {
                    internal_failures += 1;
                }
                tracing::warn!(%error, command_id = %command.id, "command not applied yet; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
        }
    }
}

/// Runs `attempt` until it does not fail with an unavailable storage; its value, `None` after
/// another failure (logged).
async fn retry_unavailable<T, F>(mut attempt: impl FnMut() -> F) -> Option<T>
where
    F: Future<Output = Result<T, RepositoryError>>,
{
    let mut backoff = BACKOFF_MIN;
    loop {
        match attempt().await {
            Ok(value) => return Some(value),
            Err(RepositoryError::Unavailable(cause)) => {
                tracing::warn!(%cause, "storage unavailable; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
            Err(error) => {
                tracing::error!(%error, "command outcome not recorded");
                return None;
            }
        }
    }
}
