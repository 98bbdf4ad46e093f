//! The API's side of asynchronous writes: publish a command, remember it as accepted, and wait
//! for its outcome when a client asks to (`Prefer: wait=N`).

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
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
/// Accepted records kept for another attempt while the store is unavailable, at most; past it
/// the oldest are given up (logged).
const ACCEPTED_KEPT: usize = 65_536;
/// Backoff bounds of those attempts.
const KEPT_RETRY_MIN: Duration = Duration::from_millis(100);
const KEPT_RETRY_MAX: Duration = Duration::from_secs(2);
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

/// Publishes commands and reads their records. Cheap to clone (one reference count).
#[derive(Clone)]
pub struct AsyncWrites(Arc<Shared>);

/// What the clones of one [`AsyncWrites`] share.
struct Shared {
    log: Arc<dyn CommandLog>,
    commands: CommandService,
    timeout: Duration,
    longest_wait: Duration,
    metrics: CommandMetrics,
    accepted: mpsc::Sender<CommandRecord>,
    /// Accepted records not written to the store yet (on their way, or kept while the store is
    /// unavailable), so this instance never answers 404 for a command it has accepted.
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
            .field("timeout", &self.0.timeout)
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
        Self(Arc::new(Shared {
            log,
            commands,
            timeout,
            longest_wait,
            metrics,
            accepted,
            pending,
            page,
        }))
    }

    /// A fresh id for a command to publish, from this instance's current page.
    pub fn command_id(&self) -> CommandId {
        self.0.page.id()
    }

    /// The longest a request may wait for an outcome (`Prefer: wait`).
    pub fn longest_wait(&self) -> Duration {
        self.0.longest_wait
    }

    /// Appends `command` to the log, keyed by its organisation, and returns once the broker
    /// acknowledged it; never `Ok` for a command the log did not take.
    ///
    /// The append runs to its end even when the caller stops waiting (a client that hung up
    /// drops its request): a command the broker took is applied all the same, so it is counted
    /// as published and its accepted record kept, like any other.
    pub async fn publish(&self, command: &PaymentCommand) -> Result<(), PublishError> {
        let this = self.clone();
        let (payload, key, id) = (command.encode(), command.key(), command.id.to_string());
        let (action, record) = (command.action(), command.accepted_record());
        let append = async move {
            this.append(&id, key.as_bytes(), &payload).await?;
            this.accepted(action, record).await;
            Ok(())
        };
        Finishing(Some(Box::pin(append))).await
    }

    /// Appends one command's bytes within the bound.
    async fn append(&self, id: &str, key: &[u8], payload: &[u8]) -> Result<(), PublishError> {
        let append = self.0.log.append(id, key, payload);
        match tokio::time::timeout(self.0.timeout, append).await {
            Ok(Ok(_position)) => Ok(()),
            Ok(Err(LogError::Unavailable(cause))) => Err(PublishError::Unavailable(cause)),
            Ok(Err(LogError::TooLarge(cause))) => Err(PublishError::TooLarge(cause)),
            Ok(Err(LogError::Internal(cause))) => Err(PublishError::Refused(cause)),
            Err(_) => Err(PublishError::Unavailable(format!(
                "no acknowledgement within {} ms",
                self.0.timeout.as_millis()
            ))),
        }
    }

    /// Counts a command the broker took and hands its accepted record to the writer.
    async fn accepted(&self, action: domain::CommandAction, record: CommandRecord) {
        self.0.metrics.published(action);
        self.0.pending.lock().insert(record.id, record.clone());
        // The record only serves status reads before the worker finishes the command; a full
        // queue (the store far behind) waits here rather than dropping it.
        let _ = self.0.accepted.send(record).await;
    }

    /// The record of a command. While the store cannot be read, a command this instance
    /// accepted and has not stored yet is still answered, from memory, as `accepted`.
    pub async fn find(&self, id: CommandId) -> Result<Option<CommandRecord>, RepositoryError> {
        let stored = self.0.commands.find(id).await;
        if let Ok(Some(record)) = stored {
            return Ok(Some(record));
        }
        let pending = self.0.pending.lock().get(&id).cloned();
        match (pending, stored) {
            (Some(record), _) => Ok(Some(record)),
            (None, Err(error)) => Err(error),
            // Written (and so no longer pending) since the first read: read again.
            (None, Ok(_)) => self.0.commands.find(id).await,
        }
    }

    /// Waits up to `wait` for `id` to finish; the finished record, or `None` when it did not
    /// finish in time (or its record cannot be read).
    pub async fn wait_for(&self, id: CommandId, wait: Duration) -> Option<CommandRecord> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Ok(Some(record)) = self.0.commands.find_finished(id).await {
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
        match tokio::time::timeout(self.0.timeout, self.0.log.check_health()).await {
            Ok(result) => result,
            Err(_) => Err(LogError::Unavailable("no answer in time".into())),
        }
    }
}

/// A future that, dropped before it completed, finishes as a task of its own: cheaper on the
/// path of every request than a task from the start.
struct Finishing<T: 'static>(Option<Pin<Box<dyn Future<Output = T> + Send>>>);

impl<T: 'static> Future for Finishing<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<T> {
        let Some(work) = self.0.as_mut() else {
            return Poll::Pending;
        };
        let output = std::task::ready!(work.as_mut().poll(context));
        self.0 = None;
        Poll::Ready(output)
    }
}

impl<T: 'static> Drop for Finishing<T> {
    fn drop(&mut self) {
        if let Some(work) = self.0.take() {
            // Outside a runtime (the process exiting), there is nothing left to finish it.
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move {
                    work.await;
                });
            }
        }
    }
}

/// Writes accepted records in batches, off the request path: the point of asynchronous writes
/// is that a peak of requests does not press on the database. Each batch gathers for
/// [`ACCEPTED_GATHER`] (or until it is full); then new ids come from a new page, and the batch is
/// stored: mostly one page, plus the records of the previous one whose broker acknowledgement
/// came after it was stored. A batch the store cannot take now is kept ([`Unstored`]) and
/// stored once it can.
async fn write_accepted(
    commands: CommandService,
    mut queue: mpsc::Receiver<CommandRecord>,
    pending: Pending,
    page: CurrentPage,
) {
    let mut unstored = Unstored {
        commands,
        pending,
        kept: VecDeque::new(),
        backoff: KEPT_RETRY_MIN,
    };
    let mut batch = Vec::with_capacity(ACCEPTED_BATCH);
    loop {
        let receive = queue.recv_many(&mut batch, ACCEPTED_BATCH);
        let received = if unstored.kept.is_empty() {
            receive.await
        } else {
            match tokio::time::timeout(unstored.backoff, receive).await {
                Ok(received) => received,
                Err(_) => {
                    unstored.retry().await;
                    continue;
                }
            }
        };
        if received == 0 {
            // Every sender is gone: a last attempt for what is kept.
            unstored.retry().await;
            return;
        }
        let deadline = tokio::time::Instant::now() + ACCEPTED_GATHER;
        while batch.len() < ACCEPTED_BATCH {
            let room = ACCEPTED_BATCH - batch.len();
            match tokio::time::timeout_at(deadline, queue.recv_many(&mut batch, room)).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        page.turn();
        unstored
            .store(std::mem::replace(
                &mut batch,
                Vec::with_capacity(ACCEPTED_BATCH),
            ))
            .await;
    }
}

/// Accepted records the store could not take yet: kept, still answered by this instance
/// ([`Pending`]), and stored again after a backoff or with the next batch. Until then other
/// instances answer their commands 404 (until the outcome is stored); past [`ACCEPTED_KEPT`]
/// records the oldest are given up, which only that early status loses: the worker records
/// every outcome regardless.
struct Unstored {
    commands: CommandService,
    pending: Pending,
    /// Batches not stored, oldest first.
    kept: VecDeque<Vec<CommandRecord>>,
    /// How long to wait before the next attempt.
    backoff: Duration,
}

impl Unstored {
    /// Stores `batch`, keeping it if the store is unavailable; once it is stored, the batches
    /// kept go next.
    async fn store(&mut self, batch: Vec<CommandRecord>) {
        match self.attempt(batch).await {
            Ok(()) => self.retry().await,
            Err(batch) => {
                self.kept.push_back(batch);
                self.give_up_past_limit();
            }
        }
    }

    /// Stores the batches kept, oldest first, until the store fails again.
    async fn retry(&mut self) {
        while let Some(batch) = self.kept.pop_front() {
            if let Err(batch) = self.attempt(batch).await {
                self.kept.push_front(batch);
                return;
            }
        }
    }

    /// Stores `batch`, or gives it up on an error a retry cannot cure; gives it back when the
    /// store is unavailable.
    async fn attempt(&mut self, batch: Vec<CommandRecord>) -> Result<(), Vec<CommandRecord>> {
        match self.commands.record_accepted(&batch).await {
            Ok(()) => {
                self.backoff = KEPT_RETRY_MIN;
                self.forget(&batch);
                Ok(())
            }
            Err(RepositoryError::Unavailable(cause)) => {
                tracing::warn!(%cause, batch = batch.len(), kept = self.records() + batch.len(),
                    "accepted commands not recorded yet; kept for another attempt");
                self.backoff = (self.backoff * 2).min(KEPT_RETRY_MAX);
                Err(batch)
            }
            Err(error) => {
                // The worker records the outcome regardless; only the early `accepted` status
                // of these commands is lost to other instances.
                tracing::error!(%error, batch = batch.len(), "accepted commands not recorded");
                self.forget(&batch);
                Ok(())
            }
        }
    }

    /// Gives the oldest batches up while more than [`ACCEPTED_KEPT`] records are kept.
    fn give_up_past_limit(&mut self) {
        while self.records() > ACCEPTED_KEPT {
            let Some(oldest) = self.kept.pop_front() else {
                return;
            };
            tracing::error!(
                batch = oldest.len(),
                "accepted commands not recorded: more than {ACCEPTED_KEPT} waited for the store"
            );
            self.forget(&oldest);
        }
    }

    /// Records kept: counted only after an attempt failed, which took far longer.
    fn records(&self) -> usize {
        self.kept.iter().map(Vec::len).sum()
    }

    /// Drops `batch` from the records this instance answers from memory.
    fn forget(&self, batch: &[CommandRecord]) {
        let mut pending = self.pending.lock();
        for record in batch {
            pending.remove(&record.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_finishing_future_dropped_halfway_runs_to_its_end() {
        let (go, wait) = tokio::sync::oneshot::channel::<()>();
        let (done, finished) = tokio::sync::oneshot::channel();
        let work = Finishing(Some(Box::pin(async move {
            let _ = wait.await;
            let _ = done.send(());
        })));
        // Polled, then dropped before it could complete (as a request whose client hung up).
        assert!(tokio::time::timeout(Duration::from_millis(10), work)
            .await
            .is_err());
        go.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(5), finished)
            .await
            .expect("the work finished on its own")
            .unwrap();
    }

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
