//! One run of the asynchronous-write group: its servers and the measurement of each side.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::asynchronous::backends::BackendCpu;
use crate::asynchronous::latency;
use crate::asynchronous::model::{Broker, DrainResult, LatencyResult};
use crate::asynchronous::progress::{published_at_rest, wait_until_finished, Counters};
use crate::asynchronous::{AsyncSetup, Files};
use crate::load::{parse_result, RawResult, WrkRun};
use crate::process::{pinned, Server};
use crate::seed::create_many;
use crate::suite::start_payment_server;
use crate::{BenchError, Settings};

/// The database of the group's servers (the same for both write modes).
const DATABASE: &str = "payment_bench_async";
/// Requests sent to every server before it is measured (the async API's first ones wait for
/// its topic to be created).
const WARM_UP: usize = 64;
/// Connections of the warm-up.
const WARM_UP_CONCURRENCY: usize = 8;
/// Connections of the latency measurement: enough to keep the worker's lanes busy at a pace.
const LATENCY_CONNECTIONS: u32 = 8;
/// Commands the latency measurement should at least have, for a meaningful p99.
const LATENCY_SAMPLES: f64 = 200.0;
/// The drain is timed for this many times `--seconds` from the worker's first finished command
/// (or until the backlog is gone): long enough for a steady rate, short enough for a backlog
/// that may take many minutes to apply on a slow database server.
const DRAIN_WINDOW_FACTOR: u32 = 5;

/// What every measurement of one group run shares.
pub struct Run<'a> {
    /// The run's settings.
    pub settings: &'a Settings,
    /// The harness's HTTP client.
    pub client: &'a reqwest::Client,
    /// Database, brokers and keys.
    pub setup: &'a AsyncSetup<'a>,
    /// The bodies.
    pub files: &'a Files,
    /// Connections of the POST measurements.
    pub connections: u32,
    /// Names this run's topics, groups and streams apart from earlier runs'.
    pub tag: String,
}

impl Run<'_> {
    /// The synchronous server, warmed up.
    pub async fn start_sync(&self) -> Result<Server, BenchError> {
        let server = self.start_server("async-group-sync-server", &[])?;
        self.warm_up(&server).await?;
        Ok(server)
    }

    /// Sends [`WARM_UP`] POSTs (an async API's first ones wait for its topic to be created).
    async fn warm_up(&self, server: &Server) -> Result<(), BenchError> {
        create_many(
            self.client,
            &server.url,
            &self.files.first_document,
            WARM_UP,
            WARM_UP_CONCURRENCY,
        )
        .await
        .map(drop)
    }

    /// A Mongo-backed payment server on the group's database with `extra` arguments, where the
    /// load generator runs (the database and the broker have the server CPUs).
    fn start_server(&self, name: &str, extra: &[&str]) -> Result<Server, BenchError> {
        let mut args = vec!["--storage", "mongo", "--mongo-database", DATABASE];
        args.extend_from_slice(extra);
        start_payment_server(
            self.settings,
            name,
            &args,
            &[("MONGODB_URI", self.setup.mongo_uri.to_owned())],
            self.settings.load_cpus.as_deref(),
        )
    }

    /// The arguments of an asynchronous server in `role` on `broker`, on round `round`'s topic
    /// and group (NATS: stream and subjects), with the group's partitions.
    fn async_args(&self, broker: Broker, role: &str, round: &str) -> Vec<String> {
        let (tag, address) = (&self.tag, self.setup.at(broker).address);
        let partitions = self.setup.partitions.to_string();
        let broker_args = match broker {
            Broker::Kafka => [
                ("--kafka-brokers", address.to_owned()),
                ("--kafka-partitions", partitions),
                ("--kafka-topic", format!("bench-commands-{tag}-{round}")),
                ("--kafka-group", format!("bench-workers-{tag}-{round}")),
            ],
            // Stream names take no dots; the subjects are the stream's alone.
            Broker::Nats => [
                ("--nats-url", address.to_owned()),
                ("--nats-partitions", partitions),
                ("--nats-stream", format!("BENCH_COMMANDS_{tag}_{round}")),
                ("--nats-subject", format!("bench.{tag}.{round}.commands")),
            ],
        };
        let broker_name = match broker {
            Broker::Kafka => "kafka",
            Broker::Nats => "nats",
        };
        [
            "--write-mode",
            "async",
            "--role",
            role,
            "--broker",
            broker_name,
        ]
        .iter()
        .map(|arg| (*arg).to_owned())
        .chain(
            broker_args
                .into_iter()
                .flat_map(|(flag, value)| [flag.to_owned(), value]),
        )
        .collect()
    }

    fn start_async(
        &self,
        broker: Broker,
        name: &str,
        role: &str,
        round: &str,
    ) -> Result<Server, BenchError> {
        let args = self.async_args(broker, role, round);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let name = format!("{name}-{}", broker.label().to_lowercase());
        self.start_server(&name, &args)
    }

    /// wrk POSTing the documents round-robin at the group's connections, and what it cost the
    /// database server and `broker`.
    pub fn post(
        &self,
        server: &Server,
        broker: Broker,
    ) -> Result<(RawResult, BackendCpu), BenchError> {
        let backends = self.setup.backends(broker).snapshot();
        let result = self.post_with(server, self.connections, self.settings.seconds, None, None)?;
        Ok((result, backends.since()))
    }

    fn post_with(
        &self,
        server: &Server,
        connections: u32,
        seconds: u32,
        locations: Option<&Path>,
        pause_ms: Option<u64>,
    ) -> Result<RawResult, BenchError> {
        let mut script_args = vec![self.files.documents.display().to_string()];
        script_args.extend(locations.map(|path| path.display().to_string()));
        script_args.extend(pause_ms.map(|pause| pause.to_string()));
        let cpu_before = server.cpu_time_us()?;
        let mut result = WrkRun {
            script: if pause_ms.is_some() {
                "post_orgs_paced.lua"
            } else {
                "post_orgs.lua"
            },
            script_args,
            url: &server.url,
            connections,
            seconds,
            cpus: self.settings.load_cpus.as_deref(),
        }
        .run(&self.settings.lua_dir)?;
        result.server_cpu_us = server.cpu_time_us()?.saturating_sub(cpu_before);
        Ok(result)
    }

    /// An API-only server on `broker` takes POSTs for the measurement and is stopped; then a
    /// worker is
    /// started on the backlog and timed until it finished every command, or for the drain
    /// window. Stopping the API first keeps the accepted records it was still writing off the
    /// database while the worker is timed (a record not written is created by the worker's
    /// outcome, so none is missing).
    pub async fn accept_then_drain(
        &self,
        broker: Broker,
        round: u32,
    ) -> Result<((RawResult, BackendCpu), (DrainResult, BackendCpu)), BenchError> {
        let round = round.to_string();
        let api = self.start_async(broker, "async-api-server", "api", &round)?;
        self.warm_up(&api).await?;
        let post = self.post(&api, broker)?;
        let backlog = published_at_rest(self.client, &api.url).await?;
        drop(api);
        let started = Instant::now();
        let worker = self.start_async(broker, "async-worker", "worker", &round)?;
        let cpu_before = worker.cpu_time_us()?;
        // Start-up and joining the group first; the backends are measured from the first
        // finished command on.
        let first = wait_until_finished(self.client, &worker.url, 1, None).await?;
        let backends = self.setup.backends(broker).snapshot();
        let window = Duration::from_secs(u64::from(self.settings.seconds * DRAIN_WINDOW_FACTOR));
        let finished = wait_until_finished(self.client, &worker.url, backlog, Some(window)).await?;
        let drain = DrainResult {
            backlog,
            finished: finished.counters.finished,
            rejected: finished.counters.rejected,
            startup_us: micros(first.first.0 - started),
            steady_commands: finished.counters.finished.saturating_sub(finished.first.1),
            steady_us: micros(finished.last - finished.first.0),
            worker_cpu_us: worker.cpu_time_us()?.saturating_sub(cpu_before),
            window_seconds: window.as_secs(),
        };
        Ok((post, (drain, backends.since())))
    }

    /// Ceiling C on its own topic, keyed by the same organisations, pinned where the payment
    /// server runs.
    pub fn ceiling_c(&self) -> Result<(RawResult, BackendCpu), BenchError> {
        let program = self.settings.binary("ceiling-c");
        let backends = self.setup.backends(Broker::Kafka).snapshot();
        let output = pinned(self.settings.load_cpus.as_deref(), &program)
            .args(["--brokers", self.setup.kafka.address])
            .args(["--topic", &format!("bench-ceiling-c-{}", self.tag)])
            .args(["--partitions", &self.setup.partitions.to_string()])
            .arg("--organisations")
            .arg(&self.files.organisations)
            .args(["--concurrency", &self.connections.to_string()])
            .args(["--seconds", &self.settings.seconds.to_string()])
            .output()
            .map_err(|e| BenchError::io(&program, e))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            return Err(BenchError::Failed(format!(
                "ceiling-c failed ({}): {stdout}{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            )));
        }
        Ok((parse_result("ceiling-c", &stdout)?, backends.since()))
    }

    /// Acceptance to outcome on an API-and-worker process on `broker` under a steady load of
    /// about half `sustainable` commands a second, for as long as all rounds of one side
    /// together or long enough for [`LATENCY_SAMPLES`] commands.
    pub async fn latency(
        &self,
        broker: Broker,
        sustainable: f64,
    ) -> Result<LatencyResult, BenchError> {
        let server = self.start_async(broker, "async-all-server", "all", "latency")?;
        self.warm_up(&server).await?;
        // The worker has joined its group and caught up before the load starts.
        let warmed = Counters::read(self.client, &server.url).await?.published;
        wait_until_finished(self.client, &server.url, warmed, None).await?;
        let pace = (sustainable / 2.0).max(1.0);
        let pause_ms = (f64::from(LATENCY_CONNECTIONS) * 1000.0 / pace).round() as u64;
        let locations = self.settings.work_dir.join(format!(
            "async-latency-{}.txt",
            broker.label().to_lowercase()
        ));
        let seconds = (self.settings.seconds * self.settings.rounds.max(1))
            .max((LATENCY_SAMPLES / pace).ceil() as u32);
        let load = self.post_with(
            &server,
            LATENCY_CONNECTIONS,
            seconds,
            Some(&locations),
            Some(pause_ms),
        )?;
        let published = Counters::read(self.client, &server.url).await?.published;
        wait_until_finished(self.client, &server.url, published, None).await?;
        let summary = latency::read_all(self.client, &server.url, &locations).await?;
        Ok(summary.result(LATENCY_CONNECTIONS, pause_ms, load.per_second()))
    }
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}
