//! The kinds a configuration chooses between: storage, write mode, broker, role, log format.

use clap::ValueEnum;

/// Where payments are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StorageKind {
    /// In process memory: no setup, lost on exit.
    Memory,
    /// MongoDB (see the `--mongo-*` options).
    Mongo,
}

/// How payment writes are carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WriteMode {
    /// Written to storage before the answer (201/200/204).
    Sync,
    /// Published to the command log and answered 202 Accepted; a worker applies them in order
    /// per organisation.
    Async,
}

/// Which command log carries asynchronous writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BrokerKind {
    /// In process memory: no setup, lost on exit; needs `--role all`.
    Memory,
    /// Kafka (see the `--kafka-*` options).
    Kafka,
    /// NATS JetStream (see the `--nats-*` options).
    Nats,
}

/// What this process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Role {
    /// The HTTP API and, with the asynchronous write mode, a worker.
    All,
    /// The HTTP API only.
    Api,
    /// A worker only: applies commands from the log (plus `/health/*` and `/metrics`).
    Worker,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}
