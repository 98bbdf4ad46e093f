//! Logging setup: `tracing` to stdout, human-readable or one JSON object per line.

use std::io::{BufWriter, IsTerminal};

use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global `tracing` subscriber; `RUST_LOG` overrides the default `info` level.
/// Keep the returned guard alive until exit: dropping it writes out the lines still queued.
///
/// In JSON each event's fields sit at the top level of its object (beside `timestamp`, `level`,
/// `target`, `message`), and events logged inside a request carry its span (`request_id`,
/// `method`, `route`) under `span`.
///
/// Lines are formatted by the thread that logs them and written by a background thread, in
/// batches: one write per line on the request path cost about a quarter of a GET's CPU time
/// (docs/benchmarks/README.md). Nothing is dropped: a logger that falls behind slows the
/// requests down instead.
pub fn init(format: LogFormat) -> WorkerGuard {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Colour codes only for a terminal: in files and log collectors they are noise.
    let ansi = std::io::stdout().is_terminal();
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("log-writer")
        .finish(BufWriter::new(std::io::stdout()));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(writer);
    let result = match format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
    if let Err(error) = result {
        eprintln!("logging was already initialised: {error}");
    }
    guard
}
