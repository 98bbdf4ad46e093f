//! The things measured: an HTTP server driven by wrk, or `ceiling-b` driving the database itself.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::load::{parse_result, RawResult, WrkRun};
use crate::model::Endpoint;
use crate::process::{pinned, Server};
use crate::seed::create_many;
use crate::{BenchError, Settings};

/// Payments each GET pool and each PUT pool holds: far more than the most connections, so a
/// PUT for one id is answered before the same id comes round again at its next version.
pub const POOL_SIZE: usize = 1000;

/// Connections used to create a pool.
const SEED_CONCURRENCY: usize = 8;

/// Request bodies every HTTP target is sent, written once to files wrk's scripts read.
pub struct Bodies {
    /// The POST document (no `data.id`: each POST creates a new payment).
    pub post: PathBuf,
    /// The PUT document with `__ID__` and `__VERSION__` placeholders.
    pub put_template: PathBuf,
    /// The POST document's bytes, for creating pools.
    pub post_bytes: Vec<u8>,
}

/// A server under HTTP load, with the ids of its GET pool.
pub struct HttpTarget {
    /// The running server.
    pub server: Server,
    /// A file of ids that exist, one per line.
    pub get_ids: PathBuf,
    /// The bearer token its GETs send (a server with `--auth jwt`; GET is all such a pair
    /// measures).
    pub bearer: Option<String>,
    work_dir: PathBuf,
    /// Payments created in it so far.
    created: AtomicUsize,
}

impl HttpTarget {
    /// Wraps a started server and creates its GET pool by POSTing `seed_body`.
    pub async fn prepare(
        server: Server,
        client: &reqwest::Client,
        seed_body: &[u8],
        work_dir: &Path,
    ) -> Result<Self, BenchError> {
        let ids = create_many(client, &server.url, seed_body, POOL_SIZE, SEED_CONCURRENCY).await?;
        let get_ids = write_ids(work_dir, &format!("{}-get-ids.txt", server.name), &ids)?;
        Ok(Self {
            server,
            get_ids,
            bearer: None,
            work_dir: work_dir.to_owned(),
            created: AtomicUsize::new(ids.len()),
        })
    }

    /// Measures `endpoint` at `connections`; a PUT first gets a fresh pool at version 0.
    pub async fn measure(
        &self,
        client: &reqwest::Client,
        bodies: &Bodies,
        endpoint: Endpoint,
        connections: u32,
        settings: &Settings,
    ) -> Result<RawResult, BenchError> {
        let (script, script_args) = match endpoint {
            Endpoint::Get => {
                let mut args = vec![path_arg(&self.get_ids)];
                args.extend(self.bearer.clone());
                ("get.lua", args)
            }
            Endpoint::Post => ("post.lua", vec![path_arg(&bodies.post)]),
            Endpoint::List => ("list.lua", vec![]),
            Endpoint::Put => {
                let ids = create_many(
                    client,
                    &self.server.url,
                    &bodies.post_bytes,
                    POOL_SIZE,
                    SEED_CONCURRENCY,
                )
                .await?;
                self.created.fetch_add(ids.len(), Ordering::Relaxed);
                let name = format!("{}-put-ids-{connections}.txt", self.server.name);
                let file = write_ids(&self.work_dir, &name, &ids)?;
                (
                    "put.lua",
                    vec![path_arg(&file), path_arg(&bodies.put_template)],
                )
            }
        };
        let cpu_before = self.server.cpu_time_us()?;
        let mut result = WrkRun {
            script,
            script_args,
            url: &self.server.url,
            connections,
            seconds: settings.seconds,
            cpus: settings.load_cpus.as_deref(),
        }
        .run(&settings.lua_dir)?;
        result.server_cpu_us = self.server.cpu_time_us()?.saturating_sub(cpu_before);
        if endpoint == Endpoint::Post {
            let created = result.requests.saturating_sub(result.status_errors);
            self.created
                .fetch_add(usize::try_from(created).unwrap_or(0), Ordering::Relaxed);
        }
        Ok(result)
    }
}

/// `ceiling-b`: the raw MongoDB driver doing each endpoint's storage work.
pub struct DriverTarget {
    /// The `ceiling-b` binary.
    pub program: PathBuf,
    /// The MongoDB connection string.
    pub uri: String,
    /// The database it works in (its own: dropped at the first measurement, then kept, so it
    /// grows as the payment server's does).
    pub database: String,
    /// Whether the next measurement is the first.
    pub first: AtomicBool,
}

impl DriverTarget {
    /// Measures the driver operation equivalent to `endpoint` with `connections` tasks, pinned
    /// where the payment server and its load generator run together, on a collection holding
    /// at least `documents` payments.
    pub fn measure(
        &self,
        endpoint: Endpoint,
        connections: u32,
        documents: usize,
        settings: &Settings,
    ) -> Result<RawResult, BenchError> {
        let mut command = pinned(settings.load_cpus.as_deref(), &self.program);
        if self.first.swap(false, Ordering::Relaxed) {
            command.arg("--fresh");
        }
        let output = command
            .args(["--uri", &self.uri, "--database", &self.database])
            .args(["--op", endpoint.driver_op()])
            .args(["--concurrency", &connections.to_string()])
            .args(["--seconds", &settings.seconds.to_string()])
            .args(["--pool", &POOL_SIZE.to_string()])
            .args(["--documents", &documents.to_string()])
            .output()
            .map_err(|e| BenchError::io(&self.program, e))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            return Err(BenchError::Failed(format!(
                "ceiling-b failed ({}): {stdout}{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            )));
        }
        parse_result("ceiling-b", &stdout)
    }
}

/// Anything measured: an HTTP server under wrk, or the driver measuring itself.
pub enum Target {
    /// A server under wrk.
    Http(HttpTarget),
    /// `ceiling-b`.
    Driver(DriverTarget),
}

impl Target {
    /// Measures `endpoint` at `connections`; a driver target first fills its collection to
    /// `documents` payments.
    pub async fn measure(
        &self,
        client: &reqwest::Client,
        bodies: &Bodies,
        endpoint: Endpoint,
        connections: u32,
        documents: usize,
        settings: &Settings,
    ) -> Result<RawResult, BenchError> {
        match self {
            Target::Http(target) => {
                target
                    .measure(client, bodies, endpoint, connections, settings)
                    .await
            }
            Target::Driver(target) => target.measure(endpoint, connections, documents, settings),
        }
    }

    /// Payments created in it so far (0 for the driver, which counts its own).
    pub fn created(&self) -> usize {
        match self {
            Target::Http(target) => target.created.load(Ordering::Relaxed),
            Target::Driver(_) => 0,
        }
    }
}

fn write_ids(dir: &Path, name: &str, ids: &[String]) -> Result<PathBuf, BenchError> {
    let path = dir.join(name);
    std::fs::write(&path, ids.join("\n") + "\n").map_err(|e| BenchError::io(&path, e))?;
    Ok(path)
}

fn path_arg(path: &Path) -> String {
    path.display().to_string()
}
