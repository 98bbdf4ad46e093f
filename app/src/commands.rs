//! The API's side of asynchronous writes: publish a command, remember it as accepted, and wait
//! for its outcome when a client asks to (`Prefer: wait=N`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use domain::{
    CommandId, CommandLog, CommandPage, CommandRecord, CommandService, LogError, PaymentCommand,
    RepositoryError,
};
use tokio::sync::mpsc;

use crate::command_metrics::CommandMetrics;

/// How many accepted records wait for the background writer before publishers queue up behind.
const ACCEPTED_QUEUE: usize = 8192;
/// Most accepted records written in one call of the command store.
const ACCEPTED_BATCH: usize = 512;
/// How long the background writer gathers accepted records before it stores them, so that a
/// peak costs the store about one write per interval (a page, see [`CommandPage`]) instead of
/// one per command. Other instances see a command `accepted` that much later.
const ACCEPTED_GATHER: Duration = Duration::from_millis(10);
/// How often a waiting request looks for its command's outcome.
const WAIT_POLL: Duration = Duration::from_millis(20);

/// Why a command was not published.
#[derive(Debug)]
pub enum PublishError {
    /// The broker did not acknowledge within the bound (the command may or may not be in the
    /// log: like a timed-out write, the outcome is unknown).
    Unavailable(String),
    /// The command is larger than the broker takes.
    TooLarge(String),
    /// The broker refused the command for good.
    Refused(String),
}

/// Publishes commands and reads their records. Cheap to clone.
#[derive(Clone)]
pub struct AsyncWrites {
    log: Arc<dyn CommandLog>,
    commands: CommandService,
    timeout: Duration,
    longest_wait: Duration,
    metrics: CommandMetrics,
    accepted: mpsc::Sender<CommandRecord>,
    /// Accepted records not written to the store yet, so this instance never answers 404 for a
    /// command it has just accepted.
    pending: Pending,
    /// The page new command ids are issued from; the writer turns to a new one as it stores.
    page: CurrentPage,
}

/// The page command ids are issued from, and how many it has issued.
#[derive(Clone)]
struct CurrentPage(Arc<Mutex<(CommandPage, usize)>>);

impl CurrentPage {
    fn new() -> Self {
        Self(Arc::new(Mutex::new((CommandPage::generate(), 0))))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (CommandPage, usize)> {
        // Copies in and out: nothing can panic while it is held.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A fresh id; a page that issued a batch's worth turns first, so a page stays one batch
    /// even while the store is slow and the writer does not turn it.
    fn id(&self) -> CommandId {
        let mut current = self.lock();
        if current.1 >= ACCEPTED_BATCH {
            *current = (CommandPage::generate(), 0);
        }
        current.1 += 1;
        current.0.id()
    }

    fn turn(&self) {
        *self.lock() = (CommandPage::generate(), 0);
    }
}

/// Accepted records on their way to the store.
#[derive(Clone, Default)]
struct Pending(Arc<Mutex<HashMap<CommandId, CommandRecord>>>);

impl Pending {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<CommandId, CommandRecord>> {
        // Inserts and removals complete before anything that could panic.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl std::fmt::Debug for AsyncWrites {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncWrites")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl AsyncWrites {
    /// Publishes to `log` within `timeout`; records accepted commands in the background; a
    /// request waits for an outcome at most `longest_wait`. Needs a tokio runtime (it starts
    /// the background writer).
    pub fn new(
        log: Arc<dyn CommandLog>,
        commands: CommandService,
        timeout: Duration,
        longest_wait: Duration,
        metrics: CommandMetrics,
    ) -> Self {
        let (accepted, queue) = mpsc::channel(ACCEPTED_QUEUE);
        let pending = Pending::default();
        let page = CurrentPage::new();
        tokio::spawn(write_accepted(
            commands.clone(),
            queue,
            pending.clone(),
            page.clone(),
        ));
        Self {
            log,
            commands,
            timeout,
            longest_wait,
            metrics,
            accepted,
            pending,
            page,
        }
    }

    /// A fresh id for a command to publish, from this instance's current page.
    pub fn command_id(&self) -> CommandId {
        self.page.id()
    }

    /// The longest a request may wait for an outcome (`Prefer: wait`).
    pub fn longest_wait(&self) -> Duration {
        self.longest_wait
    }

    /// Appends `command` to the log, keyed by its organisation, and returns once the broker
    /// acknowledged it; never `Ok` for a command the log did not take.
    pub async fn publish(&self, command: &PaymentCommand) -> Result<(), PublishError> {
        let payload = command.encode();
        let key = command.key();
        let id = command.id.to_string();
        let append = self.log.append(&id, key.as_bytes(), &payload);
        match tokio::time::timeout(self.timeout, append).await {
            Ok(Ok(_position)) => {}
            Ok(Err(LogError::Unavailable(cause))) => return Err(PublishError::Unavailable(cause)),
            Ok(Err(LogError::TooLarge(cause))) => return Err(PublishError::TooLarge(cause)),
            Ok(Err(LogError::Internal(cause))) => return Err(PublishError::Refused(cause)),
            Err(_) => {
                return Err(PublishError::Unavailable(format!(
                    "no acknowledgement within {} ms",
                    self.timeout.as_millis()
                )))
            }
        }
        // The record only serves status reads before the worker finishes the command; a full
        // queue (the store far behind) waits here rather than dropping it.
        self.metrics.published(command.action());
        let record = command.accepted_record();
        self.pending.lock().insert(record.id, record.clone());
        let _ = self.accepted.send(record).await;
        Ok(())
    }

    /// The record of a command.
    pub async fn find(&self, id: CommandId) -> Result<Option<CommandRecord>, RepositoryError> {
        if let Some(record) = self.commands.find(id).await? {
            return Ok(Some(record));
        }
        let pending = self.pending.lock().get(&id).cloned();
        match pending {
            Some(record) => Ok(Some(record)),
            // Written (and so no longer pending) since the first read: read again.
            None => self.commands.find(id).await,
        }
    }

    /// Waits up to `wait` for `id` to finish; the finished record, or `None` when it did not
    /// finish in time (or its record cannot be read).
    pub async fn wait_for(&self, id: CommandId, wait: Duration) -> Option<CommandRecord> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Ok(Some(record)) = self.commands.find_finished(id).await {
                return Some(record);
            }
            if tokio::time::Instant::now() + WAIT_POLL > deadline {
                return None;
            }
            tokio::time::sleep(WAIT_POLL).await;
        }
    }

    /// Whether the broker answers.
    pub async fn check_health(&self) -> Result<(), LogError> {
        match tokio::time::timeout(self.timeout, self.log.check_health()).await {
            Ok(result) => result,
            Err(_) => Err(LogError::Unavailable("no answer in time".into())),
        }
    }
}

/// Writes accepted records in batches, off the request path: the point of asynchronous writes
/// is that a peak of requests does not press on the database. Each batch gathers for
/// [`ACCEPTED_GATHER`] (or until it is full); then new ids come from a new page, and the batch is
/// stored: mostly one page, plus the records of the previous one whose broker acknowledgement
/// came after it was stored.
async fn write_accepted(
    commands: CommandService,
    mut queue: mpsc::Receiver<CommandRecord>,
    pending: Pending,
    page: CurrentPage,
) {
    let mut batch = Vec::with_capacity(ACCEPTED_BATCH);
    while queue.recv_many(&mut batch, ACCEPTED_BATCH).await > 0 {
        let deadline = tokio::time::Instant::now() + ACCEPTED_GATHER;
        while batch.len() < ACCEPTED_BATCH {
            let room = ACCEPTED_BATCH - batch.len();
            match tokio::time::timeout_at(deadline, queue.recv_many(&mut batch, room)).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        page.turn();
        if let Err(error) = commands.record_accepted(&batch).await {
            // The worker records the outcome regardless; only the early `accepted` status of
            // these commands is lost to other instances.
            tracing::warn!(%error, batch = batch.len(), "accepted commands not recorded");
        }
        let mut pending = pending.lock();
        for record in batch.drain(..) {
            pending.remove(&record.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_issues_at_most_a_batch_of_ids() {
        let page = CurrentPage::new();
        let first = page.id().page();
        for _ in 1..ACCEPTED_BATCH {
            assert_eq!(page.id().page(), first);
        }
        assert_eq!(page.lock().1, ACCEPTED_BATCH);
        page.id();
        assert_eq!(page.lock().1, 1, "a new page after a batch of ids");
        page.turn();
        assert_eq!(page.lock().1, 0);
    }
}
