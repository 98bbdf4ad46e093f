//! What the asynchronous-write group measures and what its figures hold.

use serde::{Deserialize, Serialize};

use crate::asynchronous::backends::BackendCpu;
use crate::load::RawResult;

/// The asynchronous-write group: the Mongo-backed server's POST in both write modes, the raw
/// producer, the worker's drain and the time from acceptance to outcome.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AsyncResults {
    /// Concurrent connections of the POST measurements (and ceiling C's tasks).
    pub connections: u32,
    /// Organisations the POSTs are spread over, round-robin: the log keys.
    pub organisations: usize,
    /// Partitions of the command topic.
    pub partitions: u32,
    /// `POST /v1/payments` with `--write-mode sync` (201 after MongoDB's write).
    pub sync_post: RawResult,
    /// `POST /v1/payments` with `--write-mode async --role api` (202 after Kafka's ack).
    pub async_post: RawResult,
    /// Ceiling C: the raw producer sending the same command bytes.
    pub ceiling_c: RawResult,
    /// A `--role worker` process applying what the async POSTs of the same round accepted.
    pub drain: DrainResult,
    /// Acceptance to outcome, read from the command resources.
    pub latency: LatencyResult,
    /// The database server's and the broker's CPU time during each side's reported round.
    #[serde(default)]
    pub backends: SideBackends,
    /// Every round's rates, in the order measured.
    #[serde(default)]
    pub rounds: Vec<RoundRates>,
}

/// The rates of one round. The database server slows down as the rounds fill it, so a side is
/// compared with the others of its own round, and the median of those ratios is reported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct RoundRates {
    /// Sync POSTs answered per second.
    pub sync_post: f64,
    /// Async POSTs accepted per second.
    pub async_post: f64,
    /// Ceiling C's acknowledged sends per second.
    pub ceiling_c: f64,
    /// Commands the worker finished per second (steady).
    pub drain: f64,
}

/// The backends' CPU time during the reported round of each side.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct SideBackends {
    /// During the sync POSTs.
    pub sync_post: BackendCpu,
    /// During the async POSTs.
    pub async_post: BackendCpu,
    /// During ceiling C.
    pub ceiling_c: BackendCpu,
    /// During the drain's steady part (from the first finished command).
    pub drain: BackendCpu,
}

impl AsyncResults {
    /// Async POST throughput as a multiple of the sync POST's, round by round: how much faster
    /// a peak is taken than written.
    pub fn absorbed_ratio(&self) -> f64 {
        self.paired(|round| ratio(round.async_post, round.sync_post))
            .unwrap_or_else(|| ratio(self.async_post.per_second(), self.sync_post.per_second()))
    }

    /// Async POST throughput as a share of ceiling C's, round by round.
    pub fn ceiling_share(&self) -> f64 {
        self.paired(|round| ratio(round.async_post, round.ceiling_c))
            .unwrap_or_else(|| ratio(self.async_post.per_second(), self.ceiling_c.per_second()))
    }

    /// The worker's steady drain rate as a share of the sync POST rate, round by round.
    pub fn drain_share(&self) -> f64 {
        self.paired(|round| ratio(round.drain, round.sync_post))
            .unwrap_or_else(|| ratio(self.drain.steady_per_second(), self.sync_post.per_second()))
    }

    /// `ratio` of every round, in the order measured.
    pub fn per_round(&self, ratio: impl Fn(&RoundRates) -> f64) -> Vec<f64> {
        self.rounds.iter().map(ratio).collect()
    }

    /// The median of `ratio` over the rounds (the lower middle one for an even count); `None`
    /// for results without rounds.
    fn paired(&self, ratio: impl Fn(&RoundRates) -> f64) -> Option<f64> {
        let mut values = self.per_round(ratio);
        values.sort_by(f64::total_cmp);
        values.get(values.len().checked_sub(1)? / 2).copied()
    }
}

/// A worker started on a backlog of accepted commands, timed until it finished them all or
/// for a window from its first finished command, whichever came first.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct DrainResult {
    /// Commands in the backlog (those the API published: the warm-up's and the measurement's).
    pub backlog: u64,
    /// Commands finished when the measurement ended.
    pub finished: u64,
    /// Of them, finished as rejected (should be 0).
    pub rejected: u64,
    /// From starting the worker process to its first finished command (start-up and joining
    /// the consumer group), in microseconds.
    pub startup_us: u64,
    /// Commands finished after the first reading that showed any finished.
    pub steady_commands: u64,
    /// From that first reading to the last, in microseconds.
    pub steady_us: u64,
    /// CPU time of the worker process from its start to the last reading (user + system), in
    /// microseconds.
    pub worker_cpu_us: u64,
    /// The longest the drain is timed for from the first finished command, in seconds.
    pub window_seconds: u64,
}

impl DrainResult {
    /// Commands finished per second once the worker was running.
    pub fn steady_per_second(&self) -> f64 {
        ratio(self.steady_commands as f64 * 1e6, self.steady_us as f64)
    }

    /// Commands finished per second from the worker's start.
    pub fn overall_per_second(&self) -> f64 {
        ratio(
            self.finished as f64 * 1e6,
            (self.startup_us + self.steady_us) as f64,
        )
    }

    /// Worker CPU time per finished command, in microseconds.
    pub fn cpu_per_command_us(&self) -> f64 {
        ratio(self.worker_cpu_us as f64, self.finished as f64)
    }
}

/// Acceptance to outcome of commands POSTed to an API-and-worker process, from the
/// `accepted_at` and `finished_at` of their command resources (millisecond precision).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct LatencyResult {
    /// Connections of the load.
    pub connections: u32,
    /// Pause of each connection between an answer and its next request, in milliseconds.
    pub pause_ms: u64,
    /// Commands accepted per second during the load.
    pub accepted_per_second: f64,
    /// Commands whose resources were read.
    pub commands: u64,
    /// Of them, not applied (should be 0).
    pub not_applied: u64,
    /// Median, in microseconds.
    pub p50_us: u64,
    /// 99th percentile, in microseconds.
    pub p99_us: u64,
    /// Slowest, in microseconds.
    pub max_us: u64,
}

fn ratio(value: f64, base: f64) -> f64 {
    if base > 0.0 {
        value / base
    } else {
        0.0
    }
}
