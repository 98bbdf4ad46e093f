//! The command store port: what is known about each command, for the status resource and for
//! exactly-once effects.

use async_trait::async_trait;

use crate::commands::{CommandRecord, Timestamp};
use crate::errors::RepositoryError;
use crate::models::CommandId;

/// Storage of command records.
///
/// Contract (checked by `adapters`' command store contract suite on every adapter):
/// - `record_accepted` never changes an existing record (a finished one stays finished).
/// - `mark_deleting` turns an accepted (or absent) record into `Deleting`, never a finished one.
/// - `record_finished` stores the first finished record of an id and returns it; a later call
///   for the same id changes nothing and returns the stored one (outcomes never change).
///   `record_finished_many` does the same for each record of a batch, each answered on its own.
/// - Unreachable storage is [`RepositoryError::Unavailable`], never a hang.
/// - Records are kept at least the configured retention after they were accepted.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait CommandStore: Send + Sync {
    /// Records commands that are in the log and not applied yet.
    async fn record_accepted(&self, records: &[CommandRecord]) -> Result<(), RepositoryError>;

    /// Records that a delete found its payment and is about to remove it.
    async fn mark_deleting(&self, record: &CommandRecord) -> Result<(), RepositoryError>;

    /// Records a finished command (first outcome wins) and returns the stored record.
    async fn record_finished(
        &self,
        record: &CommandRecord,
    ) -> Result<CommandRecord, RepositoryError>;

    /// [`Self::record_finished`] for each of `records` (distinct ids), answered in their order;
    /// a store may write them together (one round trip instead of one per record). A failure
    /// is per record: the others are stored all the same.
    async fn record_finished_many(
        &self,
        records: &[CommandRecord],
    ) -> Vec<Result<CommandRecord, RepositoryError>> {
        let mut stored = Vec::with_capacity(records.len());
        for record in records {
            stored.push(self.record_finished(record).await);
        }
        stored
    }

    /// The record of a command, `None` when none is stored (unknown, or past retention).
    async fn find(&self, id: CommandId) -> Result<Option<CommandRecord>, RepositoryError>;

    /// The record of a command once it finished, `None` before (or when none is stored); for
    /// waiting on an outcome, which a store may answer more cheaply than [`Self::find`].
    async fn find_finished(&self, id: CommandId) -> Result<Option<CommandRecord>, RepositoryError> {
        Ok(self
            .find(id)
            .await?
            .filter(|record| record.outcome().is_some()))
    }

    /// The finished records among `ids`, in no particular order (an id unknown or not finished
    /// has none); for a worker that takes a partition over, which checks many commands at once.
    async fn find_finished_many(
        &self,
        ids: &[CommandId],
    ) -> Result<Vec<CommandRecord>, RepositoryError> {
        let mut finished = Vec::new();
        for id in ids {
            finished.extend(self.find_finished(*id).await?);
        }
        Ok(finished)
    }

    /// Removes records accepted before `cutoff` (adapters with their own expiry, such as a
    /// MongoDB TTL index, may do nothing).
    async fn expire(&self, cutoff: Timestamp) -> Result<(), RepositoryError>;
}
