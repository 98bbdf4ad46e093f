//! [`InMemoryPaymentRepository`]: a complete, concurrent in-process implementation of the port.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use std::sync::{PoisonError, RwLock};

use async_trait::async_trait;
use domain::{
    InsertOutcome, ListQuery, OrganisationId, Page, Payment, PaymentId, PaymentRepository,
    RepositoryError, Version, WriteOutcome,
};

/// Payments held in process memory, ordered by id, with an index by organisation.
///
/// Every operation takes one lock for its whole read-check-write, so version checks are atomic
/// and readers never see a half-applied write. Payments are cheap to clone (their attributes are
/// shared), so a read holds the lock only for the copy. Data lives as long as the value: this is
/// the backend for tests, demos and single-process deployments that accept losing data on exit.
#[derive(Debug, Default)]
pub struct InMemoryPaymentRepository {
    state: RwLock<State>,
}

#[derive(Debug, Default)]
struct State {
    payments: BTreeMap<PaymentId, Payment>,
    by_organisation: BTreeSet<(OrganisationId, PaymentId)>,
}

impl InMemoryPaymentRepository {
    /// An empty repository.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many payments are stored.
    pub fn len(&self) -> usize {
        self.read().payments.len()
    }

    /// Whether no payment is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        // A panic while holding the lock cannot leave `State` half-written: every write below
        // completes its map updates before any call that could panic. So poisoning is ignored.
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    fn check_version(
        &self,
        id: PaymentId,
        expected: Option<Version>,
    ) -> Result<&Payment, WriteOutcome> {
        let stored = self.payments.get(&id).ok_or(WriteOutcome::NotFound)?;
        match expected {
            Some(expected) if stored.version() != expected => Err(WriteOutcome::VersionConflict {
                actual: stored.version(),
            }),
            _ => Ok(stored),
        }
    }

    fn list(&self, query: &ListQuery) -> Page {
        let limit = query.page_size.get();
        let mut items: Vec<Payment> = match query.organisation_id {
            Some(organisation) => {
                let start = match query.after {
                    Some(after) => Bound::Excluded((organisation, after)),
                    None => Bound::Included((organisation, PaymentId::MIN)),
                };
                self.by_organisation
                    .range((start, Bound::Unbounded))
                    .take_while(|(owner, _)| *owner == organisation)
                    .take(limit + 1)
                    .filter_map(|(_, id)| self.payments.get(id).cloned())
                    .collect()
            }
            None => {
                let start = query.after.map_or(Bound::Unbounded, Bound::Excluded);
                self.payments
                    .range((start, Bound::Unbounded))
                    .take(limit + 1)
                    .map(|(_, payment)| payment.clone())
                    .collect()
            }
        };
        let has_more = items.len() > limit;
        items.truncate(limit);
        Page { items, has_more }
    }
}

#[async_trait]
impl PaymentRepository for InMemoryPaymentRepository {
    async fn insert(&self, payment: &Payment) -> Result<InsertOutcome, RepositoryError> {
        let mut state = self.write();
        if let Some(existing) = state.payments.get(&payment.id()) {
            return Ok(InsertOutcome::AlreadyExists(existing.clone()));
        }
        state
            .by_organisation
            .insert((payment.organisation_id(), payment.id()));
        state.payments.insert(payment.id(), payment.clone());
        Ok(InsertOutcome::Inserted)
    }

    async fn find(&self, id: PaymentId) -> Result<Option<Payment>, RepositoryError> {
        Ok(self.read().payments.get(&id).cloned())
    }

    async fn update(
        &self,
        replacement: &Payment,
        expected: Version,
    ) -> Result<WriteOutcome, RepositoryError> {
        let mut state = self.write();
        let previous_owner = match state.check_version(replacement.id(), Some(expected)) {
            Ok(stored) => stored.organisation_id(),
            Err(outcome) => return Ok(outcome),
        };
        state
            .by_organisation
            .remove(&(previous_owner, replacement.id()));
        state
            .by_organisation
            .insert((replacement.organisation_id(), replacement.id()));
        state.payments.insert(replacement.id(), replacement.clone());
        Ok(WriteOutcome::Written)
    }

    async fn delete(
        &self,
        id: PaymentId,
        expected: Option<Version>,
    ) -> Result<WriteOutcome, RepositoryError> {
        let mut state = self.write();
        let owner = match state.check_version(id, expected) {
            Ok(stored) => stored.organisation_id(),
            Err(outcome) => return Ok(outcome),
        };
        state.by_organisation.remove(&(owner, id));
        state.payments.remove(&id);
        Ok(WriteOutcome::Written)
    }

    async fn list(&self, query: &ListQuery) -> Result<Page, RepositoryError> {
        Ok(self.read().list(query))
    }

    async fn check_health(&self) -> Result<(), RepositoryError> {
        Ok(())
    }
}
