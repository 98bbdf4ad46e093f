//! `cluster`: several payment-server instances and workers behind nginx, instances killed under
//! load; what must hold is checked and what it cost is measured. Run through
//! `scripts/cluster.sh`, which provides nginx, MongoDB and Kafka (docs/SCALING.md).

mod checks;
mod client;
mod cluster;
mod load;
mod phases;
mod report;
mod topology;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;

use checks::Finished;
use client::Http;
use phases::CommandSample;
use report::Report;
use topology::Backing;

/// Starts nginx, API instances and workers; runs the mixed load with kills; checks; measures.
#[derive(Debug, Parser)]
#[command(name = "cluster", args_override_self = true)]
struct Args {
    /// The payment-server binary.
    #[arg(long)]
    binary: PathBuf,
    /// The nginx binary.
    #[arg(long, default_value = "nginx")]
    nginx: PathBuf,
    /// MongoDB connection string.
    #[arg(long)]
    mongo_uri: String,
    /// Kafka bootstrap servers.
    #[arg(long)]
    kafka_brokers: String,
    /// Logs, pids, nginx prefix and the report.
    #[arg(long)]
    dir: PathBuf,
    /// API instances.
    #[arg(long, default_value_t = 3)]
    apis: usize,
    /// Worker instances.
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// Seconds of mixed load (an API instance is killed at 20 % of it, a worker at 45 %).
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Writer tasks (synchronous-style writes, `Prefer: wait`).
    #[arg(long, default_value_t = 4)]
    writers: usize,
    /// Chain tasks (one organisation's back-to-back commands each).
    #[arg(long, default_value_t = 6)]
    chains: usize,
    /// Reader tasks.
    #[arg(long, default_value_t = 4)]
    readers: usize,
    /// Pause between one task's requests, ms.
    #[arg(long, default_value_t = 100)]
    pace_ms: u64,
    /// Concurrent PUTs at one version in the contest.
    #[arg(long, default_value_t = 12)]
    contest_puts: usize,
    /// Seconds per throughput measurement (0: none).
    #[arg(long, default_value_t = 0)]
    throughput_seconds: u64,
    /// Connections of the throughput measurements.
    #[arg(long, default_value_t = 32)]
    throughput_connections: usize,
    /// Partitions of the command topic.
    #[arg(long, default_value_t = 8)]
    partitions: u32,
    /// Workers' Kafka session timeout, ms: how soon a killed worker's partitions move.
    #[arg(long, default_value_t = 6000)]
    session_timeout_ms: u64,
    /// pid of the MongoDB server, for the CPU figures.
    #[arg(long)]
    mongo_pid: Option<u32>,
    /// pid of the Kafka broker, for the CPU figures.
    #[arg(long)]
    kafka_pid: Option<u32>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args).await {
        Ok(report) => {
            let path = args.dir.join("report.json");
            let text = serde_json::to_string_pretty(&report).unwrap_or_default();
            if let Err(error) = std::fs::write(&path, text) {
                eprintln!("cluster: {}: {error}", path.display());
            }
            report::print_report(&report);
            if report.failures.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("cluster: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> Result<Report, String> {
    std::fs::create_dir_all(&args.dir).map_err(|e| e.to_string())?;
    let backing = Backing {
        binary: args.binary.clone(),
        mongo_uri: args.mongo_uri.clone(),
        kafka_brokers: args.kafka_brokers.clone(),
        partitions: args.partitions,
        session_timeout_ms: args.session_timeout_ms,
        dir: args.dir.clone(),
    };
    let start = Instant::now();
    let mut cluster = cluster::start_cluster(args, &backing, start).await?;
    let http = Http::new(&cluster.nginx.url(), start);
    cluster::warm_up(&http).await?;
    let mut report = Report {
        seconds: args.seconds,
        apis: args.apis,
        workers: args.workers,
        ..Report::default()
    };

    log("contest: concurrent PUTs at one version through different instances");
    let instances: Vec<Http> = cluster.apis.iter().map(|a| http.at(&a.url())).collect();
    report
        .contests
        .push(phases::contest("async", &instances, args.contest_puts).await);
    report
        .contests
        .push(cluster::sync_contest(&backing, &http, args.apis, args.contest_puts).await?);

    log(&format!("mixed load for {} s with kills", args.seconds));
    http.clear();
    let (shared, load_start, kill_times) = cluster::mixed_load(args, &mut cluster, &http).await?;
    let samples = http.samples();
    report.requests = samples.len();
    report.failed_requests = samples.iter().filter(|s| s.failed).count();

    log("following every accepted command to its outcome");
    let ledger = std::mem::take(
        &mut *shared
            .ledger
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    let outcomes =
        checks::follow(&http, checks::locations(&ledger), Duration::from_secs(180)).await;
    for tracked in &ledger.payments {
        checks::check_payment(
            &http,
            tracked,
            &outcomes,
            &mut report.checked,
            &mut report.failures,
        )
        .await;
    }
    report.failures.extend(ledger.refused.iter().cloned());
    for contest in &report.contests {
        if contest.winners != 1 || !contest.other.is_empty() || contest.final_version != Some(1) {
            report
                .failures
                .push(format!("contest ({}): {contest:?}", contest.mode));
        }
    }

    let commands = command_samples(&outcomes, start, load_start);
    let samples: Vec<client::Sample> = samples
        .into_iter()
        .map(|s| client::Sample {
            sent: s.sent - load_start,
            ..s
        })
        .collect();
    let first_kill = kill_times.first().map_or(args.seconds as f64, |k| k.2);
    let base = phases::baseline(&samples, &commands, 2.0, first_kill);
    for (what, worker, at, restarted) in &kill_times {
        report.kills.push(phases::kill_report(
            what, *worker, *at, *restarted, &samples, &commands, &base,
        ));
    }
    report.baseline = Some(base);
    report.timeline = phases::timeline(&samples, &commands, args.seconds);

    if args.throughput_seconds > 0 {
        let ids: Vec<String> = shared
            .ids
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|(id, _)| id.clone())
            .collect();
        report.throughput = cluster::measure_throughput(args, &mut cluster, &http, &ids).await?;
    }
    for worker in &mut cluster.workers {
        worker.terminate(Duration::from_secs(10));
    }
    Ok(report)
}

fn log(message: &str) {
    eprintln!("cluster: {message}");
}

/// Commands' acceptance (on the load's clock) and latency.
fn command_samples(
    outcomes: &std::collections::HashMap<String, Finished>,
    start: Instant,
    load_start: f64,
) -> Vec<CommandSample> {
    // The run's start on the Unix clock: the commands' timestamps are the server's wall clock.
    let unix_now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    let unix_start = unix_now - start.elapsed().as_secs_f64();
    outcomes
        .values()
        .map(|f| CommandSample {
            accepted: f.accepted_at - unix_start - load_start,
            latency: f.finished_at - f.accepted_at,
        })
        .collect()
}
