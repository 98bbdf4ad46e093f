//! The two measured pairs: each server next to its ceiling, endpoint by endpoint.

use std::path::Path;
use std::sync::atomic::AtomicBool;

use crate::load::RawResult;
use crate::model::{Backend, Cell, Endpoint};
use crate::process::{free_address, Server};
use crate::seed::get_body;
use crate::targets::{Bodies, DriverTarget, HttpTarget, Target};
use crate::{BenchError, Settings};

/// The in-memory server and ceiling A, both pinned to the server CPUs and alive together, measured
/// alternately so that both see the same machine.
pub async fn memory_pair(
    settings: &Settings,
    client: &reqwest::Client,
    bodies: &Bodies,
    cells: &mut Vec<Cell>,
) -> Result<(), BenchError> {
    let work = &settings.work_dir;
    let server = start_payment_server(
        settings,
        "memory-server",
        &[],
        &[],
        settings.server_cpus.as_deref(),
    )?;
    let server = HttpTarget::prepare(server, client, &bodies.post_bytes, work).await?;

    // Ceiling A serves the server's own bytes: a real GET body per id and a real 100-item page.
    let first_id = first_line(&server.get_ids)?;
    let get_bytes = get_body(
        client,
        &server.server.url,
        &format!("/v1/payments/{first_id}"),
    )
    .await?;
    let page = get_body(
        client,
        &server.server.url,
        "/v1/payments?page%5Bsize%5D=100",
    )
    .await?;
    let page_file = work.join("list-page.json");
    std::fs::write(&page_file, page).map_err(|e| BenchError::io(&page_file, e))?;
    let address = free_address()?;
    let ceiling = Server::start(
        "ceiling-a",
        &settings.binary("ceiling-a"),
        &[
            "--listen".into(),
            address.to_string(),
            "--list-page".into(),
            page_file.display().to_string(),
        ],
        &[],
        settings.server_cpus.as_deref(),
        address,
        &work.join("ceiling-a.log"),
    )?;
    let ceiling = HttpTarget::prepare(ceiling, client, &get_bytes, work).await?;
    let pair = [Target::Http(server), Target::Http(ceiling)];
    measure_pair(Backend::Memory, &pair, settings, client, bodies, cells).await
}

/// The Mongo-backed server and ceiling B against the same database server. The database server
/// is pinned to the server CPUs by whoever started it; the payment server shares the load
/// generator's CPUs, where `ceiling-b` (which is its own client) runs too.
pub async fn mongo_pair(
    settings: &Settings,
    client: &reqwest::Client,
    bodies: &Bodies,
    uri: &str,
    cells: &mut Vec<Cell>,
) -> Result<(), BenchError> {
    let work = &settings.work_dir;
    let server = start_payment_server(
        settings,
        "mongo-server",
        &["--storage", "mongo", "--mongo-database", "payment_bench"],
        &[("MONGODB_URI", uri.to_owned())],
        settings.load_cpus.as_deref(),
    )?;
    let server = HttpTarget::prepare(server, client, &bodies.post_bytes, work).await?;
    let ceiling = DriverTarget {
        program: settings.binary("ceiling-b"),
        uri: uri.to_owned(),
        database: "payment_bench_ceiling".into(),
        first: AtomicBool::new(true),
    };
    let pair = [Target::Http(server), Target::Driver(ceiling)];
    measure_pair(Backend::Mongo, &pair, settings, client, bodies, cells).await
}

/// Starts the release `payment-server` named `name` on a free loopback port with `args` beyond
/// `--listen`, the run's server environment plus `envs`, pinned to `cpus`, logging into the work
/// directory.
pub fn start_payment_server(
    settings: &Settings,
    name: &str,
    args: &[&str],
    envs: &[(&'static str, String)],
    cpus: Option<&str>,
) -> Result<Server, BenchError> {
    let address = free_address()?;
    let mut all_args = vec!["--listen".to_owned(), address.to_string()];
    all_args.extend(args.iter().map(|arg| (*arg).to_owned()));
    Server::start(
        name,
        &settings.binary("payment-server"),
        &all_args,
        &[settings.server_env(), envs.to_vec()].concat(),
        cpus,
        address,
        &settings.work_dir.join(format!("{name}.log")),
    )
}

/// Every endpoint at every concurrency for `[server, ceiling]`, `settings.rounds` times with the
/// order flipped each round (server first, then ceiling first, ...), so drift in the machine's
/// load hits both alike; each side's result is its median round by throughput. Cells are added
/// to `cells` as they complete, so a failure keeps what was measured before it.
async fn measure_pair(
    backend: Backend,
    pair: &[Target; 2],
    settings: &Settings,
    client: &reqwest::Client,
    bodies: &Bodies,
    cells: &mut Vec<Cell>,
) -> Result<(), BenchError> {
    for endpoint in Endpoint::ALL {
        for &connections in &settings.connections {
            let mut rounds: [Vec<RawResult>; 2] = [Vec::new(), Vec::new()];
            for round in 0..settings.rounds.max(1) {
                let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
                for side in order {
                    let documents = pair[0].created();
                    let result = pair[side]
                        .measure(client, bodies, endpoint, connections, documents, settings)
                        .await?;
                    rounds[side].push(result);
                }
            }
            let [server, ceiling] = rounds.map(median_by_throughput);
            cells.push(report_cell(backend, endpoint, connections, server, ceiling));
        }
    }
    Ok(())
}

/// The round with the median throughput (for an even count, the lower middle one).
pub fn median_by_throughput(mut rounds: Vec<RawResult>) -> RawResult {
    rounds.sort_by(|a, b| a.per_second().total_cmp(&b.per_second()));
    rounds[(rounds.len() - 1) / 2]
}

fn report_cell(
    backend: Backend,
    endpoint: Endpoint,
    connections: u32,
    server: RawResult,
    ceiling: RawResult,
) -> Cell {
    let cell = Cell {
        backend,
        endpoint,
        connections,
        server,
        ceiling,
    };
    eprintln!(
        "{:<20} {:<32} c={:<3} {:>9.0} req/s p50 {:>6}us p99 {:>6}us | ceiling {:>9.0} req/s p50 {:>6}us p99 {:>6}us | {:>5.1}% cpu/req {:.1}/{:.1}us errors {}/{}",
        backend.server_label(),
        endpoint.label(),
        connections,
        server.per_second(),
        server.p50_us,
        server.p99_us,
        ceiling.per_second(),
        ceiling.p50_us,
        ceiling.p99_us,
        cell.throughput_ratio() * 100.0,
        server.cpu_per_request_us(),
        ceiling.cpu_per_request_us(),
        server.errors(),
        ceiling.errors(),
    );
    cell
}

fn first_line(path: &Path) -> Result<String, BenchError> {
    let text = std::fs::read_to_string(path).map_err(|e| BenchError::io(path, e))?;
    text.lines()
        .next()
        .map(str::to_owned)
        .ok_or_else(|| BenchError::Failed(format!("{} is empty", path.display())))
}
