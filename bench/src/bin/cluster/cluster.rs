//! The cluster's processes started, made ready, killed and restarted under the mixed load, and
//! the contests and throughput measured on them.

use std::time::{Duration, Instant};

use crate::client::Http;
use crate::phases::{self, Contest, Throughput};
use crate::topology::{self, Backing, Process, Role};
use crate::{load, log, Args};

/// The processes of a run.
pub struct Cluster {
    pub apis: Vec<Process>,
    pub workers: Vec<Process>,
    pub nginx: Process,
}

pub async fn start_cluster(
    args: &Args,
    backing: &Backing,
    start: Instant,
) -> Result<Cluster, String> {
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
pub async fn wait_ready(http: &Http, process: &mut Process, path: &str) -> Result<(), String> {
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
pub async fn warm_up(http: &Http) -> Result<(), String> {
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
pub async fn sync_contest(
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

pub type Kills = Vec<(String, bool, f64, f64)>;

/// The writers, chains and readers through nginx for `args.seconds`; meanwhile an API instance
/// and later a worker are killed (SIGKILL) and started again. Returns the ledger, when the load
/// started (seconds from the run's start) and each kill (what, whether a worker, at,
/// restarted), on the load's clock.
pub async fn mixed_load(
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

/// Reads, then 202-answered POSTs (the workers stopped, so nothing competes with the API for
/// the CPU but what serves it), through nginx in front of 1, 2 and 3 instances.
pub async fn measure_throughput(
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
