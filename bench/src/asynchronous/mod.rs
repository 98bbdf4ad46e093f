//! The asynchronous-write group, on MongoDB storage and a Kafka broker:
//!
//! - `POST /v1/payments` of the same build with `--write-mode sync` and with `--write-mode
//!   async --role api`, at the group's connections, spread round-robin over the same
//!   organisations: how much faster a peak is taken than written;
//! - ceiling C, a raw producer sending the same command bytes with the same keys and settings;
//! - the drain: a `--role worker` process started on the backlog the async POSTs left, timed
//!   until it finished every command or for a window;
//! - acceptance to outcome under a steady load the worker keeps up with (`--role all`).
//!
//! Each round measures the three POST sides in turn, reversing the order every round; the round
//! with the median throughput of each side is reported (the drain: its median rate). Every
//! async round has a topic and a consumer group of its own.

pub mod backends;
pub mod latency;
pub mod model;
mod progress;
pub mod report;
mod run;

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::{BenchError, Settings};
use backends::Backends;
use model::{AsyncResults, RoundRates, SideBackends};
use run::Run;

/// Where the group's servers find their database and broker, and how the load is spread.
pub struct AsyncSetup<'a> {
    /// The MongoDB connection string.
    pub mongo_uri: &'a str,
    /// The Kafka bootstrap servers.
    pub brokers: &'a str,
    /// Organisations the POSTs are spread over.
    pub organisations: usize,
    /// Partitions of the command topics.
    pub partitions: u32,
    /// The database server's and the broker's processes, when they run on this machine.
    pub backends: Backends,
}

/// Measures the group at the most connections of the run.
pub async fn measure(
    settings: &Settings,
    client: &reqwest::Client,
    setup: &AsyncSetup<'_>,
) -> Result<AsyncResults, BenchError> {
    let connections = settings.connections.iter().copied().max().unwrap_or(64);
    let files = write_documents(&settings.work_dir, setup.organisations)?;
    let run = Run {
        settings,
        client,
        setup,
        files: &files,
        connections,
        tag: run_tag(),
    };
    let sync_server = run.start_sync().await?;
    let mut sync = Vec::new();
    let mut accepted = Vec::new();
    let mut drains = Vec::new();
    let mut ceiling = Vec::new();
    let mut rounds = Vec::new();
    for round in 0..settings.rounds.max(1) {
        let mut sides = [Side::Sync, Side::Async, Side::Ceiling];
        if round % 2 == 1 {
            sides.reverse();
        }
        for side in sides {
            match side {
                Side::Sync => sync.push(run.post(&sync_server)?),
                Side::Async => {
                    let (post, drain) = run.accept_then_drain(round).await?;
                    let (post, drain) = (&post, &drain);
                    eprintln!(
                        "async round {round}: {:.0} accepted/s p99 {} µs; worker: {} of {} finished, {:.1} s after {:.1} s of start-up: {:.1}/s",
                        post.0.per_second(),
                        post.0.p99_us,
                        drain.0.steady_commands,
                        drain.0.backlog,
                        drain.0.steady_us as f64 / 1e6,
                        drain.0.startup_us as f64 / 1e6,
                        drain.0.steady_per_second()
                    );
                    accepted.push(*post);
                    drains.push(*drain);
                }
                Side::Ceiling => ceiling.push(run.ceiling_c()?),
            }
        }
        rounds.push(RoundRates {
            sync_post: last_rate(&sync, |(post, _)| post.per_second()),
            async_post: last_rate(&accepted, |(post, _)| post.per_second()),
            ceiling_c: last_rate(&ceiling, |(sent, _)| sent.per_second()),
            drain: last_rate(&drains, |(drain, _)| drain.steady_per_second()),
        });
    }
    drop(sync_server);
    let (sync_post, sync_cpu) = median_by(sync, |(post, _)| post.per_second());
    let (async_post, async_cpu) = median_by(accepted, |(post, _)| post.per_second());
    let (ceiling_c, ceiling_cpu) = median_by(ceiling, |(sent, _)| sent.per_second());
    let (drain, drain_cpu) = median_by(drains, |(drain, _)| drain.steady_per_second());
    let latency = run
        .latency(sync_post.per_second().min(drain.steady_per_second()))
        .await?;
    let results = AsyncResults {
        connections,
        organisations: setup.organisations,
        partitions: setup.partitions,
        sync_post,
        async_post,
        ceiling_c,
        drain,
        latency,
        backends: SideBackends {
            sync_post: sync_cpu,
            async_post: async_cpu,
            ceiling_c: ceiling_cpu,
            drain: drain_cpu,
        },
        rounds,
    };
    report::print(&results);
    Ok(results)
}

#[derive(Debug, Clone, Copy)]
enum Side {
    Sync,
    Async,
    Ceiling,
}

/// The bodies every side sends, written once.
pub struct Files {
    /// One POST document per organisation, one per line.
    documents: PathBuf,
    /// The organisation ids, one per line (ceiling C's keys).
    organisations: PathBuf,
    /// The first document, for warming servers up.
    first_document: Vec<u8>,
}

fn write_documents(dir: &Path, organisations: usize) -> Result<Files, BenchError> {
    let ids: Vec<String> = (0..organisations.max(1))
        .map(|_| tests::new_organisation_id())
        .collect();
    let documents: Vec<String> = ids
        .iter()
        .map(|id| tests::payment_document(id, "100.21").to_string())
        .collect();
    let files = Files {
        documents: dir.join("async-documents.jsonl"),
        organisations: dir.join("async-organisations.txt"),
        first_document: documents[0].as_bytes().to_vec(),
    };
    write_lines(&files.documents, &documents)?;
    write_lines(&files.organisations, &ids)?;
    Ok(files)
}

fn write_lines(path: &Path, lines: &[String]) -> Result<(), BenchError> {
    std::fs::write(path, lines.join("\n") + "\n").map_err(|e| BenchError::io(path, e))
}

/// Names this run's topics and groups apart from any earlier run's on the same broker.
fn run_tag() -> String {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis())
        .unwrap_or_default();
    format!("{millis}")
}

/// `rate` of the round measured last.
fn last_rate<T>(rounds: &[T], rate: impl Fn(&T) -> f64) -> f64 {
    rounds.last().map_or(0.0, rate)
}

/// The round with the median `key` (for an even count, the lower middle one); the default of
/// `T` for no rounds.
fn median_by<T: Default>(mut rounds: Vec<T>, key: impl Fn(&T) -> f64) -> T {
    rounds.sort_by(|a, b| key(a).total_cmp(&key(b)));
    if rounds.is_empty() {
        return T::default();
    }
    rounds.swap_remove((rounds.len() - 1) / 2)
}
