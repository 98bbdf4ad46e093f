//! Appending: one idempotent producer, replaced when it can take no more records.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use domain::{LogError, LogPosition};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::ClientConfig;

use super::config::{refuse, KafkaConfig, KafkaSetupError};
use super::context::LogContext;
use super::errors::{log_error, timed_out};
use super::off_runtime::drop_in_background;

type LogProducer = FutureProducer<LogContext>;

/// Appends records to the log's topic, each acknowledged within the bound or refused.
pub(super) struct Appender {
    settings: ClientConfig,
    topic: String,
    bound: Duration,
    /// `None` only while dropping.
    current: RwLock<Option<Arc<LogProducer>>>,
}

/// Why an append failed, and whether its producer must be replaced.
struct Failure {
    error: LogError,
    /// Set when the producer will keep failing (see [`Appender::renew`]).
    stuck: Option<String>,
}

impl Failure {
    fn of(error: &KafkaError) -> Failure {
        // A producer id the broker fenced stays fenced: librdkafka only treats this as fatal
        // when the broker says so while handing out an id, not in a produce response.
        let fenced = matches!(
            error.rdkafka_error_code(),
            Some(RDKafkaErrorCode::ProducerFenced | RDKafkaErrorCode::InvalidProducerEpoch)
        );
        let timed_out = error.rdkafka_error_code() == Some(RDKafkaErrorCode::MessageTimedOut);
        Failure {
            error: log_error("append", error),
            stuck: (fenced || timed_out).then(|| error.to_string()),
        }
    }
}

impl Appender {
    pub(super) fn new(config: &KafkaConfig) -> Result<Appender, KafkaSetupError> {
        let settings = config.producer();
        let producer = create(&settings)?;
        Ok(Appender {
            settings,
            topic: config.topic.clone(),
            bound: config.append_timeout,
            current: RwLock::new(Some(Arc::new(producer))),
        })
    }

    /// Appends one record; `Ok` only once the broker acknowledged it.
    pub(super) async fn append(&self, key: &[u8], payload: &[u8]) -> Result<LogPosition, LogError> {
        let producer = self
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(|| LogError::Internal("the command log is closed".into()))?;
        match self.deliver(&producer, key, payload).await {
            Ok(position) => Ok(position),
            Err(failure) => {
                let fatal = producer.client().fatal_error();
                let stuck = fatal
                    .map(|(code, reason)| format!("fatal error {code:?}: {reason}"))
                    .or(failure.stuck);
                if let Some(why) = stuck {
                    self.renew(&producer, &why);
                }
                Err(failure.error)
            }
        }
    }

    /// Sends one record and waits for its delivery report, within the bound.
    async fn deliver(
        &self,
        producer: &LogProducer,
        key: &[u8],
        payload: &[u8],
    ) -> Result<LogPosition, Failure> {
        let record = FutureRecord::to(&self.topic).key(key).payload(payload);
        let delivery = producer
            .send_result(record)
            .map_err(|(error, _)| Failure::of(&error))?;
        // librdkafka reports a timed-out message up to a second late (it scans once a second):
        // the bound is kept here.
        let delivered = match tokio::time::timeout(self.bound, delivery).await {
            Err(_) => {
                return Err(Failure {
                    error: timed_out("append", self.bound),
                    stuck: Some("no delivery report within the append timeout".into()),
                })
            }
            Ok(Err(_canceled)) => {
                return Err(Failure {
                    error: LogError::Unavailable(
                        "append: the producer was closed before the delivery report".into(),
                    ),
                    stuck: None,
                })
            }
            Ok(Ok(Err((error, _)))) => return Err(Failure::of(&error)),
            Ok(Ok(Ok(delivered))) => delivered,
        };
        match (
            u32::try_from(delivered.partition),
            u64::try_from(delivered.offset),
        ) {
            (Ok(partition), Ok(offset)) => Ok(LogPosition { partition, offset }),
            _ => Err(Failure {
                error: LogError::Internal(format!(
                    "append: the broker reported an invalid position {}/{}",
                    delivered.partition, delivered.offset
                )),
                stuck: None,
            }),
        }
    }

    /// Replaces `failed` by a new producer (with a new producer id from the broker), unless
    /// another append did already.
    ///
    /// Done after a fatal error, a fenced producer id, or an append that was not acknowledged
    /// in time. The last is what gets appends through after a broker that lost its producer
    /// state (tansu after a restart) answers `UNKNOWN_PRODUCER_ID` to every produce: librdkafka
    /// then bumps the epoch of the same id for ever, and every append times out. A timed-out
    /// record's outcome is unknown whatever the producer (the port says so), so nothing is
    /// lost by starting afresh; the new producer's appends fail in turn while Kafka stays
    /// away, so there is at most one replacement per append timeout.
    fn renew(&self, failed: &Arc<LogProducer>, why: &str) {
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        if !current.as_ref().is_some_and(|now| Arc::ptr_eq(now, failed)) {
            return;
        }
        match create(&self.settings) {
            Ok(fresh) => {
                tracing::warn!(why, "replacing the Kafka producer");
                drop_in_background(current.replace(Arc::new(fresh)));
            }
            Err(error) => tracing::error!(%error, why, "cannot start a new Kafka producer"),
        }
    }
}

impl Drop for Appender {
    fn drop(&mut self) {
        // Dropping a producer waits for its polling thread and up to 500 ms of flushing.
        let producer = self
            .current
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        drop_in_background(producer);
    }
}

fn create(settings: &ClientConfig) -> Result<LogProducer, KafkaSetupError> {
    settings
        .create_with_context(LogContext)
        .map_err(|e| refuse(format!("the producer: {e}")))
}
