//! Generating load with `wrk` (and reading the same result line from `ceiling-b`).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

use crate::process::pinned;
use crate::BenchError;

/// The line prefix of a machine-readable result (printed by `lua/common.lua` and `ceiling-b`).
pub const RESULT_PREFIX: &str = "BENCH_RESULT ";

/// What one load generator run reports.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct RawResult {
    /// Requests completed.
    pub requests: u64,
    /// Wall time, in microseconds.
    pub duration_us: u64,
    /// Failed connects.
    pub connect_errors: u64,
    /// Failed reads.
    pub read_errors: u64,
    /// Failed writes.
    pub write_errors: u64,
    /// Requests that timed out.
    pub timeouts: u64,
    /// Responses with a status other than 2xx or 3xx (or failed storage operations).
    pub status_errors: u64,
    /// Median latency, in microseconds.
    pub p50_us: u64,
    /// 90th percentile latency, in microseconds.
    pub p90_us: u64,
    /// 99th percentile latency, in microseconds.
    pub p99_us: u64,
    /// Slowest request, in microseconds.
    pub max_us: u64,
    /// CPU time the server process used during the run (user + system), in microseconds; 0
    /// when not measured (ceiling B is its own client, so its CPU time is not comparable).
    #[serde(default)]
    pub server_cpu_us: u64,
}

impl RawResult {
    /// Successful requests per second: a 503 answered quickly is no throughput.
    pub fn per_second(&self) -> f64 {
        if self.duration_us == 0 {
            return 0.0;
        }
        self.requests.saturating_sub(self.status_errors) as f64 * 1e6 / self.duration_us as f64
    }

    /// Server CPU time per completed request, in microseconds (0 when not measured).
    pub fn cpu_per_request_us(&self) -> f64 {
        if self.requests == 0 {
            return 0.0;
        }
        self.server_cpu_us as f64 / self.requests as f64
    }

    /// Every kind of failure added up.
    pub fn errors(&self) -> u64 {
        self.connect_errors
            + self.read_errors
            + self.write_errors
            + self.timeouts
            + self.status_errors
    }
}

/// Finds the result line in a tool's standard output.
pub fn parse_result(tool: &str, stdout: &str) -> Result<RawResult, BenchError> {
    let line = stdout
        .lines()
        .find_map(|line| line.strip_prefix(RESULT_PREFIX))
        .ok_or_else(|| BenchError::Failed(format!("{tool} printed no result line:\n{stdout}")))?;
    serde_json::from_str(line)
        .map_err(|e| BenchError::Failed(format!("{tool} result line {line:?}: {e}")))
}

/// One `wrk` run: which script, against which server, how hard and for how long.
pub struct WrkRun<'a> {
    /// The Lua script (in `bench/lua/`).
    pub script: &'a str,
    /// Arguments passed to the script's `init`.
    pub script_args: Vec<String>,
    /// `http://127.0.0.1:PORT`.
    pub url: &'a str,
    /// Open connections.
    pub connections: u32,
    /// Seconds of load.
    pub seconds: u32,
    /// `taskset -c` list for wrk, or `None`.
    pub cpus: Option<&'a str>,
}

impl WrkRun<'_> {
    /// Runs wrk with one thread (the scripts walk their id pools from a single thread).
    pub fn run(&self, lua_dir: &Path) -> Result<RawResult, BenchError> {
        let script: PathBuf = lua_dir.join(self.script);
        let output = pinned(self.cpus, Path::new("wrk"))
            .args(["-t1", "--timeout", "10s"])
            .arg(format!("-c{}", self.connections))
            .arg(format!("-d{}s", self.seconds))
            .arg("-s")
            .arg(&script)
            .arg(self.url)
            .arg("--")
            .args(&self.script_args)
            .output()
            .map_err(|e| BenchError::io(Path::new("wrk"), e))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            return Err(BenchError::Failed(format!(
                "wrk failed ({}): {}{}",
                output.status,
                stdout,
                String::from_utf8_lossy(&output.stderr)
            )));
        }
        parse_result("wrk", &stdout)
    }
}

/// `wrk --version`'s first words, for the report.
pub fn wrk_version() -> String {
    Command::new("wrk")
        .arg("--version")
        .output()
        .ok()
        .map(|out| {
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            text.split_whitespace()
                .take(2)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| "unknown".into())
}
