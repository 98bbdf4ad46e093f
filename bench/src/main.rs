//! `bench`: measures the payment server against its ceilings and writes the report.
//!
//! Run through `scripts/bench.sh`, which builds everything with `--release`, installs `wrk` if
//! missing and provides a MongoDB-compatible server and a Kafka broker. See
//! `docs/benchmarks/README.md`.

mod asynchronous;
mod chart;
mod conditions;
mod load;
mod memory;
mod model;
mod process;
mod report;
mod seed;
mod suite;
mod targets;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use thiserror::Error;

use model::Results;
use targets::Bodies;

/// Why a run failed.
#[derive(Debug, Error)]
pub enum BenchError {
    /// A file or program could not be used.
    #[error("{path}: {source}")]
    Io {
        /// The file or program.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Something measured did not behave.
    #[error("{0}")]
    Failed(String),
}

impl BenchError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        BenchError::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// Measures the payment server against its ceilings; writes a table and a chart.
#[derive(Debug, Parser)]
#[command(name = "bench")]
struct Args {
    /// Quick: 1-second cells at 16 connections, one round, 2,000 payments for memory, a 5-second
    /// drain window; written under target/bench-smoke instead of docs/benchmarks.
    #[arg(long)]
    smoke: bool,
    /// Seconds of load per measurement.
    #[arg(long, default_value_t = 3)]
    seconds: u32,
    /// Measurements of each side of each cell, alternating which side goes first; the median
    /// round by throughput is reported.
    #[arg(long, default_value_t = 3)]
    rounds: u32,
    /// Concurrent connections to measure at.
    #[arg(long, value_delimiter = ',', default_values_t = [1, 16, 64])]
    connections: Vec<u32>,
    /// CPUs the servers (or the database server) run on, as `taskset -c` takes them.
    #[arg(long, default_value = "1")]
    server_cpus: String,
    /// CPUs the load generator runs on.
    #[arg(long, default_value = "0")]
    load_cpus: String,
    /// Run everything unpinned.
    #[arg(long)]
    no_pin: bool,
    /// Where the report goes.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Payments loaded for the memory measurement.
    #[arg(long, default_value_t = 100_000)]
    memory_payments: usize,
    /// Skip the memory measurement.
    #[arg(long)]
    skip_memory: bool,
    /// MongoDB connection string for the Mongo pair; without it the pair is not measured.
    #[arg(long, env = "MONGODB_URI")]
    mongo_uri: Option<String>,
    /// `RUST_LOG` for the payment servers (unset: the server's default, `info`, which logs every
    /// request); `warn` measures them without the per-request log line.
    #[arg(long)]
    server_log: Option<String>,
    /// Measure nothing: rewrite RESULTS.md and chart.svg from this results.json.
    #[arg(long)]
    render: Option<PathBuf>,
    /// Why the Mongo pair is not measured, when there is no `--mongo-uri` (for the report).
    #[arg(long)]
    mongo_note: Option<String>,
    /// Kafka bootstrap servers for the asynchronous-write group (which also needs
    /// `--mongo-uri`); without them the group is not measured.
    #[arg(long, env = "KAFKA_BOOTSTRAP_SERVERS")]
    kafka_brokers: Option<String>,
    /// Why the asynchronous-write group is not measured, when there are no `--kafka-brokers`
    /// (for the report).
    #[arg(long)]
    kafka_note: Option<String>,
    /// Organisations the asynchronous-write group's POSTs are spread over (the log keys).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    async_organisations: u32,
    /// Partitions of the asynchronous-write group's command topics (the server's default).
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..))]
    kafka_partitions: u32,
    /// The database server's process, when it runs on this machine: the asynchronous-write
    /// group reports its CPU time per request.
    #[arg(long)]
    database_pid: Option<u32>,
    /// The broker's process, when it runs on this machine (as `--database-pid`).
    #[arg(long)]
    broker_pid: Option<u32>,
    /// Measure the asynchronous-write group only (give `--out`, or docs/benchmarks is
    /// rewritten without the other groups).
    #[arg(long)]
    only_async: bool,
}

/// Settings every part of a run reads.
pub struct Settings {
    /// Seconds of load per measurement.
    pub seconds: u32,
    /// Concurrent connections to measure at.
    pub connections: Vec<u32>,
    /// Measurements of each side of each cell.
    pub rounds: u32,
    /// `taskset -c` list for the servers, or `None`.
    pub server_cpus: Option<String>,
    /// `taskset -c` list for the load generator, or `None`.
    pub load_cpus: Option<String>,
    /// The wrk scripts.
    pub lua_dir: PathBuf,
    /// Where the release binaries are.
    pub bin_dir: PathBuf,
    /// Scratch files and server logs.
    pub work_dir: PathBuf,
    /// Payments loaded for the memory measurement.
    pub memory_payments: usize,
    /// `RUST_LOG` for the payment servers, if set.
    pub server_log: Option<String>,
}

impl Settings {
    /// The release binary `name`, next to this one.
    pub fn binary(&self, name: &str) -> PathBuf {
        self.bin_dir.join(name)
    }

    /// Environment for the payment servers.
    pub fn server_env(&self) -> Vec<(&'static str, String)> {
        self.server_log
            .iter()
            .map(|level| ("RUST_LOG", level.clone()))
            .collect()
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bench: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), BenchError> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_owned)
        .ok_or_else(|| BenchError::Failed("the bench crate has no parent directory".into()))?;
    let out_dir = args.out.clone().unwrap_or_else(|| {
        root.join(if args.smoke {
            "target/bench-smoke"
        } else {
            "docs/benchmarks"
        })
    });
    if let Some(figures) = &args.render {
        let text = std::fs::read_to_string(figures).map_err(|e| BenchError::io(figures, e))?;
        let results: Results = serde_json::from_str(&text)
            .map_err(|e| BenchError::Failed(format!("{}: {e}", figures.display())))?;
        std::fs::create_dir_all(&out_dir).map_err(|e| BenchError::io(&out_dir, e))?;
        return report::write(&results, &out_dir);
    }
    let exe = std::env::current_exe().map_err(|e| BenchError::io(Path::new("bench"), e))?;
    let pin = !args.no_pin && conditions::cpu_count() >= 2;
    let settings = Settings {
        seconds: if args.smoke { 1 } else { args.seconds },
        connections: if args.smoke {
            vec![16]
        } else {
            args.connections.clone()
        },
        rounds: if args.smoke { 1 } else { args.rounds },
        server_cpus: pin.then(|| args.server_cpus.clone()),
        load_cpus: pin.then(|| args.load_cpus.clone()),
        lua_dir: root.join("bench/lua"),
        bin_dir: exe.parent().map(Path::to_owned).unwrap_or_default(),
        work_dir: root.join("target/bench-work"),
        memory_payments: if args.smoke {
            2_000
        } else {
            args.memory_payments
        },
        server_log: args.server_log.clone(),
    };
    for dir in [&settings.work_dir, &out_dir] {
        std::fs::create_dir_all(dir).map_err(|e| BenchError::io(dir, e))?;
    }
    let conditions = conditions::detect(&settings, &args, &root);
    let client = reqwest::Client::new();
    let bodies = write_bodies(&settings.work_dir)?;

    let mut cells = Vec::new();
    if !args.only_async {
        suite::memory_pair(&settings, &client, &bodies, &mut cells).await?;
    }
    let mut conditions = conditions;
    // Before the MongoDB pair: its list cells leave SecantusDB busy with sorted scans their
    // clients gave up on, which would slow the first writes measured after them.
    let mut asynchronous = None;
    if let (Some(uri), Some(brokers)) = (&args.mongo_uri, &args.kafka_brokers) {
        let setup = asynchronous::AsyncSetup {
            mongo_uri: uri,
            brokers,
            organisations: args.async_organisations as usize,
            partitions: args.kafka_partitions,
            backends: asynchronous::backends::Backends {
                database: args.database_pid,
                broker: args.broker_pid,
            },
        };
        // A failing broker must not cost the other figures: report why instead.
        match asynchronous::measure(&settings, &client, &setup).await {
            Ok(results) => asynchronous = Some(results),
            Err(error) => {
                eprintln!("bench: the asynchronous-write group failed: {error}");
                conditions.kafka_note = Some(format!("failed: {error}"));
            }
        }
    }
    if let (Some(uri), false) = (&args.mongo_uri, args.only_async) {
        // A failing database server must not cost the in-memory figures: report why instead.
        match suite::mongo_pair(&settings, &client, &bodies, uri, &mut cells).await {
            Ok(()) => {}
            Err(error) => {
                eprintln!("bench: the MongoDB pair failed: {error}");
                conditions.mongo_note = Some(format!("failed part-way: {error}"));
            }
        }
    }
    let memory = if args.skip_memory || args.only_async {
        None
    } else {
        Some(memory::measure(&settings, &client, &bodies.post_bytes).await?)
    };
    conditions.load_average.push(conditions::load_average());
    let results = Results {
        conditions,
        cells,
        memory,
        asynchronous,
    };
    report::write(&results, &out_dir)?;
    eprintln!("bench: report written to {}", out_dir.display());
    Ok(())
}

/// The typical payment of the black-box tests, as POST body and as PUT template.
fn write_bodies(dir: &Path) -> Result<Bodies, BenchError> {
    let organisation = tests::new_organisation_id();
    let document = tests::payment_document(&organisation, "100.21");
    let post_bytes = serde_json::to_vec(&document)
        .map_err(|e| BenchError::Failed(format!("cannot serialize the document: {e}")))?;
    let mut template = document;
    template["data"]["id"] = "__ID__".into();
    template["data"]["version"] = "__VERSION__".into();
    let template = template
        .to_string()
        .replace("\"__VERSION__\"", "__VERSION__");
    let post = dir.join("post.json");
    let put_template = dir.join("put-template.json");
    std::fs::write(&post, &post_bytes).map_err(|e| BenchError::io(&post, e))?;
    std::fs::write(&put_template, template).map_err(|e| BenchError::io(&put_template, e))?;
    Ok(Bodies {
        post,
        put_template,
        post_bytes,
    })
}
