//! What is measured and what a measurement holds.

use serde::{Deserialize, Serialize};

use crate::asynchronous::model::AsyncResults;
use crate::load::RawResult;

/// The operations measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Endpoint {
    /// `GET /v1/payments/{id}`.
    Get,
    /// `POST /v1/payments`.
    Post,
    /// `PUT /v1/payments/{id}`.
    Put,
    /// `GET /v1/payments?page[size]=100`.
    List,
}

impl Endpoint {
    /// Every endpoint, in report order.
    pub const ALL: [Endpoint; 4] = [Endpoint::Get, Endpoint::Post, Endpoint::Put, Endpoint::List];

    /// The request, as the report names it.
    pub fn label(self) -> &'static str {
        match self {
            Endpoint::Get => "GET /v1/payments/{id}",
            Endpoint::Post => "POST /v1/payments",
            Endpoint::Put => "PUT /v1/payments/{id}",
            Endpoint::List => "GET /v1/payments?page[size]=100",
        }
    }

    /// A short name for charts.
    pub fn short(self) -> &'static str {
        match self {
            Endpoint::Get => "GET",
            Endpoint::Post => "POST",
            Endpoint::Put => "PUT",
            Endpoint::List => "LIST",
        }
    }

    /// The `ceiling-b` operation doing the same work on the raw driver.
    pub fn driver_op(self) -> &'static str {
        match self {
            Endpoint::Get => "get",
            Endpoint::Post => "insert",
            Endpoint::Put => "update",
            Endpoint::List => "list",
        }
    }
}

/// Which storage backend a pair of measurements is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Backend {
    /// The payment server on the in-memory backend, against ceiling A (bare axum).
    Memory,
    /// The payment server on MongoDB, against ceiling B (the raw driver).
    Mongo,
}

impl Backend {
    /// The payment server on this backend, as the report names it.
    pub fn server_label(self) -> &'static str {
        match self {
            Backend::Memory => "in-memory server",
            Backend::Mongo => "Mongo-backed server",
        }
    }

    /// Its ceiling, as the report names it.
    pub fn ceiling_label(self) -> &'static str {
        match self {
            Backend::Memory => "ceiling A (bare axum)",
            Backend::Mongo => "ceiling B (raw driver)",
        }
    }
}

/// One endpoint at one concurrency: the server and its ceiling, measured back to back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cell {
    /// Which pair.
    pub backend: Backend,
    /// Which operation.
    pub endpoint: Endpoint,
    /// Concurrent connections (or driver tasks for ceiling B).
    pub connections: u32,
    /// The payment server.
    pub server: RawResult,
    /// Its ceiling.
    pub ceiling: RawResult,
}

impl Cell {
    /// Server throughput as a fraction of the ceiling's.
    pub fn throughput_ratio(&self) -> f64 {
        ratio(self.server.per_second(), self.ceiling.per_second())
    }

    /// Server CPU time per request as a multiple of the ceiling's (0 when not measured).
    pub fn cpu_ratio(&self) -> f64 {
        ratio(
            self.server.cpu_per_request_us(),
            self.ceiling.cpu_per_request_us(),
        )
    }

    /// Server p99 latency as a multiple of the ceiling's.
    pub fn p99_ratio(&self) -> f64 {
        ratio(self.server.p99_us as f64, self.ceiling.p99_us as f64)
    }
}

fn ratio(value: f64, ceiling: f64) -> f64 {
    if ceiling > 0.0 {
        value / ceiling
    } else {
        0.0
    }
}

/// Resident memory of the in-memory server before and after loading payments.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MemoryResult {
    /// Payments loaded.
    pub payments: usize,
    /// `VmRSS` before loading, in bytes.
    pub rss_before: u64,
    /// `VmRSS` after loading, in bytes.
    pub rss_after: u64,
    /// Compact JSON size of one stored payment (`data` of a GET response), in bytes.
    pub json_bytes: usize,
}

impl MemoryResult {
    /// Resident bytes per payment.
    pub fn per_payment(&self) -> f64 {
        self.rss_after.saturating_sub(self.rss_before) as f64 / self.payments.max(1) as f64
    }

    /// Resident bytes per payment beyond its JSON size.
    pub fn overhead_per_payment(&self) -> f64 {
        self.per_payment() - self.json_bytes as f64
    }
}

/// Everything one run measured, with the conditions it ran under.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Results {
    /// Where and how it ran.
    pub conditions: Conditions,
    /// Every endpoint at every concurrency, per backend.
    pub cells: Vec<Cell>,
    /// The memory measurement, unless skipped.
    pub memory: Option<MemoryResult>,
    /// The asynchronous-write group, when measured (absent from runs before it existed).
    #[serde(default)]
    pub asynchronous: Option<AsyncResults>,
}

/// The machine and settings of a run, for the report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Conditions {
    /// UTC time the run started.
    pub date: String,
    /// The git commit measured.
    pub commit: String,
    /// `nproc`.
    pub cpus: usize,
    /// The CPU model.
    pub cpu_model: String,
    /// `uname -sr`.
    pub kernel: String,
    /// The load generator.
    pub load_generator: String,
    /// Seconds of load per measurement.
    pub seconds: u32,
    /// Measurements per side of each cell (the median is reported).
    pub rounds: u32,
    /// CPUs the servers were pinned to (`taskset -c`), if pinned.
    pub server_cpus: Option<String>,
    /// CPUs the load generator was pinned to, if pinned.
    pub load_cpus: Option<String>,
    /// `RUST_LOG` given to the payment servers, if any (else their default, `info`).
    pub server_log: Option<String>,
    /// The command that produced the run.
    pub command: String,
    /// Whether the MongoDB pair was measured, and if not why.
    pub mongo_note: Option<String>,
    /// Whether the asynchronous-write group was measured, and if not why.
    #[serde(default)]
    pub kafka_note: Option<String>,
    /// The machine's load average (1, 5, 15 minutes) when the run started and when it ended:
    /// other work on a shared machine takes CPU from every measurement.
    #[serde(default)]
    pub load_average: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_written_before_the_async_group_existed_still_read() {
        let json = r#"{
            "conditions": {"date": "d", "commit": "c", "cpus": 2, "cpu_model": "m", "kernel": "k",
                "load_generator": "wrk", "seconds": 3, "rounds": 3, "server_cpus": "1",
                "load_cpus": "0", "server_log": null, "command": "scripts/bench.sh",
                "mongo_note": null},
            "cells": [],
            "memory": null
        }"#;
        let results: Results = serde_json::from_str(json).expect("old results read");
        assert!(results.asynchronous.is_none());
        assert!(results.conditions.load_average.is_empty());
        assert_eq!(results.conditions.kafka_note, None);
    }
}
