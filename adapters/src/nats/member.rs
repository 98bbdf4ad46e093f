//! What one subscription knows and does in the background: a puller per partition, the pins
//! and records in flight it holds, and the keeper that renews, checks and shares them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_nats::jetstream::message::{AckKind, Acker};
use async_nats::jetstream::{self, stream};
use domain::{LogPosition, LogRecord};
use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use tokio::time::Instant;

use super::config::{consumer_name, PRIORITY_GROUP};
use super::topology::{token_key, Topology};

/// Commands asked for per pull request (one is delivered at a time: `max_ack_pending` is 1).
const BATCH: usize = 8;
/// Backoff bounds while a partition's consumer cannot be pulled.
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(2);

/// One partition as this member sees it.
#[derive(Default)]
struct Partition {
    /// Our pin on the partition's consumer (the `Nats-Pin-Id` of the last command delivered to
    /// us); `None` when we do not hold the partition.
    pin: Option<String>,
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
    stream: jetstream::stream::Stream<()>,
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

    pub(super) fn count(&self) -> u32 {
        u32::try_from(self.book().len()).unwrap_or(u32::MAX)
    }

    pub(super) fn holds(&self, partition: u32) -> bool {
        self.book()
            .get(partition as usize)
            .is_some_and(|p| p.pin.is_some())
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
                state.puller = Some(tokio::spawn(pull(self.clone(), partition)).abort_handle());
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

    /// Records a command delivered to us and hands it to the readers; false once the
    /// subscription is gone.
    async fn deliver(&self, partition: u32, message: jetstream::Message) -> bool {
        let (offset, delivered) = match message.info() {
            Ok(info) => (info.stream_sequence, info.delivered),
            Err(error) => {
                tracing::warn!(%error, partition, "a delivery without JetStream metadata; skipped");
                return true;
            }
        };
        let pin = message
            .headers
            .as_ref()
            .and_then(|headers| headers.get(async_nats::header::NATS_PIN_ID))
            .map(|pin| pin.to_string())
            .unwrap_or_default();
        let (message, acker) = message.split();
        let token = message.subject.rsplit('.').next().unwrap_or_default();
        let record = LogRecord {
            position: LogPosition { partition, offset },
            key: token_key(token),
            payload: message.payload.to_vec(),
            delivery_limit_reached: u64::try_from(delivered)
                .is_ok_and(|n| n > u64::from(self.topology.config.max_deliver)),
        };
        // Room first: a puller aborted while it waits has not put the command in flight (the
        // server redelivers it after ack_wait); once in flight, the hand-over cannot fail.
        let Ok(permit) = self.records.reserve().await else {
            return false;
        };
        if let Some(state) = self.book().get_mut(partition as usize) {
            state.pin = Some(pin);
            state.in_flight = Some((offset, Arc::new(acker)));
        }
        permit.send(record);
        true
    }

    /// Tells the other members this one is alive.
    pub(super) async fn say_alive(&self) {
        let subject = self.topology.config.presence_subject();
        let client = self.topology.jetstream.client();
        if let Err(error) = client.publish(subject, self.id.clone().into()).await {
            tracing::debug!(%error, "presence not published");
        }
    }

    /// Notes a presence message.
    pub(super) fn heard(&self, member: String) {
        let mut peers = self.peers.lock().unwrap_or_else(PoisonError::into_inner);
        peers.insert(member, Instant::now());
    }

    /// Members heard from within `within`, this one included.
    fn members(&self, within: Duration) -> usize {
        let mut peers = self.peers.lock().unwrap_or_else(PoisonError::into_inner);
        peers.retain(|_, seen| seen.elapsed() <= within);
        peers.keys().filter(|id| **id != self.id).count() + 1
    }

    /// Keeps the commands in flight of the partitions held from being redelivered: a live
    /// worker keeps a command however long it takes (storage may be down for minutes).
    pub(super) async fn report_progress(&self) {
        let ackers: Vec<Arc<Acker>> = self
            .book()
            .iter()
            .filter(|p| p.pin.is_some())
            .filter_map(|p| p.in_flight.as_ref().map(|(_, acker)| acker.clone()))
            .collect();
        for acker in ackers {
            if let Err(error) = acker.ack_with(AckKind::Progress).await {
                tracing::debug!(%error, "progress not reported");
            }
        }
    }

    /// Reads each held partition's consumer: its lag, and whether our pin is still the
    /// server's (a server restarted, or a member silent too long, loses its pins).
    pub(super) async fn check_held(&self) {
        let held: Vec<(u32, Option<String>)> = (0..)
            .zip(self.book().iter())
            .filter(|(_, p)| p.pin.is_some())
            .map(|(index, p)| (index, p.pin.clone()))
            .collect();
        let bound = self.topology.config.append_timeout;
        for (partition, pin) in held {
            let name = consumer_name(partition);
            let info = tokio::time::timeout(bound, self.stream.consumer_info(&name)).await;
            let Ok(Ok(info)) = info else {
                continue; // the server is away: the pins are checked again once it answers
            };
            let pinned = info
                .priority_groups
                .iter()
                .find(|group| group.group == PRIORITY_GROUP)
                .and_then(|group| group.pinned_client_id.clone());
            let mut book = self.book();
            let Some(state) = book.get_mut(partition as usize) else {
                continue;
            };
            state.lag = Some(info.num_pending + info.num_ack_pending as u64);
            // Only if no delivery changed our pin while the info was on its way.
            if state.pin == pin && pinned != pin {
                tracing::debug!(partition, "the partition's pin moved; not held any more");
                state.pin = None;
                state.lag = None;
            }
        }
    }

    /// Gives up partitions beyond this member's fair share of the group's (as counted from the
    /// presence messages heard within `within`), once their command in flight is committed;
    /// then resumes pulling given-up partitions after `cool_off`, on standby.
    pub(super) async fn balance(self: &Arc<Self>, within: Duration, cool_off: Duration) {
        let members = self.members(within);
        let mut to_unpin = Vec::new();
        {
            let mut book = self.book();
            let fair = book.len().div_ceil(members);
            let held = book
                .iter()
                .filter(|p| p.pin.is_some() && !p.releasing)
                .count();
            // Idle partitions first, the highest first, so members keep the low ones.
            let mut excess = held.saturating_sub(fair);
            for idle_only in [true, false] {
                for state in book.iter_mut().rev() {
                    if excess > 0
                        && state.pin.is_some()
                        && !state.releasing
                        && (!idle_only || state.in_flight.is_none())
                    {
                        // No more deliveries; the pin is kept until the command in flight is
                        // committed, so it is applied here and not redelivered elsewhere.
                        state.releasing = true;
                        if let Some(puller) = state.puller.take() {
                            puller.abort();
                        }
                        excess -= 1;
                    }
                }
            }
            for (partition, state) in (0..).zip(book.iter_mut()) {
                if state.releasing && state.in_flight.is_none() {
                    state.releasing = false;
                    state.lag = None;
                    state.cooling_until = Some(Instant::now() + cool_off);
                    if state.pin.take().is_some() {
                        to_unpin.push(partition);
                    }
                }
            }
        }
        for partition in to_unpin {
            tracing::debug!(
                partition,
                members,
                "partition given up to share the group's"
            );
            self.unpin(partition).await;
        }
        self.pull_all();
    }

    /// Lets the server pin another member on `partition` now rather than after the pin timeout.
    async fn unpin(&self, partition: u32) {
        let bound = self.topology.config.append_timeout;
        let name = consumer_name(partition);
        let unpinned =
            tokio::time::timeout(bound, self.stream.unpin_consumer(&name, PRIORITY_GROUP)).await;
        if !matches!(unpinned, Ok(Ok(()))) {
            tracing::debug!(partition, "unpin not confirmed; the pin times out instead");
        }
    }

    /// Leaves the group: stops pulling, gives the pins up and returns the commands in flight
    /// for immediate redelivery to the next holder.
    pub(super) async fn leave(&self) {
        let mut returned = Vec::new();
        let mut to_unpin = Vec::new();
        for (partition, state) in (0..).zip(self.book().iter_mut()) {
            if let Some(puller) = state.puller.take() {
                puller.abort();
            }
            if let Some((_, acker)) = state.in_flight.take() {
                returned.push(acker);
            }
            if state.pin.take().is_some() {
                to_unpin.push(partition);
            }
        }
        // Unpinned first: a command returned while we still held the pin could only wait for
        // us.
        for partition in to_unpin {
            self.unpin(partition).await;
        }
        for acker in returned {
            if let Err(error) = acker.ack_with(AckKind::Nak(None)).await {
                tracing::debug!(%error, "command not returned; redelivered after ack_wait");
            }
        }
    }
}

/// Pulls one partition's consumer for the member, for as long as the task runs (it is aborted
/// when the partition is given up or the subscription dropped).
async fn pull(member: Arc<Member>, partition: u32) {
    let config = &member.topology.config;
    let mut backoff = BACKOFF_MIN;
    loop {
        match member.topology.consumer(partition).await {
            Ok(consumer) => {
                let messages = consumer
                    .stream()
                    .max_messages_per_batch(BATCH)
                    .expires(config.pull_expiry())
                    .group(PRIORITY_GROUP)
                    .messages()
                    .await;
                match messages {
                    Ok(mut messages) => {
                        backoff = BACKOFF_MIN;
                        while let Some(item) = messages.next().await {
                            match item {
                                Ok(message) => {
                                    if !member.deliver(partition, message).await {
                                        return;
                                    }
                                }
                                // The stream re-sends its pull requests when the connection
                                // is back; errors end it only when it cannot go on.
                                Err(error) => tracing::debug!(%error, partition, "pulling"),
                            }
                        }
                    }
                    Err(error) => tracing::debug!(%error, partition, "cannot pull the partition"),
                }
            }
            Err(error) => {
                tracing::debug!(%error, partition, "cannot read the partition's consumer");
                member.topology.forget();
                member.topology.request();
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}
