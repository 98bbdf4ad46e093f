//! Logging setup: `tracing` to stdout, human-readable or one JSON object per line.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global `tracing` subscriber; `RUST_LOG` overrides the default `info` level.
///
/// In JSON each event's fields sit at the top level of its object (beside `timestamp`, `level`,
/// `target`, `message`), and events logged inside a request carry its span (`request_id`,
/// `method`, `route`) under `span`.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
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
}
