//! The access log: one line per answered request, written straight to the log writer.
//!
//! Through a `tracing` event the line cost a large share of a `GET` (dispatch, a visitor call per
//! field, `fmt` machinery; docs/benchmarks/README.md has the figures). Here it is a few copies
//! into a reused buffer. The line has the shape `tracing-subscriber` gives events in the same
//! format, target [`TARGET`], and obeys `RUST_LOG` like every other line:
//! `RUST_LOG=info,app::http::access=off` silences it.

use std::cell::RefCell;
use std::sync::OnceLock;
use std::time::Duration;

use super::sink::LogSink;
use super::timestamp;
use crate::config::LogFormat;
use crate::http::json_text::write_json_string;

/// The target of access lines, for `RUST_LOG` directives.
pub const TARGET: &str = "app::http::access";

/// The message of access lines.
pub const MESSAGE: &str = "request finished";

/// One answered request.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    /// The HTTP method.
    pub method: &'a str,
    /// The matched route template.
    pub route: &'a str,
    /// The path as requested.
    pub path: &'a str,
    /// The response status.
    pub status: u16,
    /// Time from receiving the request head to the response head being ready.
    pub latency: Duration,
    /// The request id.
    pub request_id: &'a str,
    /// The authenticated caller's `sub`, when there is one.
    pub subject: Option<&'a str>,
}

/// Where access lines go, set by [`crate::telemetry::init`]; without it (libraries, tests that
/// install no logging) nothing is written, as with `tracing` and no subscriber.
struct Sink {
    sink: LogSink,
    format: LogFormat,
    ansi: bool,
}

static SINK: OnceLock<Sink> = OnceLock::new();

thread_local! {
    /// This thread's line buffer, reused for every line.
    static LINE: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Sends access lines to `sink` from now on (the first call wins).
pub(super) fn install(sink: LogSink, format: LogFormat, ansi: bool) {
    let _ = SINK.set(Sink { sink, format, ansi });
}

/// Whether [`log`] writes anything: logging is installed and `RUST_LOG` lets [`TARGET`] through
/// at `info`. Lets the caller skip gathering an entry nobody reads.
pub fn enabled() -> bool {
    SINK.get().is_some() && tracing::enabled!(target: TARGET, tracing::Level::INFO)
}

/// Writes the line for `entry`; call it when [`enabled`] said so. Blocks rather than drops when
/// the writer falls behind, like every other line (`telemetry::init`).
pub fn log(entry: &Entry<'_>) {
    let Some(sink) = SINK.get() else {
        return;
    };
    LINE.with_borrow_mut(|line| {
        line.clear();
        write_line(line, entry, sink.format, sink.ansi);
        sink.sink.append(line);
    });
}

/// Appends the line for `entry` (newline included) in `format`, with colours when `ansi`.
pub fn write_line(out: &mut Vec<u8>, entry: &Entry<'_>, format: LogFormat, ansi: bool) {
    match format {
        LogFormat::Json => write_json(out, entry),
        LogFormat::Pretty => write_pretty(out, entry, ansi),
    }
}

fn write_json(out: &mut Vec<u8>, entry: &Entry<'_>) {
    out.extend_from_slice(b"{\"timestamp\":\"");
    timestamp::write_now(out);
    out.extend_from_slice(b"\",\"level\":\"INFO\",\"message\":\"");
    out.extend_from_slice(MESSAGE.as_bytes());
    out.extend_from_slice(b"\",\"method\":");
    write_json_string(out, entry.method);
    out.extend_from_slice(b",\"route\":");
    write_json_string(out, entry.route);
    out.extend_from_slice(b",\"path\":");
    write_json_string(out, entry.path);
    out.extend_from_slice(b",\"status\":");
    out.extend_from_slice(itoa::Buffer::new().format(entry.status).as_bytes());
    out.extend_from_slice(b",\"latency_ms\":");
    milliseconds(out, entry.latency);
    out.extend_from_slice(b",\"request_id\":");
    write_json_string(out, entry.request_id);
    if let Some(subject) = entry.subject {
        out.extend_from_slice(b",\"sub\":");
        write_json_string(out, subject);
    }
    out.extend_from_slice(b",\"target\":\"");
    out.extend_from_slice(TARGET.as_bytes());
    out.extend_from_slice(b"\"}\n");
}

/// The fixed text around the values of a pretty line: the shape `tracing-subscriber`'s full
/// format gives an event, with its colours when writing to a terminal.
struct Pretty {
    before_time: &'static str,
    /// From after the timestamp to the method's value.
    head: &'static str,
    route: &'static str,
    path: &'static str,
    status: &'static str,
    latency: &'static str,
    request_id: &'static str,
    subject: &'static str,
}

/// A field name as the full format writes it: ` name=`, or italic with a dimmed `=`.
macro_rules! pretty_field {
    (plain, $name:literal) => {
        concat!(" ", $name, "=")
    };
    (ansi, $name:literal) => {
        concat!(" \x1b[3m", $name, "\x1b[0m\x1b[2m=\x1b[0m")
    };
}

macro_rules! pretty {
    ($style:tt, $before_time:literal, $level_and_target:literal) => {
        Pretty {
            before_time: $before_time,
            head: concat!(
                $level_and_target,
                " request finished",
                pretty_field!($style, "method")
            ),
            route: pretty_field!($style, "route"),
            path: pretty_field!($style, "path"),
            status: pretty_field!($style, "status"),
            latency: pretty_field!($style, "latency_ms"),
            request_id: pretty_field!($style, "request_id"),
            subject: pretty_field!($style, "sub"),
        }
    };
}

const PLAIN: Pretty = pretty!(plain, "", "  INFO app::http::access:");
const COLOURED: Pretty = pretty!(
    ansi,
    "\x1b[2m",
    "\x1b[0m \x1b[32m INFO\x1b[0m \x1b[2mapp::http::access:\x1b[0m"
);

fn write_pretty(out: &mut Vec<u8>, entry: &Entry<'_>, ansi: bool) {
    let style = if ansi { &COLOURED } else { &PLAIN };
    out.extend_from_slice(style.before_time.as_bytes());
    timestamp::write_now(out);
    out.extend_from_slice(style.head.as_bytes());
    out.extend_from_slice(entry.method.as_bytes());
    out.extend_from_slice(style.route.as_bytes());
    out.extend_from_slice(entry.route.as_bytes());
    out.extend_from_slice(style.path.as_bytes());
    out.extend_from_slice(entry.path.as_bytes());
    out.extend_from_slice(style.status.as_bytes());
    out.extend_from_slice(itoa::Buffer::new().format(entry.status).as_bytes());
    out.extend_from_slice(style.latency.as_bytes());
    milliseconds(out, entry.latency);
    out.extend_from_slice(style.request_id.as_bytes());
    out.extend_from_slice(entry.request_id.as_bytes());
    if let Some(subject) = entry.subject {
        out.extend_from_slice(style.subject.as_bytes());
        // Debug-quoted, as the full format writes a string field: a `sub` with spaces or
        // control characters cannot forge another field or line.
        out.extend_from_slice(format!("{subject:?}").as_bytes());
    }
    out.push(b'\n');
}

/// `latency` in milliseconds with microsecond precision: `0.042`, `1503.250`.
fn milliseconds(out: &mut Vec<u8>, latency: Duration) {
    let micros = latency.as_micros();
    out.extend_from_slice(itoa::Buffer::new().format(micros / 1000).as_bytes());
    let fraction = (micros % 1000) as u16;
    out.extend_from_slice(&[
        b'.',
        b'0' + (fraction / 100) as u8,
        b'0' + (fraction / 10 % 10) as u8,
        b'0' + (fraction % 10) as u8,
    ]);
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn entry(path: &'static str, request_id: &'static str) -> Entry<'static> {
        Entry {
            method: "PUT",
            route: "/v1/payments/{id}",
            path,
            status: 409,
            latency: Duration::from_micros(1_503_250),
            request_id,
            subject: None,
        }
    }

    fn line(entry: &Entry<'_>, format: LogFormat, ansi: bool) -> String {
        let mut out = Vec::new();
        write_line(&mut out, entry, format, ansi);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_json_line_is_one_object_with_every_field_typed() {
        let text = line(&entry("/v1/payments/x", "req-7"), LogFormat::Json, false);
        assert!(
            text.ends_with("}\n") && text.matches('\n').count() == 1,
            "{text}"
        );
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["message"], MESSAGE);
        assert_eq!(value["level"], "INFO");
        assert_eq!(value["target"], TARGET);
        assert_eq!(value["method"], "PUT");
        assert_eq!(value["route"], "/v1/payments/{id}");
        assert_eq!(value["path"], "/v1/payments/x");
        assert_eq!(value["status"], 409);
        assert_eq!(value["latency_ms"].as_f64(), Some(1503.25));
        assert_eq!(value["request_id"], "req-7");
        let timestamp = value["timestamp"].as_str().unwrap();
        assert_eq!(
            timestamp.len(),
            "2026-11-26T09:48:59.123456Z".len(),
            "{timestamp}"
        );
        assert!(timestamp.ends_with('Z'));
    }

    #[test]
    fn the_caller_s_sub_is_a_field_of_its_own_in_both_formats() {
        let signed = Entry {
            subject: Some("client \"7\"\nnext"),
            ..entry("/v1/payments/x", "req-7")
        };
        let json: Value = serde_json::from_str(&line(&signed, LogFormat::Json, false)).unwrap();
        assert_eq!(json["sub"], "client \"7\"\nnext");
        let pretty = line(&signed, LogFormat::Pretty, false);
        assert!(
            pretty.ends_with(" request_id=req-7 sub=\"client \\\"7\\\"\\nnext\"\n"),
            "{pretty:?}"
        );
        let anonymous = line(&entry("/p", "r"), LogFormat::Json, false);
        assert!(!anonymous.contains("\"sub\""), "{anonymous}");
    }

    #[test]
    fn json_strings_are_escaped() {
        let text = line(&entry("/a\"b\\c", "q\"u\\o\u{1}te"), LogFormat::Json, false);
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["path"], "/a\"b\\c");
        assert_eq!(value["request_id"], "q\"u\\o\u{1}te");
    }

    #[test]
    fn a_pretty_line_reads_like_other_lines() {
        let text = line(&entry("/v1/payments/x", "req-7"), LogFormat::Pretty, false);
        let (timestamp, rest) = text.split_once(' ').unwrap();
        assert!(timestamp.ends_with('Z'), "{text}");
        assert_eq!(
            rest,
            " INFO app::http::access: request finished method=PUT route=/v1/payments/{id} \
             path=/v1/payments/x status=409 latency_ms=1503.250 request_id=req-7\n"
        );
    }

    #[test]
    fn the_fixed_text_names_the_target_and_message() {
        for style in [&PLAIN, &COLOURED] {
            assert!(style.head.contains(TARGET) && style.head.contains(MESSAGE));
        }
    }

    #[test]
    fn colours_are_written_only_for_a_terminal() {
        let coloured = line(&entry("/p", "r"), LogFormat::Pretty, true);
        assert!(coloured.contains("\x1b[32m INFO\x1b[0m"), "{coloured:?}");
        let plain = line(&entry("/p", "r"), LogFormat::Pretty, false);
        assert!(!plain.contains('\x1b'), "{plain:?}");
    }

    #[test]
    fn latency_keeps_microseconds() {
        for (micros, text) in [
            (0, "0.000"),
            (42, "0.042"),
            (1_000, "1.000"),
            (12_345_678, "12345.678"),
        ] {
            let mut out = Vec::new();
            milliseconds(&mut out, Duration::from_micros(micros));
            assert_eq!(String::from_utf8(out).unwrap(), text);
        }
    }
}
