//! The asynchronous-write group, on MongoDB storage and a Kafka broker, and on NATS JetStream
//! beside it when a NATS server is given:
//!
//! - `POST /v1/payments` of the same build with `--write-mode sync` and with `--write-mode
//!   async --role api` (on each broker), at the group's connections, spread round-robin over the
//!   same organisations: how much faster a peak is taken than written;
//! - ceiling C, a raw Kafka producer sending the same command bytes with the same keys and
//!   settings;
//! - the drain: a `--role worker` process started on the backlog the async POSTs left, timed
//!   until it finished every command or for a window (on each broker);
//! - acceptance to outcome under a steady load the worker keeps up with (`--role all`, on each
//!   broker).
//!
//! Each round measures the POST sides in turn, reversing the order every round; the round with
//! the median throughput of each side is reported (the drain: its median rate). Every async
//! round has a topic and a consumer group (on NATS: a stream and subjects) of its own.

pub mod backends;
pub mod latency;
pub mod model;
mod progress;
pub mod report;
mod run;

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::load::RawResult;
use crate::{BenchError, Settings};
use backends::{BackendCpu, Backends};
use model::{
    AsyncResults, Broker, BrokerBackends, BrokerRates, BrokerResults, DrainResult, RoundRates,
    SideBackends,
};
use run::Run;

/// Where the group's servers find their database and brokers, and how the load is spread.
pub struct AsyncSetup<'a> {
    /// The MongoDB connection string.
    pub mongo_uri: &'a str,
    /// The Kafka bootstrap servers, and the broker's process when it runs on this machine.
    pub kafka: BrokerAt<'a>,
    /// The NATS server URL and process, when NATS is measured too.
    pub nats: Option<BrokerAt<'a>>,
    /// Organisations the POSTs are spread over.
    pub organisations: usize,
    /// Partitions of the command topics (and of the NATS streams).
    pub partitions: u32,
    /// The database server's process, when it runs on this machine.
    pub database_pid: Option<u32>,
}

/// Where one broker is.
#[derive(Debug, Clone, Copy)]
pub struct BrokerAt<'a> {
    /// Kafka bootstrap servers, or the NATS server URL.
    pub address: &'a str,
    /// The broker's process, when it runs on this machine: its CPU time is reported.
    pub pid: Option<u32>,
}

impl AsyncSetup<'_> {
    /// The brokers to measure, Kafka first.
    fn brokers(&self) -> Vec<Broker> {
        let mut brokers = vec![Broker::Kafka];
        brokers.extend(self.nats.map(|_| Broker::Nats));
        brokers
    }

    /// Where `broker` is (Kafka's address for a NATS that is not measured: never asked).
    fn at(&self, broker: Broker) -> BrokerAt<'_> {
        match (broker, self.nats) {
            (Broker::Nats, Some(nats)) => nats,
            _ => self.kafka,
        }
    }

    /// The database server and `broker`, whose CPU time a side on `broker` reports.
    fn backends(&self, broker: Broker) -> Backends {
        Backends {
            database: self.database_pid,
            broker: self.at(broker).pid,
        }
    }
}

/// What the rounds measured on one broker.
#[derive(Default)]
struct BrokerRounds {
    posts: Vec<(RawResult, BackendCpu)>,
    drains: Vec<(DrainResult, BackendCpu)>,
}

impl BrokerRounds {
    fn last(&self) -> BrokerRates {
        BrokerRates {
            async_post: last_rate(&self.posts, |(post, _)| post.per_second()),
            drain: last_rate(&self.drains, |(drain, _)| drain.steady_per_second()),
        }
    }
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
    let brokers = setup.brokers();
    let sync_server = run.start_sync().await?;
    let mut sync = Vec::new();
    let mut ceiling = Vec::new();
    let mut measured: Vec<BrokerRounds> = brokers.iter().map(|_| BrokerRounds::default()).collect();
    let mut rounds = Vec::new();
    for round in 0..settings.rounds.max(1) {
        let mut sides = vec![Side::Sync];
        sides.extend(brokers.iter().map(|broker| Side::Async(*broker)));
        sides.push(Side::Ceiling);
        if round % 2 == 1 {
            sides.reverse();
        }
        for side in sides {
            match side {
                Side::Sync => sync.push(run.post(&sync_server, Broker::Kafka)?),
                Side::Async(broker) => {
                    let (post, drain) = run.accept_then_drain(broker, round).await?;
                    eprintln!(
                        "async round {round} on {}: {:.0} accepted/s p99 {} µs; worker: {} of {} finished, {:.1} s after {:.1} s of start-up: {:.1}/s",
                        broker.label(),
                        post.0.per_second(),
                        post.0.p99_us,
                        drain.0.steady_commands,
                        drain.0.backlog,
                        drain.0.steady_us as f64 / 1e6,
                        drain.0.startup_us as f64 / 1e6,
                        drain.0.steady_per_second()
                    );
                    let rounds = &mut measured[index_of(&brokers, broker)];
                    rounds.posts.push(post);
                    rounds.drains.push(drain);
                }
                Side::Ceiling => ceiling.push(run.ceiling_c()?),
            }
        }
        let kafka = measured[0].last();
        rounds.push(RoundRates {
            sync_post: last_rate(&sync, |(post, _)| post.per_second()),
            async_post: kafka.async_post,
            ceiling_c: last_rate(&ceiling, |(sent, _)| sent.per_second()),
            drain: kafka.drain,
            nats: brokers
                .contains(&Broker::Nats)
                .then(|| measured[index_of(&brokers, Broker::Nats)].last()),
        });
    }
    drop(sync_server);
    let (sync_post, sync_cpu) = median_by(sync, |(post, _)| post.per_second());
    let (ceiling_c, ceiling_cpu) = median_by(ceiling, |(sent, _)| sent.per_second());
    let mut results = Vec::new();
    for (broker, rounds) in brokers.iter().zip(measured) {
        let (async_post, post_cpu) = median_by(rounds.posts, |(post, _)| post.per_second());
        let (drain, drain_cpu) = median_by(rounds.drains, |(drain, _)| drain.steady_per_second());
        let latency = run
            .latency(
                *broker,
                sync_post.per_second().min(drain.steady_per_second()),
            )
            .await?;
        results.push((
            *broker,
            BrokerResults {
                async_post,
                drain,
                latency,
                backends: BrokerBackends {
                    async_post: post_cpu,
                    drain: drain_cpu,
                },
            },
        ));
    }
    let of = |wanted: Broker| {
        results
            .iter()
            .find(|(broker, _)| *broker == wanted)
            .map(|(_, sides)| *sides)
    };
    let kafka = of(Broker::Kafka).unwrap_or_default();
    let results = AsyncResults {
        connections,
        organisations: setup.organisations,
        partitions: setup.partitions,
        sync_post,
        async_post: kafka.async_post,
        ceiling_c,
        drain: kafka.drain,
        latency: kafka.latency,
        backends: SideBackends {
            sync_post: sync_cpu,
            async_post: kafka.backends.async_post,
            ceiling_c: ceiling_cpu,
            drain: kafka.backends.drain,
        },
        rounds,
        nats: of(Broker::Nats),
    };
    report::print(&results);
    Ok(results)
}

/// Where `broker` is in `brokers` (always there: the caller measures only those).
fn index_of(brokers: &[Broker], broker: Broker) -> usize {
    brokers.iter().position(|b| *b == broker).unwrap_or(0)
}

#[derive(Debug, Clone, Copy)]
enum Side {
    Sync,
    Async(Broker),
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

/// Names this run's topics, groups and streams apart from any earlier run's on the same broker.
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
