//! Storing the outcomes of every partition's commands together.
//!
//! Each command's outcome is one write of its own otherwise: half of what a worker asks of the
//! database per command. One writer per worker gathers the outcomes that arrive while its
//! previous write is under way and stores them in one call, so under load a batch costs about
//! one round trip, and when idle an outcome goes out at once (no timer).

use std::time::Duration;

use domain::{CommandRecord, CommandService, RepositoryError};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Outcomes stored in one call at most.
const BATCH: usize = 256;
/// Backoff bounds while storage is unavailable.
const BACKOFF_MIN: Duration = Duration::from_millis(50);
const BACKOFF_MAX: Duration = Duration::from_secs(2);

type Request = (CommandRecord, oneshot::Sender<Option<CommandRecord>>);

/// The lanes' handle on the writer. Cheap to clone; the writer stops once every handle is
/// dropped and what they sent is stored.
#[derive(Clone)]
pub(super) struct Outcomes {
    sender: mpsc::Sender<Request>,
}

impl Outcomes {
    /// Starts the writer.
    pub(super) fn start(commands: CommandService) -> (Outcomes, JoinHandle<()>) {
        let (sender, receiver) = mpsc::channel(BATCH);
        (Outcomes { sender }, tokio::spawn(write(commands, receiver)))
    }

    /// Stores `finished` (first outcome wins) and returns the record stored, once it is;
    /// `None` when it cannot be stored for a reason other than unavailable storage, which is
    /// waited out (logged either way).
    pub(super) async fn store(&self, finished: CommandRecord) -> Option<CommandRecord> {
        let (reply, stored) = oneshot::channel();
        self.sender.send((finished, reply)).await.ok()?;
        stored.await.ok().flatten()
    }
}

async fn write(commands: CommandService, mut requests: mpsc::Receiver<Request>) {
    let mut batch = Vec::with_capacity(BATCH);
    while requests.recv_many(&mut batch, BATCH).await > 0 {
        let mut backoff = BACKOFF_MIN;
        while !batch.is_empty() {
            let records: Vec<CommandRecord> =
                batch.iter().map(|(record, _)| record.clone()).collect();
            let answers = commands.record_finished_many(&records).await;
            let mut unavailable = Vec::new();
            for ((record, reply), answer) in batch.drain(..).zip(answers) {
                match answer {
                    Ok(stored) => drop(reply.send(Some(stored))),
                    Err(RepositoryError::Unavailable(cause)) => {
                        tracing::warn!(%cause, command_id = %record.id,
                            "storage unavailable for a command outcome; retrying");
                        unavailable.push((record, reply));
                    }
                    Err(error) => {
                        tracing::error!(%error, command_id = %record.id,
                            "command outcome not recorded");
                        drop(reply.send(None));
                    }
                }
            }
            if !unavailable.is_empty() {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
            batch = unavailable;
        }
    }
}
