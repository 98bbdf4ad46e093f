//! [`NatsCommandLog`]: the command log on a NATS JetStream stream, through `async-nats`.
//!
//! ## Configuration
//!
//! [`NatsConfig`] names the servers, the stream (`PAYMENT_COMMANDS`), its subject prefix
//! (`payments.commands`), the partition count and replicas the stream is created with when
//! missing (32, 1), the append timeout (5 s), the acknowledgement wait (10 s), `max_deliver`
//! (5) and the deduplication window (2 min). [`NatsCommandLog::open`] checks it and starts
//! connecting without waiting for a server: a server can start while NATS is down, answer
//! [`LogError::Unavailable`] (a 503) meanwhile, and work as soon as NATS comes.
//!
//! ## The stream and its partitions
//!
//! Commands are published on `payments.commands.<key>` (the organisation id). The stream's
//! subject transform `payments.commands.{{partition(32,1)}}.{{wildcard(1)}}` stores each on
//! `payments.commands.<partition>.<key>`: the server places keys itself, deterministically
//! (FNV-1a of the key modulo the count, which the adapter computes too, to report the
//! position). The stream keeps its files on disk (file storage, `--nats-replicas` copies in a
//! cluster) and has work-queue retention: a command is deleted once its partition's consumer
//! acknowledged it, so the stream holds the backlog, and one group of workers reads it.
//!
//! **Never change the partition count of a live stream** (for the reason the Kafka adapter
//! gives: an organisation's new commands would land on another partition than its older,
//! unapplied ones). The log creates the stream only when it is missing; an existing stream
//! keeps its count, which [`CommandLog::partitions`] reports once the server answered.
//!
//! ## Appends
//!
//! [`CommandLog::append`] publishes with `Nats-Msg-Id` set to the record's id (the command id)
//! and returns only after the stream's acknowledgement, i.e. once the server wrote it to its
//! store (on every replica's quorum in a cluster). While the connection is down, or the
//! acknowledgement does not come, it tries again with the same id until the append timeout:
//! the stream stores a retried record once within its duplicate window. Past the timeout it is
//! [`LogError::Unavailable`]; like any timed-out write, the record may have been stored.
//!
//! ## Reading: one consumer per partition, one worker per consumer
//!
//! Each partition has a durable pull consumer (`partition-<n>`, filtered on its subjects) with
//! `max_ack_pending = 1`: the server delivers a partition's next command only after the one
//! before is acknowledged, so order holds even when a command is redelivered to another
//! worker. Its priority policy is **pinned client** (NATS ≥ 2.11): every member of the group
//! pulls every partition, in priority group `workers`, and the server delivers to one pinned
//! member only; the others wait on standby. A member that stops pulling for `ack_wait` loses
//! the pin, and the server pins a standby one: failover is the server's, with no lease of ours.
//! [`LogSubscription::holding`] names a generation from the first command delivered with our
//! pin (the `Nats-Pin-Id` header) until we give the partition up or the consumer's info shows
//! another pin (checked every second: a restarted server has forgotten its pins); a delivery
//! under a pin other than the last starts a new generation.
//!
//! ## Sharing the partitions
//!
//! The server pins whichever member pulls first, so a member that starts alone would keep every
//! partition. Members therefore say they are alive every second on a core NATS subject
//! (`_PAYMENTS_LOG.<stream>.members`); one holding more than its share (partitions ÷ members
//! heard from, rounded up) gives the excess up: it stops pulling those partitions, lets the
//! command in flight finish, unpins them (the server pins a standby member at the next
//! command), and pulls them again on standby after `ack_wait`. Lost presence messages only
//! unbalance the group; they never give a partition to two members.
//!
//! ## Acknowledgements and redelivery
//!
//! [`LogSubscription::commit`] is a synchronous acknowledgement (the server confirms it). While
//! a member holds a partition it reports progress on the command in flight every second, so a
//! command is never redelivered to another worker while a live one is still applying it
//! (storage may be down for minutes). A member that dies stops reporting: its command is
//! redelivered after `ack_wait`. A dropped subscription returns its commands in flight at once.
//!
//! The consumers redeliver without end (`max_deliver = -1` on the server): the adapter counts
//! instead, and marks the delivery after `max_deliver` deliveries as
//! [`LogRecord::delivery_limit_reached`](domain::LogRecord), which the worker records rejected
//! with `internal_error` rather than applying: a command that keeps killing its workers is
//! given up, and never dropped without an outcome.
//!
//! ## Lag
//!
//! [`LogSubscription::lag`] is, per partition held, the consumer's pending plus
//! unacknowledged commands, read every second.

mod config;
mod member;
mod subscription;
mod topology;

use std::sync::Arc;
use std::time::Duration;

use async_nats::connection::State;
use async_nats::jetstream::context::PublishErrorKind;
use async_trait::async_trait;
use domain::{CommandLog, LogError, LogPosition, LogSubscription};
use tokio::time::Instant;

pub use config::{NatsConfig, NatsSetupError};
pub use subscription::NatsSubscription;

use config::refuse;
use topology::{key_token, partition_of, unavailable, Topology};

/// The pause before an append tries again; the append timeout bounds the whole.
const RETRY_APPEND_EVERY: Duration = Duration::from_millis(50);
/// The longest pause between two reconnection attempts.
const RECONNECT_AT_MOST_EVERY: Duration = Duration::from_secs(1);

/// The command log on one JetStream stream (see the [module docs](self)).
///
/// Clones share the connection and the stream.
#[derive(Clone)]
pub struct NatsCommandLog {
    topology: Arc<Topology>,
}

impl std::fmt::Debug for NatsCommandLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let config = &self.topology.config;
        f.debug_struct("NatsCommandLog")
            .field("url", &config.url)
            .field("stream", &config.stream)
            .finish_non_exhaustive()
    }
}

impl NatsCommandLog {
    /// A log on `config.stream`, connecting in the background; must be called within a tokio
    /// runtime (the stream is created by a background task).
    ///
    /// Fails only on a configuration that can never work (an invalid stream name, a zero
    /// timeout, an unparsable URL); an unreachable server is not an error here.
    pub async fn open(config: &NatsConfig) -> Result<Self, NatsSetupError> {
        config.check()?;
        let client = async_nats::ConnectOptions::new()
            .name(&config.client_name)
            .retry_on_initial_connect()
            .connection_timeout(config.append_timeout.min(Duration::from_secs(2)))
            .request_timeout(Some(config.append_timeout))
            .reconnect_delay_callback(|attempts| {
                let attempts = u32::try_from(attempts).unwrap_or(u32::MAX);
                (Duration::from_millis(50) * attempts).min(RECONNECT_AT_MOST_EVERY)
            })
            .connect(config.url.as_str())
            .await
            .map_err(|e| refuse(format!("the server URL {:?}: {e}", config.url)))?;
        let mut jetstream = async_nats::jetstream::new(client);
        jetstream.set_timeout(config.append_timeout);
        let topology = Topology::new(config.clone(), jetstream);
        topology.request();
        Ok(Self { topology })
    }

    /// Creates the stream and its consumers if missing and waits for them, within the append
    /// timeout.
    ///
    /// Idempotent. The log already does this in the background; call it to know the stream
    /// exists (in a deployment check or a test).
    pub async fn ensure_stream(&self) -> Result<(), LogError> {
        self.topology.ensure().await
    }

    /// The configuration the log was opened with.
    pub fn config(&self) -> &NatsConfig {
        &self.topology.config
    }

    /// One publication of the record, waiting for the stream's acknowledgement.
    async fn publish_once(
        &self,
        subject: &str,
        id: &str,
        payload: &[u8],
    ) -> Result<u64, (bool, LogError)> {
        let jetstream = &self.topology.jetstream;
        if jetstream.client().connection_state() != State::Connected {
            return Err((true, LogError::Unavailable("not connected to NATS".into())));
        }
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(async_nats::header::NATS_MESSAGE_ID, id);
        let published = jetstream
            .publish_with_headers(subject.to_owned(), headers, payload.to_vec().into())
            .await;
        let acknowledged = match published {
            Ok(pending) => pending.await,
            Err(error) => Err(error),
        };
        match acknowledged {
            Ok(ack) => Ok(ack.sequence),
            Err(error) => match error.kind() {
                PublishErrorKind::MaxPayloadExceeded => {
                    Err((false, LogError::TooLarge(format!("append: {error}"))))
                }
                kind => {
                    if kind == PublishErrorKind::StreamNotFound {
                        // Deleted, or JetStream still recovering after a restart: check again.
                        self.topology.forget();
                        self.topology.request();
                    }
                    Err((true, unavailable("append", error)))
                }
            },
        }
    }
}

#[async_trait]
impl CommandLog for NatsCommandLog {
    async fn append(&self, id: &str, key: &[u8], payload: &[u8]) -> Result<LogPosition, LogError> {
        let config = &self.topology.config;
        let deadline = Instant::now() + config.append_timeout;
        let token = key_token(key);
        let subject = format!("{}.{token}", config.subject);
        let mut last_error = LogError::Unavailable("append: not attempted".into());
        while Instant::now() < deadline {
            // The partition count must be the stream's before a position can be reported.
            let attempt = async {
                if !self.topology.ensured() {
                    self.topology.ensure().await.map_err(|e| (true, e))?;
                }
                self.publish_once(&subject, id, payload).await
            };
            match tokio::time::timeout_at(deadline, attempt).await {
                Ok(Ok(offset)) => {
                    let partition = partition_of(&token, self.topology.partitions());
                    return Ok(LogPosition { partition, offset });
                }
                Ok(Err((false, error))) => return Err(error),
                Ok(Err((true, error))) => last_error = error,
                Err(_) => break,
            }
            tokio::time::sleep_until(deadline.min(Instant::now() + RETRY_APPEND_EVERY)).await;
        }
        Err(match last_error {
            LogError::Unavailable(cause) => LogError::Unavailable(format!(
                "no acknowledgement within {} ms ({cause})",
                config.append_timeout.as_millis()
            )),
            internal => internal,
        })
    }

    async fn subscribe(&self) -> Result<Arc<dyn LogSubscription>, LogError> {
        self.topology.ensure().await?;
        let subscription = NatsSubscription::join(self.topology.clone()).await?;
        Ok(Arc::new(subscription))
    }

    fn partitions(&self) -> u32 {
        self.topology.partitions()
    }

    async fn check_health(&self) -> Result<(), LogError> {
        // A server that just started may still be creating the stream: finish that first.
        if !self.topology.ensured() {
            self.topology.ensure().await?;
        }
        let described = self.topology.describe().await;
        if described.is_err() {
            self.topology.forget();
            self.topology.request();
        }
        described
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_log_opens_without_a_reachable_server() {
        // Port 1 on loopback: nothing listens there; opening must not care.
        let config = NatsConfig {
            url: "nats://127.0.0.1:1".into(),
            ..NatsConfig::default()
        };
        let log = NatsCommandLog::open(&config).await.expect("the log opens");
        assert_eq!(log.partitions(), config.partitions);
    }

    #[tokio::test]
    async fn a_configuration_that_can_never_work_is_a_setup_error() {
        let config = NatsConfig {
            stream: "payment commands".into(),
            ..NatsConfig::default()
        };
        let error = NatsCommandLog::open(&config).await.unwrap_err();
        assert!(error.to_string().contains("stream name"), "{error}");
    }
}
