//! The measured parts of a run besides the mixed load: the optimistic-concurrency contest and
//! the throughput with 1, 2 and 3 API instances; and what a kill did to the answers.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde::Serialize;

use crate::client::{quantile, Http, Sample};
use crate::load::{new_id, Rng};

/// N concurrent PUTs at one version, spread over instances.
#[derive(Debug, Serialize)]
pub struct Contest {
    /// The write mode of the instances.
    pub mode: &'static str,
    /// PUTs sent.
    pub puts: usize,
    /// Applied (200, or a 202 whose command ended applied).
    pub winners: usize,
    /// Refused 409 `version_conflict` (at once or as the command's outcome).
    pub conflicts: usize,
    /// Anything else (a failure).
    pub other: Vec<String>,
    /// The stored version afterwards (must be 1).
    pub final_version: Option<u64>,
}

/// Creates a payment through `instances[0]`, then sends `puts` PUTs at version 0 at once, the
/// i-th through `instances[i % len]`, each asking to wait for its outcome.
pub async fn contest(mode: &'static str, instances: &[Http], puts: usize) -> Contest {
    let first = &instances[0];
    let (id, organisation) = (new_id(), new_id());
    let mut document = tests::payment_document(&organisation, "1.00");
    document["data"]["id"] = id.clone().into();
    let created = first
        .send(
            first
                .request(Method::POST, "/v1/payments")
                .header("prefer", "wait=10")
                .json(&document),
        )
        .await;
    let mut result = Contest {
        mode,
        puts,
        winners: 0,
        conflicts: 0,
        other: Vec::new(),
        final_version: None,
    };
    if created.status != 201 {
        result
            .other
            .push(format!("create: {} {}", created.status, created.body));
        return result;
    }
    let path = format!("/v1/payments/{id}");
    let sends = (0..puts).map(|i| {
        let http = &instances[i % instances.len()];
        let mut body = tests::payment_document(&organisation, &format!("{}.00", i + 2));
        body["data"]["id"] = id.clone().into();
        body["data"]["version"] = 0.into();
        let request = http
            .request(Method::PUT, &path)
            .header("prefer", "wait=10")
            .json(&body);
        async move {
            let answer = http.send(request).await;
            if answer.status != 202 {
                return (answer.status, answer.body["error_code"].clone());
            }
            // Not known in time: follow the command.
            let location = answer.location.unwrap_or_default();
            for _ in 0..200 {
                let status = http.get(&location).await;
                let data = &status.body["data"];
                if status.status == 200 && data["status"] != "accepted" {
                    return match data["status"].as_str() {
                        Some("applied") => (200, serde_json::Value::Null),
                        _ => (
                            data["error"]["status"].as_u64().unwrap_or(0) as u16,
                            data["error"]["error_code"].clone(),
                        ),
                    };
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            (0, "never finished".into())
        }
    });
    for (status, code) in futures_util::future::join_all(sends).await {
        match (status, code.as_str()) {
            (200, _) => result.winners += 1,
            (409, Some("version_conflict")) => result.conflicts += 1,
            (status, _) => result.other.push(format!("{status} {code}")),
        }
    }
    let stored = first.get(&path).await;
    result.final_version = stored.body["data"]["version"].as_u64();
    result
}

/// What one kill did to the answers and to the commands.
#[derive(Debug, Serialize)]
pub struct KillReport {
    /// What was killed.
    pub what: String,
    /// Seconds from the start of the load.
    pub at: f64,
    /// Seconds until it was started again and ready.
    pub restarted_after: f64,
    /// Requests sent in the window from the kill to the restart.
    pub requests: usize,
    /// Of those, failed (5xx or no answer).
    pub failed: usize,
    /// Request p99 in the window, ms (baseline: before the first kill; requests that waited for
    /// their command's outcome are left out, their latency is the command's).
    pub p99_ms: f64,
    /// Seconds from the kill to the end of the last failed request (0: none failed).
    pub last_failure_after: f64,
    /// Commands accepted in the window: accepted → finished p99, ms.
    pub command_p99_ms: f64,
    /// The slowest of those, ms.
    pub command_max_ms: f64,
    /// Seconds from the kill until the survivors absorbed the load (see [`kill_report`]).
    pub absorbed_after: f64,
}

/// Request and command latencies of the baseline (before the first kill).
#[derive(Debug, Serialize, Clone, Copy)]
pub struct Baseline {
    /// Requests sent.
    pub requests: usize,
    /// Failed.
    pub failed: usize,
    /// Request p50 and p99, ms.
    pub p50_ms: f64,
    /// Request p99, ms.
    pub p99_ms: f64,
    /// Command accepted → finished p50, ms.
    pub command_p50_ms: f64,
    /// Command accepted → finished p99, ms.
    pub command_p99_ms: f64,
}

/// A command's acceptance and latency, on the load's clock (seconds from its start).
#[derive(Debug, Clone, Copy)]
pub struct CommandSample {
    /// When it was accepted.
    pub accepted: f64,
    /// Accepted → finished, seconds.
    pub latency: f64,
}

/// The figures of the requests that ended before `to` (and were sent from `from` on): the
/// baseline before the first kill. Commands accepted in `[from, to)`.
pub fn baseline(samples: &[Sample], commands: &[CommandSample], from: f64, to: f64) -> Baseline {
    figures(samples, commands, from, to, |s| {
        s.sent >= from && s.sent + s.latency < to
    })
}

fn figures(
    samples: &[Sample],
    commands: &[CommandSample],
    from: f64,
    to: f64,
    taken: impl Fn(&Sample) -> bool,
) -> Baseline {
    let window: Vec<&Sample> = samples.iter().filter(|s| taken(s)).collect();
    // A request that waited for its command's outcome is timed with the commands.
    let mut latencies: Vec<f64> = window
        .iter()
        .filter(|s| !s.waited)
        .map(|s| s.latency)
        .collect();
    let mut command_latencies: Vec<f64> = commands
        .iter()
        .filter(|c| c.accepted >= from && c.accepted < to)
        .map(|c| c.latency)
        .collect();
    Baseline {
        requests: window.len(),
        failed: window.iter().filter(|s| s.failed).count(),
        p50_ms: quantile(&mut latencies, 0.5) * 1e3,
        p99_ms: quantile(&mut latencies, 0.99) * 1e3,
        command_p50_ms: quantile(&mut command_latencies, 0.5) * 1e3,
        command_p99_ms: quantile(&mut command_latencies, 0.99) * 1e3,
    }
}

/// What a kill at `at` did, until the restart at `restarted` (seconds from the start): the
/// requests in flight at the kill or sent before the restart, the commands accepted meanwhile.
///
/// Absorbed: the last request that failed or took three times the baseline p99 (at least
/// 100 ms) ended; for a worker, also the last command accepted within a second of the kill
/// finished (those on the dead worker's partitions wait for the survivor to take them over).
pub fn kill_report(
    what: &str,
    worker: bool,
    at: f64,
    restarted: f64,
    samples: &[Sample],
    commands: &[CommandSample],
    base: &Baseline,
) -> KillReport {
    let window = figures(samples, commands, at, restarted, |s| {
        s.sent + s.latency >= at && s.sent < restarted
    });
    let mut command_latencies: Vec<f64> = commands
        .iter()
        .filter(|c| c.accepted >= at && c.accepted < restarted)
        .map(|c| c.latency)
        .collect();
    let slow_request = (3.0 * base.p99_ms / 1e3).max(0.1);
    let in_window = |s: &&Sample| s.sent + s.latency >= at && s.sent < restarted;
    let last_failure = samples
        .iter()
        .filter(in_window)
        .filter(|s| s.failed)
        .map(|s| s.sent + s.latency)
        .fold(at, f64::max);
    let last_request = samples
        .iter()
        .filter(in_window)
        .filter(|s| !s.waited && s.latency > slow_request)
        .map(|s| s.sent + s.latency)
        .fold(last_failure, f64::max);
    let last_command = commands
        .iter()
        .filter(|c| worker && c.accepted >= at && c.accepted < at + 1.0)
        .map(|c| c.accepted + c.latency)
        .fold(at, f64::max);
    KillReport {
        what: what.to_owned(),
        at,
        restarted_after: restarted - at,
        requests: window.requests,
        failed: window.failed,
        p99_ms: window.p99_ms,
        last_failure_after: last_failure - at,
        command_p99_ms: window.command_p99_ms,
        command_max_ms: command_latencies
            .iter_mut()
            .map(|l| *l * 1e3)
            .fold(0.0, f64::max),
        absorbed_after: last_request.max(last_command) - at,
    }
}

/// One second of the mixed load.
#[derive(Debug, Serialize)]
pub struct Second {
    /// Seconds from the start of the load.
    pub at: u64,
    /// Requests sent in this second.
    pub requests: usize,
    /// Of those, failed.
    pub failed: usize,
    /// Their p99 (without those that waited for an outcome), ms.
    pub p99_ms: f64,
    /// Commands accepted in this second.
    pub commands: usize,
    /// The slowest of them, accepted → finished, ms.
    pub command_max_ms: f64,
}

/// The load second by second (in report.json: what the kills did, over time).
pub fn timeline(samples: &[Sample], commands: &[CommandSample], seconds: u64) -> Vec<Second> {
    (0..seconds)
        .map(|at| {
            let (from, to) = (at as f64, at as f64 + 1.0);
            let figures = figures(samples, commands, from, to, |s| {
                s.sent >= from && s.sent < to
            });
            let accepted = commands
                .iter()
                .filter(|c| c.accepted >= from && c.accepted < to);
            Second {
                at,
                requests: figures.requests,
                failed: figures.failed,
                p99_ms: figures.p99_ms,
                commands: accepted.clone().count(),
                command_max_ms: accepted.map(|c| c.latency * 1e3).fold(0.0, f64::max),
            }
        })
        .collect()
}

/// Throughput of one request mix through nginx with some number of API instances.
#[derive(Debug, Serialize, Clone)]
pub struct Throughput {
    /// `read` (GET by id) or `accept` (POST answered 202).
    pub mix: &'static str,
    /// API instances behind nginx.
    pub instances: usize,
    /// Concurrent connections.
    pub connections: usize,
    /// Successful answers per second.
    pub per_second: f64,
    /// Failed answers.
    pub failed: usize,
    /// Latency p50, ms.
    pub p50_ms: f64,
    /// Latency p99, ms.
    pub p99_ms: f64,
    /// CPU cores each part used meanwhile (CPU seconds per second).
    pub cores: HashMap<String, f64>,
    /// CPU time of each part per successful request, µs.
    pub cpu_us_per_request: HashMap<String, f64>,
}

/// Runs `mix` through `http` on `connections` connections for `seconds`; `pids` are the
/// processes whose CPU time is reported, by part.
pub async fn throughput(
    http: &Http,
    mix: &'static str,
    instances: usize,
    connections: usize,
    seconds: f64,
    ids: &[String],
    pids: &[(String, u32)],
) -> Throughput {
    http.clear();
    let cpu_before: Vec<u64> = pids.iter().map(|(_, p)| cpu(*p)).collect();
    let self_before = bench::procfs::cpu_time_us(None).unwrap_or(0);
    let started = Instant::now();
    let tasks = (0..connections).map(|c| {
        let http = http.clone();
        let ids = ids.to_vec();
        async move {
            let mut rng = Rng::new(c as u64 + 7);
            let organisation = new_id();
            while started.elapsed().as_secs_f64() < seconds {
                match mix {
                    "accept" => {
                        let body = tests::payment_document(&organisation, "1.00");
                        http.send(http.request(Method::POST, "/v1/payments").json(&body))
                            .await;
                    }
                    _ => {
                        http.get(&format!("/v1/payments/{}", ids[rng.below(ids.len())]))
                            .await;
                    }
                }
            }
        }
    });
    futures_util::future::join_all(tasks).await;
    let elapsed = started.elapsed().as_secs_f64();
    let mut cores: HashMap<String, f64> = HashMap::new();
    for ((part, pid), before) in pids.iter().zip(cpu_before) {
        *cores.entry(part.clone()).or_default() +=
            cpu(*pid).saturating_sub(before) as f64 / 1e6 / elapsed;
    }
    let self_after = bench::procfs::cpu_time_us(None).unwrap_or(0);
    cores.insert(
        "load generator".into(),
        self_after.saturating_sub(self_before) as f64 / 1e6 / elapsed,
    );
    let samples = http.samples();
    let failed = samples.iter().filter(|s| s.failed).count();
    let mut latencies: Vec<f64> = samples.iter().map(|s| s.latency).collect();
    let per_second = (samples.len() - failed) as f64 / elapsed;
    let cpu_us_per_request = cores
        .iter()
        .map(|(part, cores)| (part.clone(), cores * 1e6 / per_second.max(1.0)))
        .collect();
    Throughput {
        mix,
        instances,
        connections,
        per_second,
        cpu_us_per_request,
        failed,
        p50_ms: quantile(&mut latencies, 0.5) * 1e3,
        p99_ms: quantile(&mut latencies, 0.99) * 1e3,
        cores,
    }
}

fn cpu(pid: u32) -> u64 {
    bench::procfs::cpu_time_us(Some(pid)).unwrap_or(0)
}
