//! The payments use cases, written against the repository port only.

use std::sync::Arc;

use crate::errors::{
    CreatePaymentError, DeletePaymentError, GetPaymentError, ListPaymentsError, RepositoryError,
    UpdatePaymentError,
};
use crate::models::{
    CommandId, ListQuery, NewPayment, Page, Payment, PaymentId, PaymentUpdate, Version,
    VersionCheck,
};
use crate::ports::{InsertOutcome, PaymentRepository, WriteOutcome};

/// The result of a successful create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// The stored payment.
    pub payment: Payment,
    /// `false` when an identical payment already existed (a safe retry).
    pub newly_created: bool,
}

/// The payments use cases. Cheap to clone; share one per process.
#[derive(Clone)]
pub struct PaymentService {
    repository: Arc<dyn PaymentRepository>,
}

impl std::fmt::Debug for PaymentService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The repository is a trait object without `Debug`; its presence is all there is to show.
        f.debug_struct("PaymentService").finish_non_exhaustive()
    }
}

impl PaymentService {
    /// A service storing payments in `repository`.
    pub fn new(repository: Arc<dyn PaymentRepository>) -> Self {
        Self { repository }
    }

    /// Creates a payment at version 0. Creating again with the same id and the same content
    /// returns the stored payment (safe retry); with other content it is a conflict.
    ///
    /// The payment is marked as written by a write id of its own (see
    /// [`Payment::last_command`]), so a write that storage applied twice (a driver's retry after
    /// a lost acknowledgement) is recognised as this write's, not answered as a conflict.
    pub async fn create(&self, new: NewPayment) -> Result<Created, CreatePaymentError> {
        self.create_by(new, CommandId::generate()).await
    }

    /// [`PaymentService::create`], the payment marked as written by `command`. A command
    /// delivered again after its payment was stored finds its own mark and gets the answer of
    /// its first delivery.
    pub(crate) async fn create_by(
        &self,
        new: NewPayment,
        command: CommandId,
    ) -> Result<Created, CreatePaymentError> {
        let id = new.id.unwrap_or_else(PaymentId::generate);
        let payment = Payment::new(
            id,
            Version::INITIAL,
            new.content.organisation_id,
            new.content.attributes.clone(),
        )
        .written_by(Some(command));
        match self.repository.insert(&payment).await? {
            InsertOutcome::Inserted => Ok(Created {
                payment,
                newly_created: true,
            }),
            InsertOutcome::AlreadyExists(existing) if existing.last_command() == Some(command) => {
                Ok(Created {
                    payment,
                    newly_created: true,
                })
            }
            InsertOutcome::AlreadyExists(existing) if existing.has_content(&new.content) => {
                Ok(Created {
                    payment: existing,
                    newly_created: false,
                })
            }
            InsertOutcome::AlreadyExists(_) => Err(CreatePaymentError::Conflict { id }),
        }
    }

    /// Fetches one payment.
    pub async fn get(&self, id: PaymentId) -> Result<Payment, GetPaymentError> {
        self.repository
            .find(id)
            .await?
            .ok_or(GetPaymentError::NotFound { id })
    }

    /// Replaces a payment's owner and attributes if the client's version checks hold; the
    /// version goes up by one.
    ///
    /// Like a create, the new version is marked with a write id of its own, so a write storage
    /// applied twice is answered as this write's success, not as a version conflict.
    pub async fn update(&self, update: PaymentUpdate) -> Result<Payment, UpdatePaymentError> {
        self.update_by(update, CommandId::generate()).await
    }

    /// [`PaymentService::update`], the new version marked as written by `command`. A command
    /// delivered again after its update was stored finds the stored version marked with its id
    /// and gets the answer of its first delivery.
    pub(crate) async fn update_by(
        &self,
        update: PaymentUpdate,
        command: CommandId,
    ) -> Result<Payment, UpdatePaymentError> {
        let id = update.id;
        let expected = match update.check {
            VersionCheck::Document(version) | VersionCheck::IfMatch(version) => version,
            VersionCheck::Both { document, if_match } if document == if_match => document,
            // Two different versions can never both hold: report the check that fails first.
            VersionCheck::Both { .. } => {
                let actual = self.stored_version(id).await?;
                return Err(version_mismatch(update.check, actual));
            }
        };
        let Some(next) = expected.next() else {
            let actual = self.stored_version(id).await?;
            return Err(if actual == expected {
                UpdatePaymentError::VersionExhausted { id }
            } else {
                version_mismatch(update.check, actual)
            });
        };
        let replacement = Payment::new(
            id,
            next,
            update.content.organisation_id,
            update.content.attributes,
        )
        .written_by(Some(command));
        match self.repository.update(&replacement, expected).await? {
            WriteOutcome::Written => Ok(replacement),
            WriteOutcome::NotFound => Err(UpdatePaymentError::NotFound { id }),
            WriteOutcome::VersionConflict { actual } => {
                if actual == next {
                    if let Some(stored) = self.repository.find(id).await? {
                        if stored.last_command() == Some(command) {
                            return Ok(stored);
                        }
                    }
                }
                Err(version_mismatch(update.check, actual))
            }
        }
    }

    /// Deletes a payment; with `expected`, only at that version.
    pub async fn delete(
        &self,
        id: PaymentId,
        expected: Option<Version>,
    ) -> Result<(), DeletePaymentError> {
        match self.repository.delete(id, expected).await? {
            WriteOutcome::Written => Ok(()),
            WriteOutcome::NotFound => Err(DeletePaymentError::NotFound { id }),
            WriteOutcome::VersionConflict { actual } => match expected {
                Some(expected) => Err(DeletePaymentError::VersionConflict { expected, actual }),
                // The port allows a conflict only when a version was given: without one this is
                // a broken adapter, reported as a storage failure rather than as a conflict
                // with a version the client never sent.
                None => Err(RepositoryError::Internal(format!(
                    "the repository reported a version conflict (stored version {actual}) for \
                     a delete of {id} without a version"
                ))
                .into()),
            },
        }
    }

    /// Lists payments in ascending id order.
    pub async fn list(&self, query: &ListQuery) -> Result<Page, ListPaymentsError> {
        Ok(self.repository.list(query).await?)
    }

    /// Whether the storage answers.
    pub async fn check_health(&self) -> Result<(), RepositoryError> {
        self.repository.check_health().await
    }

    async fn stored_version(&self, id: PaymentId) -> Result<Version, UpdatePaymentError> {
        match self.repository.find(id).await? {
            Some(payment) => Ok(payment.version()),
            None => Err(UpdatePaymentError::NotFound { id }),
        }
    }
}

/// The error for a stored version that fails `check`: `If-Match` is evaluated first.
fn version_mismatch(check: VersionCheck, actual: Version) -> UpdatePaymentError {
    match check {
        VersionCheck::IfMatch(expected) => {
            UpdatePaymentError::PreconditionFailed { expected, actual }
        }
        VersionCheck::Both { if_match, .. } if if_match != actual => {
            UpdatePaymentError::PreconditionFailed {
                expected: if_match,
                actual,
            }
        }
        VersionCheck::Document(expected)
        | VersionCheck::Both {
            document: expected, ..
        } => UpdatePaymentError::VersionConflict { expected, actual },
    }
}
