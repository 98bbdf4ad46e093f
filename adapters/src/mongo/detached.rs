//! Counting the storage operations nobody waits for any more.
//!
//! Each repository call runs as a task of its own that the caller awaits (see
//! `MongoPaymentRepository::bounded`). When the caller stops waiting (the operation timeout, or a
//! client that hung up) the task is *detached*: it still runs to its end. A database that is slow
//! would gather such tasks without anyone seeing them; they are counted here, the count is
//! exposed ([`DetachedOperations`]) for a gauge, and new calls are refused while it is at the
//! configured limit.

use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;

/// The number of detached operations of one repository (and its clones): a cheap handle to read
/// it from, e.g. for a metrics gauge.
#[derive(Debug, Clone, Default)]
pub struct DetachedOperations(Arc<AtomicUsize>);

impl DetachedOperations {
    /// How many operations are running that no caller waits for any more.
    pub fn count(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }

    /// A new operation: one side goes into its task, the other stays with the caller.
    pub(super) fn start(&self) -> (Running, Awaited) {
        let state = Arc::new(AtomicU8::new(ATTACHED));
        let running = Running {
            state: state.clone(),
            count: self.0.clone(),
        };
        let awaited = Awaited {
            state,
            count: self.0.clone(),
            received: false,
        };
        (running, awaited)
    }
}

/// The caller still waits for the operation.
const ATTACHED: u8 = 0;
/// The caller stopped waiting; the operation is counted.
const DETACHED: u8 = 1;
/// The operation ended.
const ENDED: u8 = 2;

/// The task's side: marks the operation ended when dropped (at its end, by a panic or an abort).
#[derive(Debug)]
pub(super) struct Running {
    state: Arc<AtomicU8>,
    count: Arc<AtomicUsize>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.state.swap(ENDED, Ordering::AcqRel) == DETACHED {
            self.count.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// The caller's side: unless [`Awaited::received`] is called, dropping it detaches the
/// operation.
#[derive(Debug)]
pub(super) struct Awaited {
    state: Arc<AtomicU8>,
    count: Arc<AtomicUsize>,
    received: bool,
}

impl Awaited {
    /// The caller has the operation's result: nothing to count.
    pub(super) fn received(mut self) {
        self.received = true;
    }
}

impl Drop for Awaited {
    fn drop(&mut self) {
        if self.received {
            return;
        }
        // Counted first, so the task's side never takes away more than was added.
        self.count.fetch_add(1, Ordering::Relaxed);
        let detached = self
            .state
            .compare_exchange(ATTACHED, DETACHED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        if !detached {
            // The operation ended meanwhile.
            self.count.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_operation_whose_result_is_received_is_never_counted() {
        let detached = DetachedOperations::default();
        let (running, awaited) = detached.start();
        drop(running);
        awaited.received();
        assert_eq!(detached.count(), 0);
    }

    #[test]
    fn an_operation_left_running_is_counted_until_it_ends() {
        let detached = DetachedOperations::default();
        let (first, left) = detached.start();
        let (second, also_left) = detached.start();
        drop(left);
        drop(also_left);
        assert_eq!(detached.count(), 2);
        drop(first);
        assert_eq!(detached.count(), 1);
        drop(second);
        assert_eq!(detached.count(), 0);
    }

    #[test]
    fn an_operation_that_ended_before_its_caller_gave_up_is_not_counted() {
        let detached = DetachedOperations::default();
        let (running, awaited) = detached.start();
        drop(running);
        drop(awaited);
        assert_eq!(detached.count(), 0);
    }
}
