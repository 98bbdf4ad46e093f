//! [`InMemoryCommandLog`]: a partitioned command log in process memory.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use domain::{CommandLog, LogError, LogPosition, LogRecord, LogSubscription};
use tokio::sync::Notify;

/// A partitioned log in process memory, with the same contract as a broker's: keys map to
/// partitions with Kafka's own hash (murmur2, as Kafka's default partitioner and librdkafka's
/// `murmur2_random` do, so an organisation has the same partition number on both), records are
/// read in order per partition, and readers resume from a committed position.
///
/// The readers' group has one member at a time: a new subscription takes every partition from
/// the previous one, which stops receiving and reads as holding nothing, and starts from the
/// committed positions, so records read but not committed are delivered again. Records live
/// as long as the process: this is the log of a single-process deployment (API and worker in one
/// process), for laptops, demos and tests.
///
/// Clones share the log.
#[derive(Debug, Clone)]
pub struct InMemoryCommandLog {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    partitions: u32,
    state: Mutex<State>,
    appended: Notify,
}

#[derive(Debug)]
struct State {
    /// Per partition, the records (key, payload) in offset order.
    records: Vec<Vec<(Vec<u8>, Vec<u8>)>>,
    /// Per partition, the offset the next subscription starts at.
    committed: Vec<u64>,
    /// The generation of the subscription holding every partition (0: none yet).
    holder: u64,
}

impl InMemoryCommandLog {
    /// An empty log of `partitions` partitions (at least one).
    pub fn new(partitions: u32) -> Self {
        let partitions = partitions.max(1);
        let count = partitions as usize;
        Self {
            shared: Arc::new(Shared {
                partitions,
                state: Mutex::new(State {
                    records: vec![Vec::new(); count],
                    committed: vec![0; count],
                    holder: 0,
                }),
                appended: Notify::new(),
            }),
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Every write below completes before anything that could panic: poisoning is ignored.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The partition of `key` among `partitions`, as Kafka's default partitioner places it.
pub fn partition_of(key: &[u8], partitions: u32) -> u32 {
    // Kafka masks the sign bit rather than taking an absolute value.
    (murmur2(key) & 0x7fff_ffff) % partitions.max(1)
}

/// Kafka's murmur2 (the Java client's `Utils.murmur2`), as a `u32`.
fn murmur2(data: &[u8]) -> u32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    // Kafka hashes the length as a 32-bit int; keys here are short.
    let mut h = SEED ^ (data.len() as u32);
    let mut chunks = data.chunks_exact(4);
    for chunk in &mut chunks {
        let mut k = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let rest = chunks.remainder();
    if rest.len() >= 3 {
        h ^= u32::from(rest[2]) << 16;
    }
    if rest.len() >= 2 {
        h ^= u32::from(rest[1]) << 8;
    }
    if let Some(first) = rest.first() {
        h ^= u32::from(*first);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h
}

#[async_trait]
impl CommandLog for InMemoryCommandLog {
    async fn append(&self, _id: &str, key: &[u8], payload: &[u8]) -> Result<LogPosition, LogError> {
        let partition = partition_of(key, self.shared.partitions);
        let position = {
            let mut state = self.shared.lock();
            let records = &mut state.records[partition as usize];
            records.push((key.to_vec(), payload.to_vec()));
            LogPosition {
                partition,
                offset: records.len() as u64 - 1,
            }
        };
        self.shared.appended.notify_waiters();
        Ok(position)
    }

    async fn subscribe(&self) -> Result<Arc<dyn LogSubscription>, LogError> {
        let mut state = self.shared.lock();
        state.holder += 1;
        let subscription = MemorySubscription {
            shared: self.shared.clone(),
            generation: state.holder,
            cursor: Mutex::new(Cursor {
                next: state.committed.clone(),
                turn: 0,
                paused: vec![false; state.committed.len()],
            }),
        };
        drop(state);
        // Wake the previous holder's readers, so they see they hold nothing now.
        self.shared.appended.notify_waiters();
        Ok(Arc::new(subscription))
    }

    fn partitions(&self) -> u32 {
        self.shared.partitions
    }

    async fn check_health(&self) -> Result<(), LogError> {
        Ok(())
    }
}

/// One member of the in-memory group.
#[derive(Debug)]
struct MemorySubscription {
    shared: Arc<Shared>,
    generation: u64,
    cursor: Mutex<Cursor>,
}

#[derive(Debug)]
struct Cursor {
    /// Per partition, the next offset to deliver.
    next: Vec<u64>,
    /// The partition to look at first, so no partition starves the others.
    turn: usize,
    /// Per partition, whether the reader paused it.
    paused: Vec<bool>,
}

impl MemorySubscription {
    fn set_paused(&self, partition: u32, paused: bool) {
        let mut cursor = self.cursor.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(flag) = cursor.paused.get_mut(partition as usize) {
            *flag = paused;
        }
    }

    /// The next undelivered record, taking turns over the partitions.
    fn take(&self) -> Option<LogRecord> {
        let state = self.shared.lock();
        if state.holder != self.generation {
            return None;
        }
        let mut cursor = self.cursor.lock().unwrap_or_else(PoisonError::into_inner);
        let count = state.records.len();
        for step in 0..count {
            let partition = (cursor.turn + step) % count;
            if cursor.paused[partition] {
                continue;
            }
            let offset = cursor.next[partition];
            if let Some((key, payload)) = state.records[partition].get(offset as usize) {
                cursor.next[partition] = offset + 1;
                cursor.turn = (partition + 1) % count;
                return Some(LogRecord {
                    position: LogPosition {
                        partition: partition as u32,
                        offset,
                    },
                    key: key.clone(),
                    payload: payload.clone(),
                    delivery_limit_reached: false,
                    generation: self.generation,
                });
            }
        }
        None
    }
}

#[async_trait]
impl LogSubscription for MemorySubscription {
    async fn next(&self, wait: Duration) -> Result<Option<LogRecord>, LogError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Registered before looking, so an append between the look and the wait wakes us.
            let appended = self.shared.appended.notified();
            if let Some(record) = self.take() {
                return Ok(Some(record));
            }
            if !self.holds(0) {
                return Ok(None);
            }
            if tokio::time::timeout_at(deadline, appended).await.is_err() {
                return Ok(None);
            }
        }
    }

    // A subscription holds every partition until the next one subscribes, and never again.
    fn holding(&self, partition: u32) -> Option<u64> {
        (partition < self.shared.partitions && self.shared.lock().holder == self.generation)
            .then_some(self.generation)
    }

    fn pause(&self, partition: u32) {
        self.set_paused(partition, true);
    }

    fn resume(&self, partition: u32) {
        self.set_paused(partition, false);
        // A reader waiting in `next` looks again.
        self.shared.appended.notify_waiters();
    }

    async fn commit(&self, position: LogPosition) -> Result<(), LogError> {
        let mut state = self.shared.lock();
        if state.holder != self.generation {
            return Err(LogError::Internal(format!(
                "partition {} is held by a newer subscription",
                position.partition
            )));
        }
        let committed = state
            .committed
            .get_mut(position.partition as usize)
            .ok_or_else(|| LogError::Internal(format!("no partition {}", position.partition)))?;
        *committed = (*committed).max(position.offset + 1);
        Ok(())
    }

    fn lag(&self) -> Vec<(u32, u64)> {
        let state = self.shared.lock();
        if state.holder != self.generation {
            return Vec::new();
        }
        state
            .records
            .iter()
            .zip(&state.committed)
            .enumerate()
            .map(|(partition, (records, committed))| {
                (partition as u32, records.len() as u64 - committed)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur2_matches_the_kafka_java_client() {
        // Values of the Kafka Java client's `Utils.murmur2`, one per remainder length.
        let cases: [(&[u8], i32); 5] = [
            (b"1", -1_993_445_489),
            (b"12", 126_087_238),
            (b"123", -267_702_483),
            (b"1234", -1_614_185_708),
            (b"12345", -1_188_365_604),
        ];
        for (key, expected) in cases {
            assert_eq!(murmur2(key) as i32, expected, "{key:?}");
        }
    }
}
