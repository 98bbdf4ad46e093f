//! The composition root: configuration → storage → use cases → inbound adapters (HTTP, the
//! worker) → serve until a shutdown signal. The only module that knows every adapter.

use std::future::Future;
use std::sync::Arc;

use std::time::Duration;

use adapters::{InMemoryCommandLog, KafkaCommandLog, KafkaConfig, NatsCommandLog, NatsConfig};
use domain::{CommandLog, CommandService, PaymentRepository, PaymentService};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::auth::Authentication;
use crate::command_metrics::CommandMetrics;
use crate::commands::AsyncWrites;
use crate::config::{BrokerKind, Config, Role, WriteMode};
use crate::http::links::Links;
use crate::http::{self, App, AppState};
use crate::metrics::Metrics;
use crate::storage::{build_storage, Storage};
use crate::storage_metrics::MeteredRepository;
use crate::{http_limits, serve_with_grace, worker, StartupError};

/// Partitions of the in-memory command log.
const MEMORY_LOG_PARTITIONS: u32 = 32;

/// Everything one process runs, built from its configuration.
pub struct Composed {
    /// The HTTP service: the whole API, or for `--role worker` only `/health/*` and `/metrics`.
    pub http: App,
    /// The worker, when this process applies commands.
    pub worker: Option<Worker>,
}

/// A worker ready to run: the log it reads and the use case it applies commands with.
pub struct Worker {
    log: Arc<dyn CommandLog>,
    commands: CommandService,
    metrics: CommandMetrics,
}

impl Worker {
    /// Applies commands until `shutdown` completes.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) {
        worker::run(self.log, self.commands, self.metrics, shutdown).await;
    }
}

/// Builds what `config` asks for, on its configured storage.
pub async fn compose(config: &Config) -> Result<Composed, StartupError> {
    let metrics = Metrics::new()?;
    let storage = build_storage(config, &metrics).await?;
    compose_with(config, storage, metrics).await
}

/// Builds what `config` asks for over `storage` (tests pass storage that fails on purpose).
pub async fn compose_with(
    config: &Config,
    storage: Storage,
    metrics: Metrics,
) -> Result<Composed, StartupError> {
    config.check().map_err(StartupError::Config)?;
    let payments: Arc<dyn PaymentRepository> =
        MeteredRepository::wrap(storage.payments, metrics.clone());
    let service = PaymentService::new(payments);
    let commands = CommandService::new(service.clone(), storage.commands);
    let command_metrics = CommandMetrics::register(&metrics)?;
    let log = match needs_log(config) {
        true => Some(command_log(config).await?),
        false => None,
    };
    let writes = match (&log, config.write_mode, config.role) {
        (Some(log), WriteMode::Async, Role::All | Role::Api) => Some(AsyncWrites::new(
            log.clone(),
            commands.clone(),
            config.broker_timeout(),
            // A wait must leave the rest of the request's time to answer it.
            config.request_timeout().mul_f64(0.8),
            command_metrics.clone(),
        )),
        _ => None,
    };
    let worker = match (&log, config.runs_worker()) {
        (Some(log), true) => Some(Worker {
            log: log.clone(),
            commands: commands.clone(),
            metrics: command_metrics,
        }),
        _ => None,
    };
    // A worker serves no payment route, so it has nothing to authenticate.
    let worker_only = config.role == Role::Worker;
    let auth = match worker_only {
        true => Authentication::none(),
        false => config
            .auth
            .build(config.listen)
            .await
            .map_err(StartupError::Config)?,
    };
    let state = AppState {
        service,
        auth,
        writes,
        links: Links::new(config.public_base_url.as_deref()),
        metrics,
        limits: http_limits(config),
    };
    let http = match worker_only {
        true => http::operations_router(state),
        false => http::router(state),
    };
    Ok(Composed { http, worker })
}

fn needs_log(config: &Config) -> bool {
    config.write_mode == WriteMode::Async || config.role == Role::Worker
}

/// The command log `--broker` names. Kafka and NATS are not waited for here: the server starts
/// while the broker is down (asynchronous writes answer 503 until it comes up).
async fn command_log(config: &Config) -> Result<Arc<dyn CommandLog>, StartupError> {
    match config.broker {
        BrokerKind::Memory => Ok(Arc::new(InMemoryCommandLog::new(MEMORY_LOG_PARTITIONS))),
        BrokerKind::Kafka => KafkaCommandLog::open(&kafka_config(config))
            .await
            .map(|log| Arc::new(log) as Arc<dyn CommandLog>)
            .map_err(|e| StartupError::Config(format!("kafka: {e}"))),
        BrokerKind::Nats => NatsCommandLog::open(&nats_config(config))
            .await
            .map(|log| Arc::new(log) as Arc<dyn CommandLog>)
            .map_err(|e| StartupError::Config(format!("nats: {e}"))),
    }
}

/// The `--nats-*` options as the adapter's settings.
pub fn nats_config(config: &Config) -> NatsConfig {
    NatsConfig {
        url: config.nats_url.clone(),
        stream: config.nats_stream.clone(),
        subject: config.nats_subject.clone(),
        partitions: config.nats_partitions,
        replicas: config.nats_replicas,
        append_timeout: config.broker_timeout(),
        ack_wait: Duration::from_millis(config.nats_ack_wait_ms),
        max_deliver: config.nats_max_deliver,
        // A retry within the append timeout must still find the first attempt's id.
        duplicate_window: NatsConfig::default()
            .duplicate_window
            .max(config.broker_timeout()),
        ..NatsConfig::default()
    }
}

/// The `--kafka-*` options as the adapter's settings.
pub fn kafka_config(config: &Config) -> KafkaConfig {
    KafkaConfig {
        brokers: config.kafka_brokers.clone(),
        topic: config.kafka_topic.clone(),
        partitions: config.kafka_partitions,
        group: config.kafka_group.clone(),
        append_timeout: config.broker_timeout(),
        linger: Duration::from_millis(config.kafka_linger_ms),
        session_timeout: Duration::from_millis(config.kafka_session_timeout_ms),
        heartbeat_interval: Duration::from_millis(config.kafka_session_timeout_ms / 4),
        fetch_wait: Duration::from_millis(config.kafka_fetch_wait_ms),
        ..KafkaConfig::default()
    }
}

impl Composed {
    /// Serves HTTP on `listener` and runs the worker until `shutdown` completes; then lets
    /// in-flight requests and the commands being applied finish, each for up to `grace`.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
        grace: std::time::Duration,
    ) -> Result<(), StartupError> {
        let (stop, stopped) = watch::channel(false);
        let signal = async move {
            shutdown.await;
            let _ = stop.send(true);
        };
        let worker = self.worker.map(|worker| {
            let (mut stopped, mut told) = (stopped.clone(), stopped.clone());
            tokio::spawn(async move {
                let run = worker.run(async move {
                    let _ = stopped.wait_for(|stop| *stop).await;
                });
                let expired = async move {
                    let _ = told.wait_for(|stop| *stop).await;
                    tokio::time::sleep(grace).await;
                };
                tokio::select! {
                    () = run => {}
                    // Storage or the log gone: the commands being applied would wait for them
                    // without end. Left unfinished and uncommitted, they are delivered again to
                    // the partitions' next holder, as after a crash.
                    () = expired => tracing::warn!(
                        grace_ms = grace.as_millis(),
                        "shutdown grace period expired; the worker stops with commands \
                         unfinished, which the next holder of their partitions applies"
                    ),
                }
            })
        });
        let served = serve_with_grace(listener, self.http, signal, grace).await;
        if let Some(worker) = worker {
            let _ = worker.await;
        }
        served
    }
}
