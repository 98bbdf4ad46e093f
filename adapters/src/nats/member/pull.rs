//! The puller of one partition: its consumer's pull stream, each command delivered put in
//! flight and handed to the readers.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use domain::{LogPosition, LogRecord};
use futures_util::StreamExt;

use super::Member;
use crate::nats::config::PRIORITY_GROUP;
use crate::nats::topology::token_key;

/// Commands asked for per pull request (one is delivered at a time: `max_ack_pending` is 1).
const BATCH: usize = 8;
/// Backoff bounds while a partition's consumer cannot be pulled.
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(2);

impl Member {
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
        // Room first: a puller aborted while it waits has not put the command in flight (the
        // server redelivers it after ack_wait); once in flight, the hand-over cannot fail.
        let Ok(permit) = self.records.reserve().await else {
            return false;
        };
        let generation = {
            let mut book = self.book();
            let Some(state) = book.get_mut(partition as usize) else {
                return true;
            };
            if state.pin.as_deref() != Some(pin.as_str()) {
                // Given the partition (again): what came under another pin is not current.
                state.generation += 1;
                state.pin = Some(pin);
            }
            state.in_flight = Some((offset, Arc::new(acker)));
            state.generation
        };
        permit.send(LogRecord {
            position: LogPosition { partition, offset },
            key: token_key(token),
            payload: message.payload.to_vec(),
            delivery_limit_reached: u64::try_from(delivered)
                .is_ok_and(|n| n > u64::from(self.topology.config.max_deliver)),
            generation,
        });
        true
    }
}

/// Pulls one partition's consumer for the member, for as long as the task runs (it is aborted
/// when the partition is given up or the subscription dropped).
pub(super) async fn pull(member: Arc<Member>, partition: u32) {
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
