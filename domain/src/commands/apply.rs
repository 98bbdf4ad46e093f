//! The use case that applies a command: the synchronous use cases, run once in effect.

use std::sync::Arc;

use crate::commands::{
    CommandBody, CommandError, CommandOutcome, CommandRecord, CommandStatus, PaymentCommand,
    Timestamp,
};
use crate::errors::{
    CreatePaymentError, DeletePaymentError, GetPaymentError, RepositoryError, UpdatePaymentError,
};
use crate::models::{CommandId, NewPayment, PaymentUpdate, Version};
use crate::ports::CommandStore;
use crate::service::PaymentService;

/// How often a delete tries again when a concurrent writer changed its payment between the read
/// and the delete.
const DELETE_ATTEMPTS: usize = 5;

/// Applies commands and keeps their records. Cheap to clone.
///
/// **Exactly once in effect over at-least-once delivery.** A command is applied by the same
/// [`PaymentService`] calls as a synchronous write, its payment marked with the command id
/// ([`crate::Payment::last_command`]); then its outcome is stored, first outcome winning. A
/// command delivered again (after a crash or a rebalance, before its log position was
/// committed) cannot write twice — creates are idempotent by id, updates and deletes are
/// compare-and-swap on the version — and finds its own mark, so it records the outcome of its
/// first application, never a different one.
#[derive(Clone)]
pub struct CommandService {
    payments: PaymentService,
    store: Arc<dyn CommandStore>,
}

impl std::fmt::Debug for CommandService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommandService").finish_non_exhaustive()
    }
}

impl CommandService {
    /// Commands applied to `payments`, their records kept in `store`.
    pub fn new(payments: PaymentService, store: Arc<dyn CommandStore>) -> Self {
        Self { payments, store }
    }

    /// The payments use cases commands are applied with.
    pub fn payments(&self) -> &PaymentService {
        &self.payments
    }

    /// Records commands that are in the log and not applied yet.
    pub async fn record_accepted(&self, records: &[CommandRecord]) -> Result<(), RepositoryError> {
        self.store.record_accepted(records).await
    }

    /// The record of a command.
    pub async fn find(&self, id: CommandId) -> Result<Option<CommandRecord>, RepositoryError> {
        self.store.find(id).await
    }

    /// The record of a command once it finished.
    pub async fn find_finished(
        &self,
        id: CommandId,
    ) -> Result<Option<CommandRecord>, RepositoryError> {
        self.store.find_finished(id).await
    }

    /// The finished records among `ids`, in no particular order.
    pub async fn find_finished_many(
        &self,
        ids: &[CommandId],
    ) -> Result<Vec<CommandRecord>, RepositoryError> {
        self.store.find_finished_many(ids).await
    }

    /// Applies `command` and returns its finished record **without storing it**: the caller
    /// stores it (with [`CommandService::record_finished_many`], say, together with others)
    /// before anything else is applied to the same payment. Until then a second delivery of the
    /// command finds its own mark on the payment and settles on the same outcome; once a later
    /// command changed the payment, only the stored outcome can tell.
    ///
    /// A storage failure that may pass (`Unavailable`) or that may be a fault of the moment
    /// (`Internal`) is returned as `Err` with nothing written: the caller tries the same
    /// command again, and may give up on an `Internal` one with [`CommandService::rejected`].
    pub async fn apply_effect(
        &self,
        command: &PaymentCommand,
    ) -> Result<CommandRecord, RepositoryError> {
        let outcome = match &command.body {
            CommandBody::Create { content } => {
                let new = NewPayment {
                    id: Some(command.payment_id),
                    content: content.clone(),
                };
                match self
                    .payments
                    .create_by(&command.access, new, command.id)
                    .await
                {
                    Ok(created) if created.newly_created => CommandOutcome::Created {
                        version: created.payment.version(),
                    },
                    Ok(created) => CommandOutcome::AlreadyCreated {
                        version: created.payment.version(),
                    },
                    Err(CreatePaymentError::Storage(storage)) => final_storage(storage)
                        .map(|e| CommandOutcome::Refused(CommandError::Create(e.into())))?,
                    Err(refused) => CommandOutcome::Refused(CommandError::Create(refused)),
                }
            }
            CommandBody::Update { content, check } => {
                let update = PaymentUpdate {
                    id: command.payment_id,
                    content: content.clone(),
                    check: *check,
                };
                match self
                    .payments
                    .update_by(&command.access, update, command.id)
                    .await
                {
                    Ok(payment) => CommandOutcome::Updated {
                        version: payment.version(),
                    },
                    Err(UpdatePaymentError::Storage(storage)) => final_storage(storage)
                        .map(|e| CommandOutcome::Refused(CommandError::Update(e.into())))?,
                    Err(refused) => CommandOutcome::Refused(CommandError::Update(refused)),
                }
            }
            CommandBody::Delete { expected } => self.delete(command, *expected).await?,
        };
        Ok(command
            .accepted_record()
            .finished(outcome, Timestamp::now()))
    }

    /// Stores finished records (first outcome wins for each), answered in their order: the
    /// record stored for each, or why it is not stored.
    pub async fn record_finished_many(
        &self,
        records: &[CommandRecord],
    ) -> Vec<Result<CommandRecord, RepositoryError>> {
        self.store.record_finished_many(records).await
    }

    /// `record` finished as rejected with an internal error (a command that cannot be decoded
    /// or keeps failing), not stored yet.
    pub fn rejected(record: CommandRecord, reason: String) -> CommandRecord {
        let error = RepositoryError::Internal(reason);
        let refused = match record.action {
            crate::CommandAction::Create => CommandError::Create(error.into()),
            crate::CommandAction::Update => CommandError::Update(error.into()),
            crate::CommandAction::Delete => CommandError::Delete(error.into()),
        };
        record.finished(CommandOutcome::Refused(refused), Timestamp::now())
    }

    /// A delete in three steps, so a second delivery can tell "removed by me" from "never
    /// there": find the payment (absent: 404, as the synchronous API answers); mark the
    /// command `Deleting`; delete at the version found.
    async fn delete(
        &self,
        command: &PaymentCommand,
        expected: Option<Version>,
    ) -> Result<CommandOutcome, RepositoryError> {
        let id = command.payment_id;
        let refused = |e: DeletePaymentError| Ok(CommandOutcome::Refused(CommandError::Delete(e)));
        let marked = matches!(
            self.store.find(command.id).await?,
            Some(CommandRecord {
                status: CommandStatus::Deleting,
                ..
            })
        );
        for _ in 0..DELETE_ATTEMPTS {
            let stored = match self.payments.get(id).await {
                // Another organisation's payment is not found, as in the synchronous API.
                Ok(stored) if !command.access.permits(stored.organisation_id()) => {
                    return refused(DeletePaymentError::NotFound { id })
                }
                Ok(stored) => stored,
                // Marked on an earlier delivery and gone now: this command removed it.
                Err(GetPaymentError::NotFound { .. }) if marked => {
                    return Ok(CommandOutcome::Deleted)
                }
                Err(GetPaymentError::NotFound { id }) => {
                    return refused(DeletePaymentError::NotFound { id })
                }
                Err(GetPaymentError::Storage(storage)) => return Err(storage),
            };
            let actual = stored.version();
            if let Some(expected) = expected.filter(|expected| *expected != actual) {
                return refused(DeletePaymentError::VersionConflict { expected, actual });
            }
            if !marked {
                self.store.mark_deleting(&command.accepted_record()).await?;
            }
            match self.payments.delete(id, Some(actual)).await {
                Ok(()) => return Ok(CommandOutcome::Deleted),
                // Written by someone else between the read and the delete: read again.
                Err(
                    DeletePaymentError::VersionConflict { .. }
                    | DeletePaymentError::NotFound { .. },
                ) => continue,
                Err(DeletePaymentError::Storage(storage)) => {
                    return final_storage(storage)
                        .map(|e| CommandOutcome::Refused(CommandError::Delete(e.into())))
                }
            }
        }
        Err(RepositoryError::Unavailable(format!(
            "payment {id} changed under {DELETE_ATTEMPTS} delete attempts in a row"
        )))
    }
}

/// A storage failure that is final for the command (too large) as `Ok`; one worth trying again
/// (unavailable, internal) as `Err`.
fn final_storage(error: RepositoryError) -> Result<RepositoryError, RepositoryError> {
    match error {
        RepositoryError::TooLarge(_) => Ok(error),
        RepositoryError::Unavailable(_) | RepositoryError::Internal(_) => Err(error),
    }
}
