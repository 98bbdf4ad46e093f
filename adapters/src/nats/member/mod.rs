//! What one subscription knows and does in the background: a puller per partition
//! ([`pull`]), the pins and commands in flight it holds, and the keeper's work ([`sharing`]):
//! renewing, checking and sharing them.

mod pull;
mod sharing;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_nats::jetstream::message::Acker;
use async_nats::jetstream::stream;
use domain::{LogPosition, LogRecord};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use tokio::time::Instant;

use super::topology::Topology;

/// One partition as this member sees it.
#[derive(Default)]
struct Partition {
    /// Our pin on the partition's consumer (the `Nats-Pin-Id` of the last command delivered to
    /// us); `None` when we do not hold the partition.
    pin: Option<String>,
    /// How many times a delivery came under a pin other than the one before (we were given
    /// the partition again): the generation of the records delivered under this pin.
    generation: u64,
    /// The command delivered and not committed, and what acknowledges it.
    in_flight: Option<(u64, Arc<Acker>)>,
    /// The task pulling the partition; `None` while it is given up.
    puller: Option<AbortHandle>,
    /// To be given up once the command in flight is committed.
    releasing: bool,
    /// Given up: pulled again (on standby) from then.
    cooling_until: Option<Instant>,
    /// Appended and not acknowledged, from the consumer's last info.
    lag: Option<u64>,
}

/// The state one subscription shares with its background tasks.
pub(super) struct Member {
    pub(super) topology: Arc<Topology>,
    stream: stream::Stream<()>,
    /// This member's name in the presence messages.
    id: String,
    partitions: Mutex<Vec<Partition>>,
    records: mpsc::Sender<LogRecord>,
    /// Members heard from, and when.
    peers: Mutex<HashMap<String, Instant>>,
}

impl Member {
    pub(super) fn new(
        topology: Arc<Topology>,
        stream: stream::Stream<()>,
        id: String,
        records: mpsc::Sender<LogRecord>,
    ) -> Arc<Member> {
        let count = topology.partitions() as usize;
        Arc::new(Member {
            topology,
            stream,
            id,
            partitions: Mutex::new((0..count).map(|_| Partition::default()).collect()),
            records,
            peers: Mutex::default(),
        })
    }

    /// The partitions, whatever a panicking holder left (each update is one field assignment).
    fn book(&self) -> MutexGuard<'_, Vec<Partition>> {
        self.partitions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The generation of our holding of `partition`, `None` when we do not hold it.
    pub(super) fn holding(&self, partition: u32) -> Option<u64> {
        self.book()
            .get(partition as usize)
            .filter(|p| p.pin.is_some())
            .map(|p| p.generation)
    }

    pub(super) fn lag(&self) -> Vec<(u32, u64)> {
        self.book()
            .iter()
            .zip(0..)
            .filter(|(p, _)| p.pin.is_some())
            .filter_map(|(p, index)| Some((index, p.lag?)))
            .collect()
    }

    /// Starts pulling every partition not pulled and not cooling off. Needs a tokio runtime.
    pub(super) fn pull_all(self: &Arc<Self>) {
        let now = Instant::now();
        let mut book = self.book();
        for (partition, state) in (0..).zip(book.iter_mut()) {
            if state.puller.is_none()
                && !state.releasing
                && state.cooling_until.is_none_or(|until| until <= now)
            {
                state.cooling_until = None;
                state.puller =
                    Some(tokio::spawn(pull::pull(self.clone(), partition)).abort_handle());
            }
        }
    }

    /// The acknowledger of the command in flight at `position`, taken out of the book: no more
    /// progress is reported for it, whatever its acknowledgement's fate.
    pub(super) fn take_in_flight(&self, position: LogPosition) -> Option<Arc<Acker>> {
        let mut book = self.book();
        let state = book.get_mut(position.partition as usize)?;
        match &state.in_flight {
            Some((offset, _)) if *offset == position.offset => {
                state.in_flight.take().map(|(_, acker)| acker)
            }
            _ => None,
        }
    }
}
