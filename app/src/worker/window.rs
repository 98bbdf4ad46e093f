//! Which records of one partition may be applied now, and how far the partition is done.
//!
//! The order promised is per organisation (the log key): one organisation's commands take
//! effect one after another, in log order. Commands of different organisations in the same
//! partition do not wait for each other, so a partition holding many organisations drains as
//! fast as its organisations allow, not one command at a time.
//!
//! Exactly once in effect rests on one more rule: a command's outcome is stored before any
//! later command of the partition touches the same payment (a second delivery of the first
//! command can then still find its own mark on the payment, or its stored outcome). And the
//! partition's position is committed only up to the first record not done, so a record is
//! never skipped by a commit of the records after it.

use std::collections::{HashSet, VecDeque};

use domain::PaymentId;

/// How many records of one partition may be between its committed position and the newest
/// taken. It also bounds how far past the committed position the previous holder of a
/// partition may have applied, so a new holder checks that many records for a stored outcome
/// before applying them (see [`super::lane`]).
pub(super) const WINDOW: usize = 64;

/// The records of one partition taken and not committed yet, in offset order.
#[derive(Debug, Default)]
pub(super) struct Window {
    entries: VecDeque<Entry>,
    /// The partition was lost: records not started were forgotten, nothing is committable.
    lost: bool,
}

#[derive(Debug)]
struct Entry {
    offset: u64,
    key: Vec<u8>,
    payment: Option<PaymentId>,
    stage: Stage,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Taken, not started.
    Waiting,
    /// Its effect is being applied.
    Applying,
    /// Applied; its outcome is being stored.
    Storing,
    /// Applied and its outcome stored (or nothing to do).
    Done,
}

impl Window {
    /// Whether no more records may be taken until the first ones are done.
    pub(super) fn is_full(&self) -> bool {
        self.entries.len() >= WINDOW
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The newest offset taken.
    pub(super) fn newest(&self) -> Option<u64> {
        self.entries.back().map(|entry| entry.offset)
    }

    /// Takes the record at `offset` (after every one taken before), of the organisation
    /// `key`, writing `payment` (`None` for a record that is not a command).
    pub(super) fn take(&mut self, offset: u64, key: Vec<u8>, payment: Option<PaymentId>) {
        debug_assert!(self.newest().is_none_or(|newest| newest < offset));
        self.entries.push_back(Entry {
            offset,
            key,
            payment,
            stage: Stage::Waiting,
        });
    }

    /// The offsets that may start now, marked as applying: a waiting record starts when no
    /// earlier record of its organisation is waiting or applying, and no earlier record of
    /// its payment is anything but done.
    pub(super) fn start(&mut self) -> Vec<u64> {
        let mut keys_busy: HashSet<&[u8]> = HashSet::new();
        let mut payments_busy: HashSet<PaymentId> = HashSet::new();
        let mut started = Vec::new();
        for entry in &mut self.entries {
            if entry.stage == Stage::Waiting
                && !keys_busy.contains(entry.key.as_slice())
                && entry.payment.is_none_or(|p| !payments_busy.contains(&p))
            {
                entry.stage = Stage::Applying;
                started.push(entry.offset);
            }
            if matches!(entry.stage, Stage::Waiting | Stage::Applying) {
                keys_busy.insert(&entry.key);
            }
            if entry.stage != Stage::Done {
                payments_busy.extend(entry.payment);
            }
        }
        started
    }

    /// The record at `offset` was applied; its outcome is being stored.
    pub(super) fn applied(&mut self, offset: u64) {
        self.set(offset, Stage::Storing);
    }

    /// The record at `offset` is done.
    pub(super) fn done(&mut self, offset: u64) {
        self.set(offset, Stage::Done);
    }

    /// The partition was lost: forgets the records not started (they come again to its next
    /// holder); those started stay until they are done, and nothing is committable any more.
    pub(super) fn lose(&mut self) {
        self.entries.retain(|entry| entry.stage != Stage::Waiting);
        self.lost = true;
    }

    /// Whether the partition was lost since the window started afresh.
    pub(super) fn is_lost(&self) -> bool {
        self.lost
    }

    /// Starts afresh (the partition's records come again from its committed position); only
    /// once nothing is applying or storing.
    pub(super) fn reset(&mut self) {
        debug_assert!(!self.is_busy());
        *self = Window::default();
    }

    /// Whether records are being applied or stored.
    pub(super) fn is_busy(&self) -> bool {
        self.entries
            .iter()
            .any(|entry| matches!(entry.stage, Stage::Applying | Stage::Storing))
    }

    /// Removes the records done at the front and returns the last one's offset: the position
    /// to commit, if it moved.
    pub(super) fn committable(&mut self) -> Option<u64> {
        if self.lost {
            // Nothing to commit; what is done only takes room.
            self.entries.retain(|entry| entry.stage != Stage::Done);
            return None;
        }
        let mut last = None;
        while self
            .entries
            .front()
            .is_some_and(|entry| entry.stage == Stage::Done)
        {
            last = self.entries.pop_front().map(|entry| entry.offset);
        }
        last
    }

    fn set(&mut self, offset: u64, stage: Stage) {
        if let Some(entry) = self.entries.iter_mut().find(|entry| entry.offset == offset) {
            entry.stage = stage;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payment(n: u128) -> Option<PaymentId> {
        Some(PaymentId::from_uuid(uuid::Uuid::from_u128(n)))
    }

    #[test]
    fn one_organisation_applies_one_command_at_a_time_in_order() {
        let mut window = Window::default();
        window.take(0, b"a".to_vec(), payment(1));
        window.take(1, b"a".to_vec(), payment(2));
        window.take(2, b"a".to_vec(), payment(3));
        assert_eq!(window.start(), vec![0]);
        assert_eq!(window.start(), Vec::<u64>::new());
        window.applied(0);
        // Another payment of the organisation starts once the effect before it is applied,
        // while that one's outcome is still being stored.
        assert_eq!(window.start(), vec![1]);
        window.applied(1);
        window.done(1);
        assert_eq!(window.start(), vec![2]);
        assert_eq!(window.committable(), None, "offset 0 is not done yet");
        window.done(0);
        assert_eq!(window.committable(), Some(1));
    }

    #[test]
    fn organisations_of_one_partition_do_not_wait_for_each_other() {
        let mut window = Window::default();
        window.take(10, b"a".to_vec(), payment(1));
        window.take(11, b"b".to_vec(), payment(2));
        window.take(12, b"a".to_vec(), payment(3));
        window.take(13, b"c".to_vec(), payment(4));
        assert_eq!(window.start(), vec![10, 11, 13]);
        window.applied(11);
        window.done(11);
        window.applied(13);
        window.done(13);
        assert_eq!(window.committable(), None, "10 is still applying");
        window.applied(10);
        assert_eq!(window.start(), vec![12]);
        window.done(10);
        assert_eq!(window.committable(), Some(11));
        window.applied(12);
        window.done(12);
        assert_eq!(window.committable(), Some(13));
        assert!(window.is_empty());
    }

    #[test]
    fn a_payment_waits_until_the_outcome_before_it_is_stored_whatever_its_organisation() {
        let mut window = Window::default();
        window.take(0, b"a".to_vec(), payment(7));
        // The payment moved to organisation b: keyed by b, the same payment.
        window.take(1, b"b".to_vec(), payment(7));
        window.take(2, b"a".to_vec(), payment(7));
        assert_eq!(window.start(), vec![0]);
        window.applied(0);
        assert_eq!(
            window.start(),
            Vec::<u64>::new(),
            "0's outcome is not stored"
        );
        window.done(0);
        assert_eq!(window.start(), vec![1]);
        window.applied(1);
        window.done(1);
        assert_eq!(window.start(), vec![2]);
    }

    #[test]
    fn a_lost_partition_forgets_what_it_did_not_start_and_keeps_what_it_did() {
        let mut window = Window::default();
        window.take(0, b"a".to_vec(), payment(1));
        window.take(1, b"a".to_vec(), payment(2));
        window.take(2, b"b".to_vec(), payment(3));
        assert_eq!(window.start(), vec![0, 2]);
        window.lose();
        assert!(window.is_busy());
        assert_eq!(window.start(), Vec::<u64>::new());
        window.applied(0);
        window.done(0);
        window.applied(2);
        window.done(2);
        assert!(!window.is_busy());
        assert_eq!(window.committable(), None, "offset 1 was never applied");
        assert!(window.is_empty(), "what is done takes no room");
        window.reset();
        assert!(window.is_empty());
        window.take(1, b"a".to_vec(), payment(2));
        assert_eq!(window.start(), vec![1]);
    }

    #[test]
    fn the_window_is_full_at_its_size() {
        let mut window = Window::default();
        for offset in 0..WINDOW as u64 {
            assert!(!window.is_full());
            window.take(offset, b"a".to_vec(), None);
        }
        assert!(window.is_full());
        assert_eq!(window.newest(), Some(WINDOW as u64 - 1));
    }
}
