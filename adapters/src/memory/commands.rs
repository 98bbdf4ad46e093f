//! [`InMemoryCommandStore`]: command records in process memory.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use domain::{CommandId, CommandRecord, CommandStatus, CommandStore, RepositoryError, Timestamp};

/// How many records are added between two sweeps of the expired ones.
const SWEEP_EVERY: usize = 4096;

/// Command records held in process memory, kept for a retention period.
///
/// Every operation takes one lock for its whole check-and-write, so "first outcome wins" holds
/// under any concurrency.
#[derive(Debug)]
pub struct InMemoryCommandStore {
    retention: Duration,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    records: HashMap<CommandId, CommandRecord>,
    added_since_sweep: usize,
}

impl InMemoryCommandStore {
    /// An empty store that forgets records `retention` after they were accepted.
    pub fn new(retention: Duration) -> Self {
        Self {
            retention,
            state: Mutex::default(),
        }
    }

    /// How many records are held.
    pub fn len(&self) -> usize {
        self.lock().records.len()
    }

    /// Whether no record is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every write below completes before anything that could panic: poisoning is ignored.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The stored record of `record.id`, adding `record` when there is none; every few thousand
    /// additions, expired records are dropped first.
    fn entry<'a>(&self, state: &'a mut State, record: &CommandRecord) -> &'a mut CommandRecord {
        if !state.records.contains_key(&record.id) {
            state.added_since_sweep += 1;
            if state.added_since_sweep >= SWEEP_EVERY {
                state.added_since_sweep = 0;
                let cutoff = cutoff(Timestamp::now(), self.retention);
                state.records.retain(|_, kept| kept.accepted_at >= cutoff);
            }
        }
        state
            .records
            .entry(record.id)
            .or_insert_with(|| record.clone())
    }
}

fn cutoff(now: Timestamp, retention: Duration) -> Timestamp {
    let retention = u64::try_from(retention.as_millis()).unwrap_or(u64::MAX);
    Timestamp::from_millis(now.as_millis().saturating_sub(retention))
}

#[async_trait]
impl CommandStore for InMemoryCommandStore {
    async fn record_accepted(&self, records: &[CommandRecord]) -> Result<(), RepositoryError> {
        let mut state = self.lock();
        for record in records {
            self.entry(&mut state, record);
        }
        Ok(())
    }

    async fn mark_deleting(&self, record: &CommandRecord) -> Result<(), RepositoryError> {
        let mut state = self.lock();
        let stored = self.entry(&mut state, record);
        if matches!(stored.status, CommandStatus::Accepted) {
            stored.status = CommandStatus::Deleting;
        }
        Ok(())
    }

    async fn record_finished(
        &self,
        record: &CommandRecord,
    ) -> Result<CommandRecord, RepositoryError> {
        let mut state = self.lock();
        let stored = self.entry(&mut state, record);
        if stored.outcome().is_none() {
            *stored = record.clone();
        }
        Ok(stored.clone())
    }

    async fn find(&self, id: CommandId) -> Result<Option<CommandRecord>, RepositoryError> {
        Ok(self.lock().records.get(&id).cloned())
    }

    async fn expire(&self, cutoff: Timestamp) -> Result<(), RepositoryError> {
        self.lock()
            .records
            .retain(|_, kept| kept.accepted_at >= cutoff);
        Ok(())
    }
}
