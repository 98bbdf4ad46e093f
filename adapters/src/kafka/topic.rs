//! The log's topic: created when missing, in the background until the broker answers, and its
//! real partition count learnt from the broker.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use domain::LogError;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::ClientConfig;

use super::config::{refuse, KafkaConfig, KafkaSetupError};
use super::context::LogContext;
use super::errors::{log_error, timed_out};
use super::off_runtime::blocking;

/// How long the background creation waits between attempts while the broker is away.
const RETRY_EVERY: Duration = Duration::from_millis(500);

/// The topic of one log, shared by its producer, its subscriptions and the background task.
pub(super) struct Topic {
    name: String,
    wanted_partitions: u32,
    replication_factor: Option<u16>,
    bound: Duration,
    admin: Arc<AdminClient<LogContext>>,
    /// The partition count the broker reported; the configured one until it did.
    partitions: AtomicU32,
    /// The topic was seen to exist (since the last outage).
    ensured: AtomicBool,
    /// A background creation is under way.
    creating: AtomicBool,
}

impl Topic {
    pub(super) fn new(config: &KafkaConfig) -> Result<Arc<Topic>, KafkaSetupError> {
        let admin = admin_client(&config.admin())?;
        Ok(Arc::new(Topic {
            name: config.topic.clone(),
            wanted_partitions: config.partitions,
            replication_factor: config.replication_factor,
            bound: config.append_timeout,
            admin: Arc::new(admin),
            partitions: AtomicU32::new(config.partitions),
            ensured: AtomicBool::new(false),
            creating: AtomicBool::new(false),
        }))
    }

    pub(super) fn name(&self) -> &str {
        &self.name
    }

    pub(super) fn partitions(&self) -> u32 {
        self.partitions.load(Ordering::Relaxed)
    }

    /// Starts creating the topic in the background unless it is known to exist or a creation
    /// is already running. Returns at once; needs a tokio runtime.
    pub(super) fn request(self: &Arc<Self>) {
        if self.ensured.load(Ordering::Acquire) || self.creating.swap(true, Ordering::AcqRel) {
            return;
        }
        let topic = Arc::downgrade(self);
        tokio::spawn(keep_creating(topic));
    }

    /// Makes the next [`Topic::request`] check the topic again: after an outage the broker may
    /// have come back without it (tansu keeps nothing across a restart).
    pub(super) fn forget(&self) {
        self.ensured.store(false, Ordering::Release);
    }

    /// Creates the topic if it is missing and learns its partition count, within the bound.
    pub(super) async fn ensure(self: &Arc<Self>) -> Result<(), LogError> {
        tokio::time::timeout(self.bound, self.create_and_describe())
            .await
            .unwrap_or_else(|_| Err(timed_out("creating the topic", self.bound)))
    }

    async fn create_and_describe(self: &Arc<Self>) -> Result<(), LogError> {
        let replication = self.replication_factor.map_or(-1, i32::from);
        // Checked by `KafkaConfig::check`: the count fits an i32.
        let partitions = i32::try_from(self.wanted_partitions).unwrap_or(i32::MAX);
        let new_topic = NewTopic::new(&self.name, partitions, TopicReplication::Fixed(replication));
        let options = AdminOptions::new().request_timeout(Some(self.bound));
        let results = self
            .admin
            .create_topics([&new_topic], &options)
            .await
            .map_err(|e| log_error("creating the topic", &e))?;
        for result in results {
            match result {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((_, code)) => {
                    return Err(log_error(
                        "creating the topic",
                        &rdkafka::error::KafkaError::AdminOp(code),
                    ))
                }
            }
        }
        let count = self.describe().await?;
        if count != self.wanted_partitions {
            tracing::warn!(
                topic = %self.name,
                partitions = count,
                configured = self.wanted_partitions,
                "the topic exists with another partition count than configured; it keeps its own"
            );
        }
        self.partitions.store(count, Ordering::Relaxed);
        self.ensured.store(true, Ordering::Release);
        Ok(())
    }

    /// The topic's partition count, from a metadata request bounded by the append timeout.
    pub(super) async fn describe(self: &Arc<Self>) -> Result<u32, LogError> {
        let topic = Arc::clone(self);
        blocking(self.bound, "reading the topic's metadata", move || {
            let metadata = topic
                .admin
                .inner()
                .fetch_metadata(Some(&topic.name), topic.bound)
                .map_err(|e| log_error("reading the topic's metadata", &e))?;
            let described = metadata
                .topics()
                .iter()
                .find(|t| t.name() == topic.name)
                .ok_or_else(|| LogError::Unavailable("the topic is not in the metadata".into()))?;
            if let Some(error) = described.error() {
                return Err(LogError::Unavailable(format!(
                    "topic {}: {:?}",
                    topic.name,
                    RDKafkaErrorCode::from(error)
                )));
            }
            match u32::try_from(described.partitions().len()) {
                Ok(0) | Err(_) => Err(LogError::Unavailable(format!(
                    "topic {} has no partitions yet",
                    topic.name
                ))),
                Ok(count) => Ok(count),
            }
        })
        .await
    }
}

/// Creates the topic, retrying while the broker is away, until it exists or the log is gone.
async fn keep_creating(topic: Weak<Topic>) {
    loop {
        let Some(current) = topic.upgrade() else {
            return;
        };
        match current.ensure().await {
            Ok(()) => {
                current.creating.store(false, Ordering::Release);
                tracing::debug!(topic = %current.name, "the command log's topic exists");
                return;
            }
            Err(error) => {
                tracing::debug!(topic = %current.name, %error, "creating the topic; retrying")
            }
        }
        drop(current);
        tokio::time::sleep(RETRY_EVERY).await;
    }
}

fn admin_client(config: &ClientConfig) -> Result<AdminClient<LogContext>, KafkaSetupError> {
    config
        .create_with_context(LogContext)
        .map_err(|e| refuse(format!("the admin client: {e}")))
}
