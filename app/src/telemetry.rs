//! Logging setup: `tracing` to stdout, human-readable or one JSON object per line, plus the
//! access log ([`access`]), which writes to the same writer.

pub mod access;
pub mod sink;
pub(crate) mod timestamp;

use std::fmt;
use std::io::IsTerminal;

use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{self, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;
use crate::http::json_text::write_json_string;
use crate::http::middleware::context::{self, RequestContext};
use sink::{LogSink, SinkGuard};

/// Installs the global `tracing` subscriber and the access log; `RUST_LOG` overrides the default
/// `info` level for both. Keep the returned guard alive until exit: dropping it writes out the
/// lines still queued.
///
/// In JSON each event's fields sit at the top level of its object (beside `timestamp`, `level`,
/// `target`, `message`), and events logged while a request is served carry that request
/// (`request_id`, `method`, `route`, and the caller's `sub` when authenticated) under `span`; in the pretty format those three follow the
/// event's own fields. Access lines carry them as their own fields.
///
/// Lines are formatted by the thread that logs them and written by a background thread, in
/// batches ([`sink`]; docs/benchmarks/README.md has what this saves against a write per line
/// and against `tracing-appender`). Nothing is dropped: a logger that falls behind slows the
/// requests down instead.
pub fn init(format: LogFormat) -> std::io::Result<SinkGuard> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Colour codes only for a terminal: in files and log collectors they are noise.
    let ansi = std::io::stdout().is_terminal();
    let (sink, guard) = LogSink::start(std::io::stdout())?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(sink.clone());
    let result = match format {
        LogFormat::Pretty => builder
            .event_format(WithRequest {
                inner: format::format().with_ansi(ansi),
                format,
            })
            .try_init(),
        LogFormat::Json => builder
            .json()
            .event_format(WithRequest {
                // No spans: the request is added by `WithRequest`, and a second `span` key
                // would make the line invalid JSON.
                inner: format::format()
                    .json()
                    .flatten_event(true)
                    .with_current_span(false)
                    .with_span_list(false),
                format,
            })
            .try_init(),
    };
    match result {
        Ok(()) => access::install(sink, format, ansi),
        Err(error) => eprintln!("logging was already initialised: {error}"),
    }
    Ok(guard)
}

/// An event format that adds the request being served ([`context::current`]) to the lines of
/// `inner`. Events outside requests are written by `inner` unchanged.
struct WithRequest<F> {
    inner: F,
    format: LogFormat,
}

impl<S, N, F> FormatEvent<S, N> for WithRequest<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let Some(request) = context::current() else {
            return self.inner.format_event(ctx, writer, event);
        };
        let mut line = String::new();
        self.inner
            .format_event(ctx, Writer::new(&mut line), event)?;
        writer.write_str(&with_request(&line, &request, self.format))
    }
}

/// `line` (one line of `format`, newline included) with `request` added.
fn with_request(line: &str, request: &RequestContext, format: LogFormat) -> String {
    let body = line.strip_suffix('\n').unwrap_or(line);
    let mut out = Vec::with_capacity(line.len() + 160);
    match format {
        LogFormat::Json => {
            // `inner` wrote one object: reopen it.
            out.extend_from_slice(body.strip_suffix('}').unwrap_or(body).as_bytes());
            out.extend_from_slice(b",\"span\":{\"request_id\":");
            write_json_string(&mut out, request.request_id());
            out.extend_from_slice(b",\"method\":");
            write_json_string(&mut out, request.method.as_str());
            out.extend_from_slice(b",\"route\":");
            write_json_string(&mut out, request.route());
            if let Some(subject) = &request.subject {
                out.extend_from_slice(b",\"sub\":");
                write_json_string(&mut out, subject);
            }
            out.extend_from_slice(b",\"name\":\"request\"}}");
        }
        LogFormat::Pretty => {
            out.extend_from_slice(body.as_bytes());
            for (name, value) in [
                ("request_id", request.request_id()),
                ("method", request.method.as_str()),
                ("route", request.route()),
            ] {
                out.extend_from_slice(format!(" {name}={value}").as_bytes());
            }
            if let Some(subject) = &request.subject {
                out.extend_from_slice(format!(" sub={subject:?}").as_bytes());
            }
        }
    }
    out.push(b'\n');
    // Only valid UTF-8 went in.
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderValue, Method};
    use serde_json::Value;

    use super::*;

    fn request() -> RequestContext {
        RequestContext {
            request_id: HeaderValue::from_static("req-\"9\""),
            method: Method::DELETE,
            route: None,
            subject: None,
        }
    }

    #[test]
    fn a_json_event_gets_the_request_under_span_and_stays_one_object() {
        let line = "{\"timestamp\":\"t\",\"level\":\"WARN\",\"message\":\"storage unavailable\",\"cause\":\"x\"}\n";
        let out = with_request(line, &request(), LogFormat::Json);
        assert!(
            out.ends_with("}\n") && out.matches('\n').count() == 1,
            "{out}"
        );
        let value: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(value["cause"], "x");
        assert_eq!(value["span"]["request_id"], "req-\"9\"");
        assert_eq!(value["span"]["method"], "DELETE");
        assert_eq!(value["span"]["route"], crate::metrics::UNMATCHED_ROUTE);
    }

    #[test]
    fn a_pretty_event_gets_the_request_after_its_fields() {
        let line = "t  WARN app: storage unavailable cause=x\n";
        let out = with_request(line, &request(), LogFormat::Pretty);
        assert_eq!(
            out,
            "t  WARN app: storage unavailable cause=x request_id=req-\"9\" method=DELETE \
             route=unmatched\n"
        );
    }
}
