//! Command-line and environment configuration.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Parser, ValueEnum};

/// Where payments are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StorageKind {
    /// In process memory: no setup, lost on exit.
    Memory,
    /// MongoDB (see the `--mongo-*` options).
    Mongo,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}

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

    /// `--shutdown-grace-ms` as a duration.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_millis(self.shutdown_grace_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let config = Config::defaults();
        assert_eq!(config.listen, SocketAddr::from(([127, 0, 0, 1], 8080)));
        assert_eq!(config.storage, StorageKind::Memory);
        assert_eq!(config.max_body_bytes, 1_048_576);
        assert_eq!(config.mongo_database, "payment");
        assert!(config.mongo_journal);
    }

    #[test]
    fn flags_override_defaults() {
        let config = Config::try_parse_from([
            "payment-server",
            "--storage",
            "mongo",
            "--listen",
            "0.0.0.0:9000",
            "--mongo-journal",
            "false",
        ])
        .unwrap();
        assert_eq!(config.storage, StorageKind::Mongo);
        assert_eq!(config.listen.port(), 9000);
        assert!(!config.mongo_journal);
    }

    #[test]
    fn limits_that_would_refuse_every_request_are_rejected() {
        for args in [
            ["--max-concurrent-requests", "0"],
            ["--max-concurrent-requests", "1000001"],
            ["--request-timeout-ms", "0"],
            ["--mongo-max-detached-operations", "0"],
        ] {
            let parsed = Config::try_parse_from(["payment-server", args[0], args[1]]);
            assert!(parsed.is_err(), "{args:?} should be refused");
        }
    }
}
