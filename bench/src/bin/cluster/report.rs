//! What a run found, as `report.json` and as text.

use serde::Serialize;

use crate::checks::Checked;
use crate::phases::{Baseline, Contest, KillReport, Second, Throughput};

/// Everything a run found.
#[derive(Debug, Serialize, Default)]
pub struct Report {
    pub seconds: u64,
    pub apis: usize,
    pub workers: usize,
    pub contests: Vec<Contest>,
    pub checked: Checked,
    pub requests: usize,
    pub failed_requests: usize,
    pub baseline: Option<Baseline>,
    pub kills: Vec<KillReport>,
    pub timeline: Vec<Second>,
    pub throughput: Vec<Throughput>,
    pub failures: Vec<String>,
}

/// Prints the report for people.
pub fn print_report(report: &Report) {
    println!(
        "== cluster: {} API instances, {} workers, {} s of mixed load",
        report.apis, report.workers, report.seconds
    );
    for c in &report.contests {
        println!(
            "contest ({}): {} PUTs at version 0 over the instances: {} winner(s), {} version_conflict, stored version {:?}{}",
            c.mode,
            c.puts,
            c.winners,
            c.conflicts,
            c.final_version,
            if c.other.is_empty() { String::new() } else { format!(", other: {:?}", c.other) }
        );
    }
    let k = &report.checked;
    println!(
        "writes: {} acknowledged 201/200/204, {} accepted 202 of which {} applied, {} with unknown outcome (5xx/no answer); {} payments checked",
        k.acknowledged, k.accepted, k.applied, k.unknown, k.payments
    );
    println!(
        "order: {} chains, {} back-to-back updates each producing the next version",
        k.chains, k.chain_updates
    );
    println!(
        "requests: {} sent, {} failed ({:.2} %)",
        report.requests,
        report.failed_requests,
        100.0 * report.failed_requests as f64 / report.requests.max(1) as f64
    );
    if let Some(b) = &report.baseline {
        println!(
            "baseline (before the kills): {} requests, {} failed, p50 {:.1} ms, p99 {:.1} ms; command accepted→finished p50 {:.0} ms, p99 {:.0} ms",
            b.requests, b.failed, b.p50_ms, b.p99_ms, b.command_p50_ms, b.command_p99_ms
        );
    }
    for kill in &report.kills {
        println!(
            "kill {} at {:.1} s (back after {:.1} s): {} requests, {} failed ({:.2} %, the last {:.1} s after the kill), p99 {:.1} ms; commands p99 {:.0} ms, max {:.0} ms; absorbed after {:.1} s",
            kill.what,
            kill.at,
            kill.restarted_after,
            kill.requests,
            kill.failed,
            100.0 * kill.failed as f64 / kill.requests.max(1) as f64,
            kill.last_failure_after,
            kill.p99_ms,
            kill.command_p99_ms,
            kill.command_max_ms,
            kill.absorbed_after
        );
    }
    for t in &report.throughput {
        let mut cores: Vec<String> = t
            .cores
            .iter()
            .map(|(k, v)| format!("{k} {v:.2} ({:.0} µs/req)", t.cpu_us_per_request[k]))
            .collect();
        cores.sort();
        println!(
            "throughput {} with {} instance(s), {} connections: {:.0}/s, {} failed, p50 {:.1} ms, p99 {:.1} ms; cores: {}",
            t.mix, t.instances, t.connections, t.per_second, t.failed, t.p50_ms, t.p99_ms, cores.join(", ")
        );
    }
    if report.failures.is_empty() {
        println!("PASS: every acknowledged write stored, every 202 applied once, every chain in order, one winner per contest");
    } else {
        println!("FAIL: {} problem(s)", report.failures.len());
        for failure in report.failures.iter().take(50) {
            println!("  - {failure}");
        }
    }
}
