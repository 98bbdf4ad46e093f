//! Command-line and environment configuration.

use std::net::SocketAddr;

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
    pub public_base_url: Option<String>,

    /// Largest request body accepted, in bytes; larger bodies get 413.
    #[arg(
        long,
        env = "PAYMENT_SERVER_MAX_BODY_BYTES",
        default_value_t = 1_048_576
    )]
    pub max_body_bytes: usize,

    /// Log format.
    #[arg(long, env = "PAYMENT_SERVER_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,
}

impl Config {
    /// The defaults, as if started with no flags and no environment (for tests and embedding).
    pub fn defaults() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            storage: StorageKind::Memory,
            public_base_url: None,
            max_body_bytes: 1_048_576,
            log_format: LogFormat::Pretty,
        }
    }
}
