//! `cluster`: several payment-server instances and workers behind nginx, instances killed under
//! load; what must hold is checked and what it cost is measured. Run through
//! `scripts/cluster.sh`, which provides nginx, MongoDB and Kafka (docs/SCALING.md).

mod checks;
mod client;
mod load;
mod phases;
mod topology;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use serde::Serialize;

use checks::{Checked, Finished};
use client::Http;
use phases::{Baseline, CommandSample, Contest, KillReport, Throughput};
use topology::{Backing, Process, Role};

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

/// Everything a run found.
#[derive(Debug, Serialize, Default)]
struct Report {
    seconds: u64,
    apis: usize,
    workers: usize,
    contests: Vec<Contest>,
    checked: Checked,
    requests: usize,
    failed_requests: usize,
    baseline: Option<Baseline>,
    kills: Vec<KillReport>,
    timeline: Vec<phases::Second>,
    throughput: Vec<Throughput>,
    failures: Vec<String>,
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
            print_report(&report);
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

/// The processes of a run.
struct Cluster {
    apis: Vec<Process>,
    workers: Vec<Process>,
    nginx: Process,
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
    let mut cluster = start_cluster(args, &backing, start).await?;
    let http = Http::new(&cluster.nginx.url(), start);
    warm_up(&http).await?;
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
        .push(sync_contest(&backing, &http, args.apis, args.contest_puts).await?);

    log(&format!("mixed load for {} s with kills", args.seconds));
    http.clear();
    let (shared, load_start, kill_times) = mixed_load(args, &mut cluster, &http).await?;
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
        report.throughput = measure_throughput(args, &mut cluster, &http, &ids).await?;
    }
    for worker in &mut cluster.workers {
        worker.terminate(Duration::from_secs(10));
    }
    Ok(report)
}

fn log(message: &str) {
    eprintln!("cluster: {message}");
}

async fn start_cluster(args: &Args, backing: &Backing, start: Instant) -> Result<Cluster, String> {
    let mut apis = backing
        .start_many("api", Role::AsyncApi, args.apis)
        .map_err(|e| e.to_string())?;
    let mut workers = backing
        .start_many("worker", Role::Worker, args.workers)
        .map_err(|e| e.to_string())?;
    let ports: Vec<u16> = apis.iter().map(|a| a.port).collect();
    let mut nginx = backing
        .nginx(&args.nginx, &ports)
        .map_err(|e| e.to_string())?;
    nginx.start().map_err(|e| e.to_string())?;
    let http = Http::new("", start);
    for process in apis.iter_mut().chain(workers.iter_mut()) {
        wait_ready(&http, process, "/health/ready").await?;
    }
    wait_ready(&http, &mut nginx, "/health/live").await?;
    log(&format!(
        "nginx on {} in front of {:?}; {} workers",
        nginx.url(),
        ports,
        workers.len()
    ));
    Ok(Cluster {
        apis,
        workers,
        nginx,
    })
}

/// Waits until `process` answers `path` with 200 (60 s at most).
async fn wait_ready(http: &Http, process: &mut Process, path: &str) -> Result<(), String> {
    let probe = http.at(&process.url());
    for _ in 0..600 {
        if probe.get(path).await.status == 200 {
            return Ok(());
        }
        if process.exited() {
            return Err(format!("{} exited:\n{}", process.name, process.log_tail()));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!(
        "{} not ready in 60 s:\n{}",
        process.name,
        process.log_tail()
    ))
}

/// Until the workers hold the partitions: creates on several organisations (so on several
/// partitions) must be applied within the wait.
async fn warm_up(http: &Http) -> Result<(), String> {
    for attempt in 0..6 {
        let creates = (0..8).map(|_| {
            let body = tests::payment_document(&load::new_id(), "1.00");
            http.send(
                http.request(reqwest::Method::POST, "/v1/payments")
                    .header("prefer", "wait=9")
                    .json(&body),
            )
        });
        let answers = futures_util::future::join_all(creates).await;
        if answers.iter().all(|a| a.status == 201) {
            return Ok(());
        }
        log(&format!(
            "warm-up {attempt}: workers not applying every partition yet"
        ));
    }
    Err("the workers did not apply commands within a minute".into())
}

/// The contest on sync-mode instances: three more API instances writing straight to storage.
async fn sync_contest(
    backing: &Backing,
    http: &Http,
    count: usize,
    puts: usize,
) -> Result<Contest, String> {
    let mut instances = backing
        .start_many("sync-api", Role::SyncApi, count)
        .map_err(|e| e.to_string())?;
    for api in &mut instances {
        wait_ready(http, api, "/health/ready").await?;
    }
    let clients: Vec<Http> = instances.iter().map(|a| http.at(&a.url())).collect();
    let contest = phases::contest("sync", &clients, puts).await;
    for mut api in instances {
        api.terminate(Duration::from_secs(10));
    }
    Ok(contest)
}

type Kills = Vec<(String, bool, f64, f64)>;

/// The writers, chains and readers through nginx for `args.seconds`; meanwhile an API instance
/// and later a worker are killed (SIGKILL) and started again. Returns the ledger, when the load
/// started (seconds from the run's start) and each kill (what, whether a worker, at,
/// restarted), on the load's clock.
async fn mixed_load(
    args: &Args,
    cluster: &mut Cluster,
    http: &Http,
) -> Result<(load::Shared, f64, Kills), String> {
    let shared = load::Shared::new();
    let load_start = http.now();
    let until = load_start + args.seconds as f64;
    let pace = Duration::from_millis(args.pace_ms);
    let organisations: Vec<String> = (0..20).map(|_| load::new_id()).collect();
    let mut tasks = Vec::new();
    for n in 0..args.writers {
        tasks.push(tokio::spawn(load::writer(
            http.clone(),
            shared.clone(),
            organisations.clone(),
            3,
            pace * 2,
            until,
            n as u64 + 1,
        )));
    }
    for _ in 0..args.chains {
        tasks.push(tokio::spawn(load::chain(
            http.clone(),
            shared.clone(),
            load::new_id(),
            20,
            pace,
            until,
        )));
    }
    for n in 0..args.readers {
        tasks.push(tokio::spawn(load::reader(
            http.clone(),
            shared.clone(),
            pace / 2,
            until,
            n as u64 + 100,
        )));
    }
    // The API instance is down for a sixth of the load (3 to 10 s); the worker from 45 % to 80 %
    // of it, long enough for the survivor to take its partitions over before the restart moves
    // them again.
    let seconds = args.seconds as f64;
    let down = (seconds / 6.0).clamp(3.0, 10.0);
    let mut kills = Vec::new();
    let victim = 1.min(cluster.apis.len() - 1);
    let schedule = [(0.2, down, true), (0.45, seconds * 0.35, false)];
    for (share, down, is_api) in schedule {
        sleep_until(http, load_start + seconds * share).await;
        let process = match is_api {
            true => &mut cluster.apis[victim],
            false => &mut cluster.workers[0],
        };
        let at = http.now() - load_start;
        process.kill();
        log(&format!("SIGKILL {} at {at:.1} s", process.name));
        sleep_until(http, load_start + at + down).await;
        process.start().map_err(|e| e.to_string())?;
        wait_ready(http, process, "/health/ready").await?;
        let restarted = http.now() - load_start;
        log(&format!("{} ready again at {restarted:.1} s", process.name));
        kills.push((process.name.clone(), !is_api, at, restarted));
    }
    for task in tasks {
        task.await.map_err(|e| e.to_string())?;
    }
    Ok((shared, load_start, kills))
}

async fn sleep_until(http: &Http, at: f64) {
    let wait = at - http.now();
    if wait > 0.0 {
        tokio::time::sleep(Duration::from_secs_f64(wait)).await;
    }
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

/// Reads, then 202-answered POSTs (the workers stopped, so nothing competes with the API for
/// the CPU but what serves it), through nginx in front of 1, 2 and 3 instances.
async fn measure_throughput(
    args: &Args,
    cluster: &mut Cluster,
    http: &Http,
    ids: &[String],
) -> Result<Vec<Throughput>, String> {
    for worker in &mut cluster.workers {
        worker.terminate(Duration::from_secs(10));
    }
    let mut results = Vec::new();
    // Up and down again (1, 2, 3, 3, 2, 1): drift in what else the machine runs meanwhile
    // weighs on every count alike.
    let counts: Vec<usize> = (1..=cluster.apis.len())
        .chain((1..=cluster.apis.len()).rev())
        .collect();
    for mix in ["read", "accept"] {
        for &count in &counts {
            let ports: Vec<u16> = cluster.apis[..count].iter().map(|a| a.port).collect();
            topology::reload_nginx(&cluster.nginx, &args.nginx, &ports)
                .map_err(|e| e.to_string())?;
            // Old nginx workers finish what they hold; the new ones serve.
            tokio::time::sleep(Duration::from_secs(1)).await;
            let mut pids = Vec::new();
            for api in &cluster.apis[..count] {
                pids.extend(api.pid().map(|p| ("api".to_owned(), p)));
            }
            if let Some(master) = cluster.nginx.pid() {
                pids.push(("nginx".to_owned(), master));
                for worker in topology::children(master) {
                    pids.push(("nginx".to_owned(), worker));
                }
            }
            pids.extend(args.mongo_pid.map(|p| ("mongodb".to_owned(), p)));
            pids.extend(args.kafka_pid.map(|p| ("kafka".to_owned(), p)));
            let result = phases::throughput(
                http,
                mix,
                count,
                args.throughput_connections,
                args.throughput_seconds as f64,
                ids,
                &pids,
            )
            .await;
            log(&format!(
                "throughput {mix} with {count} instance(s): {:.0}/s, p99 {:.1} ms",
                result.per_second, result.p99_ms
            ));
            results.push(result);
        }
    }
    Ok(results)
}

fn print_report(report: &Report) {
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
