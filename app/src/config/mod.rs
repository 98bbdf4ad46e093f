//! Command-line and environment configuration.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;

mod kinds;

pub use kinds::{BrokerKind, LogFormat, Role, StorageKind, WriteMode};

/// The payment server: a Form3-style payments REST API.
#[derive(Debug, Clone, Parser)]
#[command(name = "payment-server", version, about)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "PAYMENT_SERVER_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Storage backend.
    #[arg(long, env = "PAYMENT_SERVER_STORAGE", value_enum, default_value_t = StorageKind::Memory)]
    pub storage: StorageKind,

    /// How writes are carried out: `sync` writes to storage before answering; `async` publishes
    /// a command to the broker and answers 202 Accepted.
    #[arg(long, env = "PAYMENT_SERVER_WRITE_MODE", value_enum, default_value_t = WriteMode::Sync)]
    pub write_mode: WriteMode,

    /// What this process runs: the API and a worker (`all`), the API only, or a worker only.
    #[arg(long, env = "PAYMENT_SERVER_ROLE", value_enum, default_value_t = Role::All)]
    pub role: Role,

    /// The command log for asynchronous writes.
    #[arg(long, env = "PAYMENT_SERVER_BROKER", value_enum, default_value_t = BrokerKind::Memory)]
    pub broker: BrokerKind,

    /// Longest wait for the broker to acknowledge a command, in milliseconds; 503
    /// `broker_unavailable` after.
    #[arg(
        long,
        env = "PAYMENT_SERVER_BROKER_TIMEOUT_MS",
        default_value_t = 5_000,
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub broker_timeout_ms: u64,

    /// How long command outcomes are kept, in hours (MongoDB: a TTL index).
    #[arg(
        long,
        env = "PAYMENT_SERVER_COMMAND_RETENTION_HOURS",
        default_value_t = 168,
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub command_retention_hours: u64,

    /// Kafka bootstrap servers (with --broker kafka).
    #[arg(
        long,
        env = "KAFKA_BOOTSTRAP_SERVERS",
        default_value = "127.0.0.1:9092"
    )]
    pub kafka_brokers: String,

    /// Kafka topic of the commands.
    #[arg(
        long,
        env = "PAYMENT_SERVER_KAFKA_TOPIC",
        default_value = "payment-commands"
    )]
    pub kafka_topic: String,

    /// Partitions of the command topic, used when the server creates it. Never change it on a
    /// live topic: keys would move to other partitions and lose their order.
    #[arg(
        long,
        env = "PAYMENT_SERVER_KAFKA_PARTITIONS",
        default_value_t = 32,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub kafka_partitions: u32,

    /// Kafka consumer group of the workers.
    #[arg(
        long,
        env = "PAYMENT_SERVER_KAFKA_GROUP",
        default_value = "payment-workers"
    )]
    pub kafka_group: String,

    /// Kafka producer linger, in milliseconds (0 sends at once; batching pays on a real cluster).
    #[arg(long, env = "PAYMENT_SERVER_KAFKA_LINGER_MS", default_value_t = 0)]
    pub kafka_linger_ms: u64,

    /// Kafka consumer session timeout, in milliseconds: how soon a dead worker's partitions move.
    #[arg(
        long,
        env = "PAYMENT_SERVER_KAFKA_SESSION_TIMEOUT_MS",
        default_value_t = 10_000
    )]
    pub kafka_session_timeout_ms: u64,

    /// Kafka consumer fetch wait, in milliseconds: the longest a fetch waits for records (a
    /// broker answers earlier when records come; the tansu test broker always waits it out).
    #[arg(
        long,
        env = "PAYMENT_SERVER_KAFKA_FETCH_WAIT_MS",
        default_value_t = 500,
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub kafka_fetch_wait_ms: u64,

    /// NATS server URLs, comma-separated (with --broker nats).
    #[arg(long, env = "NATS_URL", default_value = "nats://127.0.0.1:4222")]
    pub nats_url: String,

    /// NATS JetStream stream of the commands (file storage, work-queue retention).
    #[arg(
        long,
        env = "PAYMENT_SERVER_NATS_STREAM",
        default_value = "PAYMENT_COMMANDS"
    )]
    pub nats_stream: String,

    /// Subject prefix of the commands: published on PREFIX.ORGANISATION, stored on
    /// PREFIX.PARTITION.ORGANISATION.
    #[arg(
        long,
        env = "PAYMENT_SERVER_NATS_SUBJECT",
        default_value = "payments.commands"
    )]
    pub nats_subject: String,

    /// Partitions of the command stream, used when the server creates it (the stream's subject
    /// transform). Never change it on a live stream: keys would move to other partitions and
    /// lose their order.
    #[arg(
        long,
        env = "PAYMENT_SERVER_NATS_PARTITIONS",
        default_value_t = 32,
        value_parser = clap::value_parser!(u32).range(1..=1024)
    )]
    pub nats_partitions: u32,

    /// Replicas of the command stream in a NATS cluster, used when the server creates it.
    #[arg(
        long,
        env = "PAYMENT_SERVER_NATS_REPLICAS",
        default_value_t = 1,
        value_parser = clap::value_parser!(u8).range(1..=5)
    )]
    pub nats_replicas: u8,

    /// NATS acknowledgement wait, in milliseconds: how soon a dead worker's partitions and the
    /// command it was applying move to another worker.
    #[arg(
        long,
        env = "PAYMENT_SERVER_NATS_ACK_WAIT_MS",
        default_value_t = 10_000,
        value_parser = clap::value_parser!(u64).range(500..)
    )]
    pub nats_ack_wait_ms: u64,

    /// Deliveries of a command to workers that die before finishing it; the next delivery
    /// records it rejected with internal_error instead of applying it.
    #[arg(
        long,
        env = "PAYMENT_SERVER_NATS_MAX_DELIVER",
        default_value_t = 5,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub nats_max_deliver: u32,

    /// MongoDB collection of the command records (outcomes filed by page: the same name +
    /// `_finished`; accepted records: + `_accepted`).
    #[arg(
        long,
        env = "PAYMENT_SERVER_MONGO_COMMANDS_COLLECTION",
        default_value = "payment_commands"
    )]
    pub mongo_commands_collection: String,

    /// Public base URL prefixed to response links (e.g. https://api.example.com); links are
    /// path-absolute when unset.
    #[arg(long, env = "PAYMENT_SERVER_PUBLIC_BASE_URL")]
    // The doc comment is also the `--help` text, where markup would show: keep the URL bare.
    #[allow(rustdoc::bare_urls)]
    pub public_base_url: Option<String>,

    /// Largest request body accepted, in bytes; larger bodies get 413.
    #[arg(
        long,
        env = "PAYMENT_SERVER_MAX_BODY_BYTES",
        default_value_t = 1_048_576
    )]
    pub max_body_bytes: usize,

    /// Log format (the level comes from RUST_LOG, default info).
    #[arg(long, env = "PAYMENT_SERVER_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,

    /// Longest time one request may take, in milliseconds; slower requests get 503.
    #[arg(
        long,
        env = "PAYMENT_SERVER_REQUEST_TIMEOUT_MS",
        default_value_t = 10_000,
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub request_timeout_ms: u64,

    /// Most payment API requests served at once; further ones wait for a free slot (health,
    /// metrics and the API document are not limited).
    #[arg(
        long,
        env = "PAYMENT_SERVER_MAX_CONCURRENT_REQUESTS",
        default_value_t = 1024,
        value_parser = concurrency_limit
    )]
    pub max_concurrent_requests: usize,

    /// On SIGTERM/SIGINT, how long in-flight requests may still run, in milliseconds.
    #[arg(
        long,
        env = "PAYMENT_SERVER_SHUTDOWN_GRACE_MS",
        default_value_t = 30_000
    )]
    pub shutdown_grace_ms: u64,

    /// MongoDB connection string (with --storage mongo).
    #[arg(long, env = "MONGODB_URI", default_value = "mongodb://127.0.0.1:27017")]
    pub mongo_uri: String,

    /// MongoDB database name.
    #[arg(long, env = "PAYMENT_SERVER_MONGO_DATABASE", default_value = "payment")]
    pub mongo_database: String,

    /// MongoDB collection name.
    #[arg(
        long,
        env = "PAYMENT_SERVER_MONGO_COLLECTION",
        default_value = "payments"
    )]
    pub mongo_collection: String,

    /// MongoDB connect timeout, in milliseconds.
    #[arg(
        long,
        env = "PAYMENT_SERVER_MONGO_CONNECT_TIMEOUT_MS",
        default_value_t = 2_000
    )]
    pub mongo_connect_timeout_ms: u64,

    /// MongoDB server-selection timeout, in milliseconds: how long an operation waits for a
    /// reachable server before answering 503.
    #[arg(
        long,
        env = "PAYMENT_SERVER_MONGO_SERVER_SELECTION_TIMEOUT_MS",
        default_value_t = 2_000
    )]
    pub mongo_server_selection_timeout_ms: u64,

    /// Longest time one MongoDB operation may take, in milliseconds.
    #[arg(
        long,
        env = "PAYMENT_SERVER_MONGO_OPERATION_TIMEOUT_MS",
        default_value_t = 3_000
    )]
    pub mongo_operation_timeout_ms: u64,

    /// MongoDB write concern `w`: `majority` or a number of nodes.
    #[arg(
        long,
        env = "PAYMENT_SERVER_MONGO_WRITE_CONCERN",
        default_value = "majority"
    )]
    pub mongo_write_concern: String,

    /// Whether MongoDB writes wait for the journal (j: true).
    #[arg(long, env = "PAYMENT_SERVER_MONGO_JOURNAL", default_value_t = true, action = clap::ArgAction::Set)]
    pub mongo_journal: bool,

    /// Most MongoDB operations left running after their request stopped waiting (timed out or
    /// hung up); while there are this many, further payment requests get 503 at once (the
    /// storage_detached_operations gauge shows the count).
    #[arg(
        long,
        env = "PAYMENT_SERVER_MONGO_MAX_DETACHED_OPERATIONS",
        default_value_t = 256,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
    )]
    pub mongo_max_detached_operations: usize,

    /// Authentication: `--auth` and the `--jwt-*` options.
    #[command(flatten)]
    pub auth: crate::auth::AuthOptions,

    /// Instead of serving, probe GET /health/live of the server this configuration describes and
    /// exit 0 if it answers 200, 1 otherwise (the container HEALTHCHECK).
    // No environment variable: one set by mistake would stop every start from serving.
    #[arg(long)]
    pub healthcheck: bool,
}

/// Parses `--max-concurrent-requests`: at least one slot (zero would refuse everything) and at
/// most a million (the semaphore behind it has a finite capacity).
fn concurrency_limit(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(limit @ 1..=1_000_000) => Ok(limit),
        _ => Err("must be a whole number from 1 to 1000000".into()),
    }
}

impl Config {
    /// The defaults, as if started with no flags and no environment (for tests and embedding).
    pub fn defaults() -> Self {
        use clap::{CommandFactory, FromArgMatches};
        // Environment variables are ignored here, so the defaults are the documented ones.
        let command = Self::command().mut_args(|arg| arg.env(None::<&'static str>));
        // An empty command line always parses: every option has a default or is optional.
        let matches = command.get_matches_from(["payment-server"]);
        Self::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
    }
}

impl Config {
    /// `--request-timeout-ms` as a duration.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    /// `--broker-timeout-ms` as a duration.
    pub fn broker_timeout(&self) -> Duration {
        Duration::from_millis(self.broker_timeout_ms)
    }

    /// `--command-retention-hours` as a duration.
    pub fn command_retention(&self) -> Duration {
        Duration::from_secs(self.command_retention_hours.saturating_mul(3600))
    }

    /// Whether this process runs a worker.
    pub fn runs_worker(&self) -> bool {
        match self.role {
            Role::Worker => true,
            Role::All => self.write_mode == WriteMode::Async,
            Role::Api => false,
        }
    }

    /// A combination that can never work, explained.
    pub fn check(&self) -> Result<(), String> {
        if self.broker == BrokerKind::Memory && self.role != Role::All {
            return Err(format!(
                "--broker memory keeps commands inside one process: it needs --role all, not --role {}",
                match self.role {
                    Role::Api => "api",
                    _ => "worker",
                }
            ));
        }
        Ok(())
    }

    /// `--shutdown-grace-ms` as a duration.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_millis(self.shutdown_grace_ms)
    }
}

#[cfg(test)]
mod tests;
