//! The keeper's work for one member: presence, progress on the commands in flight, checking
//! the pins held, sharing the partitions with the other members, and leaving.

use std::sync::{Arc, PoisonError};
use std::time::Duration;

use async_nats::jetstream::message::{AckKind, Acker};
use tokio::time::Instant;

use super::Member;
use crate::nats::config::{consumer_name, PRIORITY_GROUP};

impl Member {
    /// Tells the other members this one is alive.
    pub(in crate::nats) async fn say_alive(&self) {
        let subject = self.topology.config.presence_subject();
        let client = self.topology.jetstream.client();
        if let Err(error) = client.publish(subject, self.id.clone().into()).await {
            tracing::debug!(%error, "presence not published");
        }
    }

    /// Notes a presence message.
    pub(in crate::nats) fn heard(&self, member: String) {
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
    pub(in crate::nats) async fn report_progress(&self) {
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
    pub(in crate::nats) async fn check_held(&self) {
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
    pub(in crate::nats) async fn balance(self: &Arc<Self>, within: Duration, cool_off: Duration) {
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
    pub(in crate::nats) async fn leave(&self) {
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
