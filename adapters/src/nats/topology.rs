//! The log's stream and its consumers (one per partition): created when missing, in the
//! background until the server answers, and the stream's real partition count learnt from its
//! subject transform. Also the placement of keys, computed as the server computes it.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use async_nats::jetstream::consumer::{
    pull, AckPolicy, DeliverPolicy, PriorityPolicy, PullConsumer,
};
use async_nats::jetstream::stream::{self, RetentionPolicy, StorageType, SubjectTransform};
use async_nats::jetstream::Context;
use domain::LogError;

use super::config::{consumer_name, is_plain_token, NatsConfig, PRIORITY_GROUP};

/// How long the background creation waits between attempts while the server is away.
const RETRY_EVERY: Duration = Duration::from_millis(500);

/// The stream of one log, shared by appends, subscriptions and the background task.
pub(super) struct Topology {
    pub(super) config: NatsConfig,
    pub(super) jetstream: Context,
    /// The partition count of the stream as it exists; the configured one until it was read.
    partitions: AtomicU32,
    /// The stream and its consumers were seen to exist (since the last failure).
    ensured: AtomicBool,
    /// A background creation is under way.
    creating: AtomicBool,
    /// One creation at a time: appends that find the stream unknown wait for the one running.
    ensuring: tokio::sync::Mutex<()>,
}

impl Topology {
    pub(super) fn new(config: NatsConfig, jetstream: Context) -> Arc<Topology> {
        Arc::new(Topology {
            partitions: AtomicU32::new(config.partitions),
            config,
            jetstream,
            ensured: AtomicBool::new(false),
            creating: AtomicBool::new(false),
            ensuring: tokio::sync::Mutex::new(()),
        })
    }

    pub(super) fn partitions(&self) -> u32 {
        self.partitions.load(Ordering::Relaxed)
    }

    pub(super) fn ensured(&self) -> bool {
        self.ensured.load(Ordering::Acquire)
    }

    /// Starts creating the stream in the background unless it is known to exist or a creation
    /// is already running. Returns at once; needs a tokio runtime.
    pub(super) fn request(self: &Arc<Self>) {
        if self.ensured() || self.creating.swap(true, Ordering::AcqRel) {
            return;
        }
        tokio::spawn(keep_creating(Arc::downgrade(self)));
    }

    /// Makes the next [`Topology::request`] check the stream again (after a failure: it may
    /// have been deleted).
    pub(super) fn forget(&self) {
        self.ensured.store(false, Ordering::Release);
    }

    /// Creates the stream and its consumers if missing and learns the partition count, within
    /// the append timeout.
    pub(super) async fn ensure(&self) -> Result<(), LogError> {
        let bound = self.config.append_timeout;
        tokio::time::timeout(bound, async {
            let _one_at_a_time = self.ensuring.lock().await;
            if self.ensured() {
                return Ok(());
            }
            self.create().await
        })
        .await
        .unwrap_or_else(|_| {
            Err(LogError::Unavailable(format!(
                "creating the stream: no answer within {} ms",
                bound.as_millis()
            )))
        })
    }

    async fn create(&self) -> Result<(), LogError> {
        let config = &self.config;
        let stream = self
            .jetstream
            .get_or_create_stream(stream::Config {
                name: config.stream.clone(),
                subjects: vec![config.published_subjects()],
                subject_transform: Some(SubjectTransform {
                    source: config.published_subjects(),
                    destination: config.transform_destination(),
                }),
                // A command is kept until its partition's consumer acknowledged it, then
                // deleted: the stream holds the backlog, not the history.
                retention: RetentionPolicy::WorkQueue,
                storage: StorageType::File,
                num_replicas: usize::from(config.replicas),
                duplicate_window: config.duplicate_window,
                ..stream::Config::default()
            })
            .await
            .map_err(|e| unavailable("creating the stream", e))?;
        let count = partitions_of(stream.cached_info())?;
        if count != config.partitions {
            tracing::warn!(
                stream = %config.stream,
                partitions = count,
                configured = config.partitions,
                "the stream exists with another partition count than configured; it keeps its own"
            );
        }
        for partition in 0..count {
            stream
                .create_consumer(self.consumer_config(partition))
                .await
                .map_err(|e| unavailable("creating a partition's consumer", e))?;
        }
        self.partitions.store(count, Ordering::Relaxed);
        self.ensured.store(true, Ordering::Release);
        Ok(())
    }

    /// A partition's durable consumer: one unacknowledged command at a time (strict order, even
    /// across a failover), one pinned worker at a time, redelivered without end (the worker
    /// gives up after `max_deliver` itself, so nothing is dropped silently).
    fn consumer_config(&self, partition: u32) -> pull::Config {
        pull::Config {
            durable_name: Some(consumer_name(partition)),
            filter_subject: self.config.partition_subjects(partition),
            deliver_policy: DeliverPolicy::All,
            ack_policy: AckPolicy::Explicit,
            ack_wait: self.config.ack_wait,
            max_deliver: -1,
            max_ack_pending: 1,
            priority_policy: PriorityPolicy::PinnedClient,
            priority_groups: vec![PRIORITY_GROUP.to_owned()],
            priority_timeout: self.config.ack_wait,
            ..pull::Config::default()
        }
    }

    /// A partition's consumer, as it exists (one request).
    pub(super) async fn consumer(&self, partition: u32) -> Result<PullConsumer, LogError> {
        self.jetstream
            .get_consumer_from_stream(consumer_name(partition), &self.config.stream)
            .await
            .map_err(|e| unavailable("reading a partition's consumer", e))
    }

    /// The stream's state, within the append timeout (the health check).
    pub(super) async fn describe(&self) -> Result<(), LogError> {
        let bound = self.config.append_timeout;
        let stream = tokio::time::timeout(bound, self.jetstream.get_stream(&self.config.stream))
            .await
            .map_err(|_| {
                LogError::Unavailable(format!(
                    "reading the stream: no answer within {} ms",
                    bound.as_millis()
                ))
            })?
            .map_err(|e| unavailable("reading the stream", e))?;
        partitions_of(stream.cached_info()).map(|_| ())
    }
}

/// The partition count a stream's subject transform places records with.
fn partitions_of(info: &stream::Info) -> Result<u32, LogError> {
    let destination = info
        .config
        .subject_transform
        .as_ref()
        .map(|transform| transform.destination.as_str())
        .unwrap_or_default();
    destination
        .split_once("{{partition(")
        .and_then(|(_, rest)| rest.split_once(','))
        .and_then(|(count, _)| count.trim().parse::<u32>().ok())
        .filter(|&count| count > 0)
        .ok_or_else(|| {
            LogError::Internal(format!(
                "stream {} does not partition its subjects ({destination:?}): it was not \
                 created by this log",
                info.config.name
            ))
        })
}

/// Creates the stream, retrying while the server is away, until it exists or the log is gone.
async fn keep_creating(topology: Weak<Topology>) {
    loop {
        let Some(current) = topology.upgrade() else {
            return;
        };
        match current.ensure().await {
            Ok(()) => {
                current.creating.store(false, Ordering::Release);
                tracing::debug!(stream = %current.config.stream, "the command log's stream exists");
                return;
            }
            Err(error) => {
                tracing::debug!(stream = %current.config.stream, %error, "creating the stream; retrying")
            }
        }
        drop(current);
        tokio::time::sleep(RETRY_EVERY).await;
    }
}

pub(super) fn unavailable(what: &str, error: impl std::fmt::Display) -> LogError {
    LogError::Unavailable(format!("{what}: {error}"))
}

/// The subject token a key is published under: the key itself when it is plain (letters,
/// digits, `_`, `-`: organisation ids are), else `=` and its bytes in hex.
pub(super) fn key_token(key: &[u8]) -> String {
    match std::str::from_utf8(key) {
        Ok(text) if is_plain_token(text) => text.to_owned(),
        _ => {
            let mut token = String::with_capacity(1 + key.len() * 2);
            token.push('=');
            for byte in key {
                token.push_str(&format!("{byte:02x}"));
            }
            token
        }
    }
}

/// The key a stored subject's last token stands for (the inverse of [`key_token`]).
pub(super) fn token_key(token: &str) -> Vec<u8> {
    match token.strip_prefix('=') {
        None => token.as_bytes().to_vec(),
        Some(hex) => (0..hex.len() / 2)
            .filter_map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
            .collect(),
    }
}

/// The partition the stream's transform `{{partition(n,1)}}` places `token` on: FNV-1a (32 bit)
/// of the token, modulo the count, as nats-server computes it.
pub(super) fn partition_of(token: &str, partitions: u32) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in token.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash % partitions.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_placed_as_nats_server_places_them() {
        // Partitions nats-server 2.15.1 stored these subjects on, with 8 partitions.
        assert_eq!(partition_of("organisation-a", 8), 5);
        assert_eq!(partition_of("organisation-b", 8), 4);
        assert_eq!(partition_of("x", 8), 7);
    }

    #[test]
    fn keys_that_are_not_plain_tokens_travel_in_hex_and_come_back() {
        for key in [&b"organisation-a"[..], b"a.b", b"", b"\xff*>", b"=41"] {
            let token = key_token(key);
            assert!(
                token == "=" || is_plain_token(token.trim_start_matches('=')),
                "{token}"
            );
            assert_eq!(token_key(&token), key, "{token}");
        }
    }
}
