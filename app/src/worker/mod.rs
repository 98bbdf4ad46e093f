//! The worker: the second inbound adapter. It reads commands from the log and applies them
//! through the domain's [`CommandService`], each partition strictly in order, one command after
//! another, committing a position only after the command's effect and outcome are stored.
//!
//! No axum here: the worker depends on the domain's ports and use cases only.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use domain::{
    CommandLog, CommandService, LogPosition, LogRecord, LogSubscription, PaymentCommand,
    RepositoryError,
};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::command_metrics::CommandMetrics;

/// How long one wait for the next record lasts (the shutdown signal is checked in between).
const POLL: Duration = Duration::from_millis(200);
/// Records read ahead per partition before the reader waits for that partition's lane.
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
    let mut lanes: HashMap<u32, mpsc::Sender<LogRecord>> = HashMap::new();
    let mut running = JoinSet::new();
    let mut backoff = BACKOFF_MIN;
    let mut lag_updated = tokio::time::Instant::now();
    loop {
        if lag_updated.elapsed() >= LAG_EVERY {
            metrics.set_lag(&subscription.lag());
            lag_updated = tokio::time::Instant::now();
        }
        let next = tokio::select! {
            next = subscription.next(POLL) => next,
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
        let lane = lanes.entry(partition).or_insert_with(|| {
            let (sender, receiver) = mpsc::channel(LANE_DEPTH);
            running.spawn(lane(
                partition,
                receiver,
                subscription.clone(),
                commands.clone(),
                metrics.clone(),
            ));
            sender
        });
        // A lane only stops when its sender is dropped, below.
        let _ = lane.send(record).await;
    }
    lanes.clear();
    while running.join_next().await.is_some() {}
    tracing::info!("worker stopped");
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
) {
    let mut resume_at: Option<u64> = None;
    while let Some(record) = records.recv().await {
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
            Ok(record) => {
                tracing::debug!(command_id = %command.id, applied = record.outcome().is_some_and(|o| o.is_applied()), "command finished");
                return Some(record);
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
