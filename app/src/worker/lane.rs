//! One partition's lane: applies its records, one organisation's after another, several
//! organisations at once (see [`Window`]), and commits the partition's position as it goes.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;

use domain::{
    CommandId, CommandRecord, CommandService, LogPosition, LogRecord, LogSubscription,
    PaymentCommand, RepositoryError,
};
use tokio::sync::{mpsc, Notify};
use tokio::task::JoinSet;

use super::outcomes::Outcomes;
use super::window::{Window, WINDOW};
use super::{BACKOFF_MAX, BACKOFF_MIN, INTERNAL_ATTEMPTS, LANE_DEPTH};
use crate::command_metrics::CommandMetrics;

/// What a lane works with, shared by every lane of a worker.
#[derive(Clone)]
pub(super) struct Tools {
    pub(super) subscription: Arc<dyn LogSubscription>,
    pub(super) commands: CommandService,
    pub(super) outcomes: Outcomes,
    pub(super) metrics: CommandMetrics,
    /// Told when a lane made room, for the reader holding records back.
    pub(super) room: Arc<Notify>,
}

/// A record taken into the window, not started yet.
struct Taken {
    record: LogRecord,
    /// Its command's accepted record (id, payment, ...), read once; `None` for a record that
    /// is not a command.
    accepted: Option<CommandRecord>,
    /// It may have been applied by the partition's previous holder (or by this lane before a
    /// rebalance), and its stored outcome was not looked up yet.
    unchecked: bool,
}

/// What a step of one record's work came to.
enum Step {
    /// Applied (or given up); `None` for a record that is not a command.
    Settled(u64, Option<CommandRecord>),
    /// Finished, its stored record (`None` when not stored; logged).
    Stored(u64, Option<CommandRecord>),
    /// A commit returned.
    Committed,
}

/// Applies one partition's records.
///
/// **Order.** Records come in offset order; one organisation's commands are applied one after
/// another, and a command waits for the outcome of any earlier one on its payment to be stored
/// ([`Window`]). The position committed is the last record before the first one not done.
///
/// **Rebalances.** A record delivered under a holding of the partition that is over (a
/// rebalance gave it away, and maybe back) is not applied and not committed, nor is one taken
/// before and not started when the holding ended; the lane forgets what it had not started,
/// finishes what it had, then skips every record of that holding or an earlier one, and starts
/// afresh with the first record of a newer holding (delivered from the committed position,
/// wherever another member moved it meanwhile), so nothing read ahead before the rebalance is
/// applied out of order, and a partition given back is applied again.
///
/// **Replays.** Whenever the partition's records start again (the lane's first record, a
/// partition regained, or a log that delivers an offset again), the previous holder may have
/// applied up to a window past the committed position: for those records, and for every one
/// this lane had taken before, the stored outcomes are looked up first (together, for the
/// records that came together), and a command that has one is not applied again (a create
/// applied again after a later delete would bring the payment back). A command not finished
/// yet is applied: it is the latest of its payment, so it finds its own mark if it was applied
/// before, and settles on the same outcome.
pub(super) async fn lane(partition: u32, mut records: mpsc::Receiver<LogRecord>, tools: Tools) {
    let mut lane = Lane {
        partition,
        tools,
        window: Window::default(),
        taken: HashMap::new(),
        work: JoinSet::new(),
        generation: None,
        seen_up_to: None,
        checks_left: WINDOW,
        to_commit: None,
        committing: false,
    };
    loop {
        tokio::select! {
            record = records.recv(), if !lane.window.is_full() => {
                let Some(record) = record else { break };
                lane.receive(record).await;
                // Whatever else is waiting comes along, so that replays are checked together.
                while !lane.window.is_full() {
                    let Ok(record) = records.try_recv() else { break };
                    lane.receive(record).await;
                }
                if records.len() <= LANE_DEPTH / 2 {
                    // The reader may hold records of this partition back, waiting for room.
                    lane.tools.room.notify_one();
                }
                lane.check_replays().await;
            }
            Some(step) = lane.work.join_next(), if !lane.work.is_empty() => {
                if let Ok(step) = step {
                    lane.settle(step);
                }
            }
        }
        lane.start();
        lane.commit();
    }
    // Shutting down: finish what was started, commit what is done.
    lane.finish_started().await;
    lane.commit();
    lane.finish_started().await;
}

/// One partition's state in its lane.
struct Lane {
    partition: u32,
    tools: Tools,
    window: Window,
    /// Records taken and not started, by offset.
    taken: HashMap<u64, Taken>,
    work: JoinSet<Step>,
    /// The holding of the partition (see [`LogSubscription::holding`]) whose records the lane
    /// applies: records of an earlier one are skipped, one of a later one starts afresh. Once
    /// it is over, the window is lost ([`Window::is_lost`]) and its records are skipped too.
    generation: Option<u64>,
    /// The newest offset taken so far: an offset at or before it is a replay.
    seen_up_to: Option<u64>,
    /// Records still to check after the partition's records started again.
    checks_left: usize,
    /// The position to commit next, and whether a commit is under way (one at a time, so
    /// commits reach the log in order; the lane goes on meanwhile).
    to_commit: Option<u64>,
    committing: bool,
}

impl Lane {
    /// Takes a record delivered into the window, or skips it (a partition lost).
    async fn receive(&mut self, record: LogRecord) {
        let (offset, generation) = (record.position.offset, record.generation);
        if self.generation.is_some_and(|current| generation < current) {
            return; // read ahead under an earlier holding of the partition
        }
        let newer = self.generation != Some(generation);
        if self.tools.subscription.holding(self.partition) != Some(generation) {
            // Read under a holding that is over: the partition was given away (and maybe back),
            // and another member may have applied and committed past this record since. The
            // records come again under the next holding, from the committed position.
            if newer || !self.window.is_lost() {
                self.generation = Some(generation);
                self.lose();
            }
            return;
        }
        let again = newer || self.window.newest().is_some_and(|newest| offset <= newest);
        if again {
            // The partition starts again: what was started before finishes first.
            self.finish_started().await;
            self.window.reset();
            self.taken.clear();
            self.to_commit = None;
            self.generation = Some(generation);
            self.checks_left = WINDOW;
        }
        let unchecked = self.checks_left > 0 || self.seen_up_to.is_some_and(|seen| offset <= seen);
        self.checks_left = self.checks_left.saturating_sub(1);
        self.seen_up_to = Some(self.seen_up_to.map_or(offset, |seen| seen.max(offset)));
        let accepted = PaymentCommand::decode_record(&record.payload);
        let payment = accepted.as_ref().map(|accepted| accepted.payment_id);
        self.window.take(offset, record.key.clone(), payment);
        self.taken.insert(
            offset,
            Taken {
                record,
                accepted,
                unchecked,
            },
        );
    }

    /// Looks the stored outcomes of the records taken unchecked up, in one call; those finished
    /// before are done, the others are applied as usual.
    async fn check_replays(&mut self) {
        let unchecked: Vec<(u64, CommandId)> = self
            .taken
            .iter_mut()
            .filter(|(_, taken)| taken.unchecked)
            .filter_map(|(offset, taken)| {
                taken.unchecked = false;
                Some((*offset, taken.accepted.as_ref()?.id))
            })
            .collect();
        if unchecked.is_empty() {
            return;
        }
        let ids: Vec<CommandId> = unchecked.iter().map(|(_, id)| *id).collect();
        let commands = &self.tools.commands;
        let finished = match retry(None, || commands.find_finished_many(&ids)).await {
            Ok(finished) => finished,
            Err(cause) => {
                // Applied: the stored outcome stays, and the effect is the same or none.
                tracing::error!(%cause, partition = self.partition, "stored outcomes not read");
                return;
            }
        };
        let finished: HashSet<CommandId> = finished.iter().map(|record| record.id).collect();
        for (offset, id) in unchecked {
            if finished.contains(&id) {
                tracing::debug!(command_id = %id, partition = self.partition, offset,
                    "command delivered again after it finished; not applied again");
                self.taken.remove(&offset);
                self.window.done(offset);
            }
        }
    }

    /// Forgets what was taken and not started, and anything to commit (a commit now could move
    /// the new holder's position back): the lane's holding of the partition is over.
    fn lose(&mut self) {
        self.window.lose();
        self.taken.clear();
        self.to_commit = None;
    }

    /// Starts what the window lets start, while the lane's holding of the partition lasts: a
    /// partition given away since the records were taken is applied by its new holder, and
    /// applying them here too would race it.
    fn start(&mut self) {
        if self.window.is_lost() || self.generation.is_none() {
            return;
        }
        if self.tools.subscription.holding(self.partition) != self.generation {
            self.lose();
            return;
        }
        for offset in self.window.start() {
            if let Some(taken) = self.taken.remove(&offset) {
                let commands = self.tools.commands.clone();
                self.work.spawn(async move {
                    Step::Settled(
                        offset,
                        apply(&commands, &taken.record, taken.accepted).await,
                    )
                });
            }
        }
    }

    /// Waits until everything started is done (its outcome stored).
    async fn finish_started(&mut self) {
        while let Some(step) = self.work.join_next().await {
            if let Ok(step) = step {
                self.settle(step);
            }
        }
    }

    /// Commits the partition up to the last record before the first one not done, in the
    /// background: the lane does not wait for the log's answer.
    fn commit(&mut self) {
        if let Some(offset) = self.window.committable() {
            self.to_commit = Some(offset);
        }
        if self.committing {
            return;
        }
        let Some(offset) = self.to_commit.take() else {
            return;
        };
        self.committing = true;
        let (subscription, partition) = (self.tools.subscription.clone(), self.partition);
        let generation = self.generation;
        self.work.spawn(async move {
            if subscription.holding(partition) != generation {
                // Given away since (and maybe back): the position is the old holding's.
                return Step::Committed;
            }
            let position = LogPosition { partition, offset };
            if let Err(error) = subscription.commit(position).await {
                // The next holder of the partition applies the commands again: exactly once in
                // effect all the same.
                tracing::warn!(%error, partition, offset, "command position not committed");
            }
            Step::Committed
        });
    }

    /// Moves a record on after `step`: an applied one to storing its outcome, a stored one to
    /// done.
    fn settle(&mut self, step: Step) {
        match step {
            Step::Settled(offset, Some(finished)) => {
                self.window.applied(offset);
                let outcomes = self.tools.outcomes.clone();
                self.work
                    .spawn(async move { Step::Stored(offset, outcomes.store(finished).await) });
            }
            Step::Settled(offset, None) => self.window.done(offset),
            Step::Stored(offset, stored) => {
                if let Some(stored) = stored {
                    let applied = stored.outcome().is_some_and(|o| o.is_applied());
                    tracing::debug!(command_id = %stored.id, partition = self.partition, offset,
                        applied, "command finished");
                    self.tools.metrics.finished(&stored);
                }
                self.window.done(offset);
            }
            Step::Committed => {
                self.committing = false;
                self.commit();
            }
        }
    }
}

/// Applies one record (whose command's `accepted` record was read when it was taken) and
/// returns its finished record, not stored yet; `None` for a record that is not a command.
/// Unavailable storage is waited out (the record waits, and its organisation with it; nothing is
/// skipped); a command that cannot be decoded or keeps failing with an internal error, or that
/// the log will not deliver again, settles as rejected with `internal_error`.
async fn apply(
    commands: &CommandService,
    record: &LogRecord,
    accepted: Option<CommandRecord>,
) -> Option<CommandRecord> {
    let position = record.position;
    let Some(accepted) = accepted else {
        tracing::error!(
            partition = position.partition,
            offset = position.offset,
            "log record is not a command; skipped"
        );
        return None;
    };
    if record.delivery_limit_reached {
        // Every delivery so far went to a worker that died before finishing it, as often as the
        // log allows: a command that keeps killing its workers is rejected rather than tried
        // once more. One applied before keeps its first outcome (first outcome wins).
        tracing::error!(command_id = %accepted.id, partition = position.partition,
            offset = position.offset, "command delivered as often as the log allows; rejected");
        let reason = "the command was delivered as often as the command log allows, each time \
            to a worker that stopped before finishing it";
        return Some(CommandService::rejected(accepted, reason.to_owned()));
    }
    let command = match PaymentCommand::decode(&record.payload) {
        Ok(command) => command,
        Err(error) => {
            tracing::error!(%error, command_id = %accepted.id, partition = position.partition,
                offset = position.offset, "command cannot be decoded; rejected");
            return Some(CommandService::rejected(accepted, error.to_string()));
        }
    };
    match retry(Some(command.id), || commands.apply_effect(&command)).await {
        Ok(finished) => {
            let applied = finished.outcome().is_some_and(|o| o.is_applied());
            tracing::debug!(command_id = %command.id, partition = position.partition,
                offset = position.offset, sub = ?command.subject, applied, "command applied");
            Some(finished)
        }
        Err(cause) => {
            tracing::error!(%cause, command_id = %command.id, request_id = ?command.request_id,
                "command keeps failing; rejected with internal_error");
            Some(CommandService::rejected(accepted, cause))
        }
    }
}

/// Runs `attempt` (for `command_id`, when it is about one command) until it succeeds, waiting
/// out unavailable storage with backoff (logged); the cause of the last failure after
/// [`INTERNAL_ATTEMPTS`] internal ones.
async fn retry<T, F>(
    command_id: Option<CommandId>,
    mut attempt: impl FnMut() -> F,
) -> Result<T, String>
where
    F: Future<Output = Result<T, RepositoryError>>,
{
    let mut backoff = BACKOFF_MIN;
    let mut internal_failures = 0;
    loop {
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(RepositoryError::Internal(cause)) if internal_failures + 1 >= INTERNAL_ATTEMPTS => {
                return Err(cause)
            }
            Err(error) => {
                if matches!(error, RepositoryError::Internal(_)) {
                    internal_failures += 1;
                }
                tracing::warn!(%error, command_id = command_id.map(tracing::field::display),
                    "storage failed; retrying");
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}
