//! The payments use cases, written against the repository port only.

use std::sync::Arc;

use crate::errors::{
    CreatePaymentError, DeletePaymentError, GetPaymentError, ListPaymentsError, RepositoryError,
    UpdatePaymentError,
};
use crate::models::{
    Access, CommandId, ListQuery, NewPayment, Page, Payment, PaymentId, PaymentUpdate, Version,
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

/// How often a delete for a restricted caller reads the payment again when a concurrent writer
/// changed it between the ownership check and the delete.
const DELETE_ATTEMPTS: usize = 5;

/// The payments use cases. Cheap to clone; share one per process.
///
/// Each use case has a form for a caller with [`Access`] (`*_as`): a payment of an organisation
/// the caller does not act for is not found (its existence is not revealed), and a body or
/// filter naming such an organisation is [`crate::Forbidden`]. The forms without `_as` act for
/// every organisation.
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
        self.create_by(&Access::Unrestricted, new, CommandId::generate())
            .await
    }

    /// [`PaymentService::create`] for a caller with `access`: a payment for an organisation it
    /// does not act for is `Forbidden`.
    pub async fn create_as(
        &self,
        access: &Access,
        new: NewPayment,
    ) -> Result<Created, CreatePaymentError> {
        self.create_by(access, new, CommandId::generate()).await
    }

    /// [`PaymentService::create`], the payment marked as written by `command`. A command
    /// delivered again after its payment was stored finds its own mark and gets the answer of
    /// its first delivery.
    pub(crate) async fn create_by(
        &self,
        access: &Access,
        new: NewPayment,
        command: CommandId,
    ) -> Result<Created, CreatePaymentError> {
        // A stored payment of another organisation under the same id never has the same
        // content (the organisation is part of it), so it is a conflict and is never returned.
        access.require(new.content.organisation_id)?;
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
        self.get_as(&Access::Unrestricted, id).await
    }

    /// [`PaymentService::get`] for a caller with `access`: another organisation's payment is
    /// not found.
    pub async fn get_as(&self, access: &Access, id: PaymentId) -> Result<Payment, GetPaymentError> {
        self.repository
            .find(id)
            .await?
            .filter(|payment| access.permits(payment.organisation_id()))
            .ok_or(GetPaymentError::NotFound { id })
    }

    /// Replaces a payment's owner and attributes if the client's version checks hold; the
    /// version goes up by one.
    ///
    /// Like a create, the new version is marked with a write id of its own, so a write storage
    /// applied twice is answered as this write's success, not as a version conflict.
    pub async fn update(&self, update: PaymentUpdate) -> Result<Payment, UpdatePaymentError> {
        self.update_by(&Access::Unrestricted, update, CommandId::generate())
            .await
    }

    /// [`PaymentService::update`] for a caller with `access`: a body naming an organisation it
    /// does not act for is `Forbidden` (moving a payment to one included); another
    /// organisation's payment is not found.
    pub async fn update_as(
        &self,
        access: &Access,
        update: PaymentUpdate,
    ) -> Result<Payment, UpdatePaymentError> {
        self.update_by(access, update, CommandId::generate()).await
    }

    /// [`PaymentService::update`], the new version marked as written by `command`. A command
    /// delivered again after its update was stored finds the stored version marked with its id
    /// and gets the answer of its first delivery.
    pub(crate) async fn update_by(
        &self,
        access: &Access,
        update: PaymentUpdate,
        command: CommandId,
    ) -> Result<Payment, UpdatePaymentError> {
        let id = update.id;
        access.require(update.content.organisation_id)?;
        if access.held().is_some() {
            // The owner is checked before the compare-and-swap; see ARCHITECTURE.md for the one
            // interleaving this leaves open (deleted and created again in between).
            self.get_as(access, id).await.map_err(|e| match e {
                GetPaymentError::NotFound { id } => UpdatePaymentError::NotFound { id },
                GetPaymentError::Storage(storage) => storage.into(),
            })?;
        }
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

    /// [`PaymentService::delete`] for a caller with `access`: another organisation's payment is
    /// not found. The delete is made at the version whose owner was checked, so a payment that
    /// changed hands in between is read again rather than deleted.
    pub async fn delete_as(
        &self,
        access: &Access,
        id: PaymentId,
        expected: Option<Version>,
    ) -> Result<(), DeletePaymentError> {
        if access.held().is_none() {
            return self.delete(id, expected).await;
        }
        for _ in 0..DELETE_ATTEMPTS {
            let actual = match self.get_as(access, id).await {
                Ok(stored) => stored.version(),
                Err(GetPaymentError::NotFound { id }) => {
                    return Err(DeletePaymentError::NotFound { id })
                }
                Err(GetPaymentError::Storage(storage)) => return Err(storage.into()),
            };
            if let Some(expected) = expected.filter(|expected| *expected != actual) {
                return Err(DeletePaymentError::VersionConflict { expected, actual });
            }
            match self.delete(id, Some(actual)).await {
                Err(
                    DeletePaymentError::VersionConflict { .. }
                    | DeletePaymentError::NotFound { .. },
                ) => continue,
                done => return done,
            }
        }
        Err(RepositoryError::Unavailable(format!(
            "payment {id} changed under {DELETE_ATTEMPTS} delete attempts in a row"
        ))
        .into())
    }

    /// Lists payments in ascending id order.
    pub async fn list(&self, query: &ListQuery) -> Result<Page, ListPaymentsError> {
        Ok(self.repository.list(query).await?)
    }

    /// [`PaymentService::list`] for a caller with `access`: a filter naming an organisation it
    /// does not act for is `Forbidden`; without a filter, the payments of its organisations
    /// only (one storage query per organisation, all under way at once, merged in id order).
    pub async fn list_as(
        &self,
        access: &Access,
        query: &ListQuery,
    ) -> Result<Page, ListPaymentsError> {
        let Some(held) = access.held() else {
            return self.list(query).await;
        };
        if let Some(organisation) = query.organisation_id {
            access.require(organisation)?;
            return self.list(query).await;
        }
        let size = query.page_size.get();
        // One page of each organisation, asked for at once; the first `size` of them all.
        let pages = futures_util::future::try_join_all(held.iter().map(|organisation| {
            let query = ListQuery {
                organisation_id: Some(*organisation),
                ..*query
            };
            async move { self.list(&query).await }
        }))
        .await?;
        let mut items = Vec::new();
        let mut has_more = false;
        for page in pages {
            has_more |= page.has_more;
            items.extend(page.items);
        }
        items.sort_unstable_by_key(Payment::id);
        has_more |= items.len() > size;
        items.truncate(size);
        Ok(Page { items, has_more })
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
