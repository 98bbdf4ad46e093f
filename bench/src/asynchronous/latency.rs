//! Acceptance to outcome, read from the command resources (`GET /v1/payment-commands/{id}`).

use std::path::Path;

use futures_util::{stream, StreamExt};

use bench::stats::percentile;

use crate::asynchronous::model::LatencyResult;
use crate::BenchError;

/// Command resources read at once.
const READ_CONCURRENCY: usize = 8;

/// What one command resource says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandTimes {
    /// `data.status == "applied"`.
    pub applied: bool,
    /// `finished_at - accepted_at`, in microseconds (0 while not finished).
    pub latency_us: u64,
}

/// Reads every command whose resource path (a `Location`) is a line of `locations` from the
/// server at `url`, and sums up how long each took from acceptance to outcome.
pub async fn read_all(
    client: &reqwest::Client,
    url: &str,
    locations: &Path,
) -> Result<Summary, BenchError> {
    let text = std::fs::read_to_string(locations).map_err(|e| BenchError::io(locations, e))?;
    let paths: Vec<&str> = text.lines().filter(|line| !line.is_empty()).collect();
    let times: Vec<Result<CommandTimes, BenchError>> = stream::iter(paths)
        .map(|path| read_one(client, url, path))
        .buffer_unordered(READ_CONCURRENCY)
        .collect()
        .await;
    let mut summary = Summary::default();
    for time in times {
        let time = time?;
        if time.applied {
            summary.latencies_us.push(time.latency_us);
        } else {
            summary.not_applied += 1;
        }
    }
    summary.latencies_us.sort_unstable();
    Ok(summary)
}

/// The latencies of the applied commands, sorted, and how many were not applied.
#[derive(Debug, Default)]
pub struct Summary {
    /// Applied commands' latencies, in microseconds, ascending.
    pub latencies_us: Vec<u64>,
    /// Commands rejected or not finished.
    pub not_applied: u64,
}

impl Summary {
    /// The figures of a latency measurement made with `connections` and `pause_ms` at
    /// `accepted_per_second`.
    pub fn result(
        &self,
        connections: u32,
        pause_ms: u64,
        accepted_per_second: f64,
    ) -> LatencyResult {
        LatencyResult {
            connections,
            pause_ms,
            accepted_per_second,
            commands: self.latencies_us.len() as u64 + self.not_applied,
            not_applied: self.not_applied,
            p50_us: percentile(&self.latencies_us, 0.50),
            p99_us: percentile(&self.latencies_us, 0.99),
            max_us: self.latencies_us.last().copied().unwrap_or(0),
        }
    }
}

async fn read_one(
    client: &reqwest::Client,
    url: &str,
    path: &str,
) -> Result<CommandTimes, BenchError> {
    let endpoint = format!("{url}{path}");
    let failed = |e: reqwest::Error| BenchError::Failed(format!("GET {endpoint}: {e}"));
    let body: serde_json::Value = client
        .get(&endpoint)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(failed)?
        .json()
        .await
        .map_err(failed)?;
    command_times(&body["data"])
        .ok_or_else(|| BenchError::Failed(format!("GET {endpoint}: unexpected body {body}")))
}

/// The status and latency in a command resource's `data`.
pub fn command_times(data: &serde_json::Value) -> Option<CommandTimes> {
    let accepted = rfc3339_us(data["accepted_at"].as_str()?)?;
    let applied = data["status"].as_str()? == "applied";
    let latency_us = match data["finished_at"].as_str() {
        Some(finished) => rfc3339_us(finished)?.saturating_sub(accepted),
        None => 0,
    };
    Some(CommandTimes {
        applied,
        latency_us,
    })
}

/// Microseconds since the Unix epoch of a UTC timestamp `YYYY-MM-DDTHH:MM:SS[.f…]Z`, the form
/// the server writes.
pub fn rfc3339_us(text: &str) -> Option<u64> {
    let text = text.strip_suffix('Z')?;
    let (date, time) = text.split_once('T')?;
    let mut date = date.splitn(3, '-').map(str::parse::<u64>);
    let (year, month, day) = (date.next()?.ok()?, date.next()?.ok()?, date.next()?.ok()?);
    let (clock, fraction) = time.split_once('.').unwrap_or((time, ""));
    let mut clock = clock.splitn(3, ':').map(str::parse::<u64>);
    let (hour, minute, second) = (
        clock.next()?.ok()?,
        clock.next()?.ok()?,
        clock.next()?.ok()?,
    );
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    // The fraction to six digits: "123" is 123,000 µs.
    let digits: String = fraction.chars().chain("000000".chars()).take(6).collect();
    let micros = if fraction.is_empty() {
        0
    } else {
        digits.parse::<u64>().ok()?
    };
    let days = days_from_civil(year, month, day)?;
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second;
    Some(seconds * 1_000_000 + micros)
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm); `None`
/// before 1970.
fn days_from_civil(year: u64, month: u64, day: u64) -> Option<u64> {
    let year = if month <= 2 {
        year.checked_sub(1)?
    } else {
        year
    };
    let era = year / 400;
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12; // March is 0
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    (era * 146_097 + day_of_era).checked_sub(719_468)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn timestamps_read_as_microseconds_since_the_epoch() {
        assert_eq!(rfc3339_us("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            rfc3339_us("2026-01-05T12:34:56.789000Z"),
            Some(1_767_616_496_789_000)
        );
        assert_eq!(
            rfc3339_us("2024-02-29T00:00:00.5Z"),
            Some(1_709_164_800_500_000)
        );
    }

    #[test]
    fn malformed_timestamps_are_refused() {
        for text in [
            "2026-01-05 12:34:56Z",
            "2026-13-05T12:34:56Z",
            "2026-01-05T12:34:56",
            "",
        ] {
            assert_eq!(rfc3339_us(text), None, "{text}");
        }
    }

    #[test]
    fn an_applied_command_has_the_time_from_acceptance_to_finish() {
        let data = json!({
            "status": "applied",
            "accepted_at": "2026-01-05T12:00:00.100000Z",
            "finished_at": "2026-01-05T12:00:01.350000Z",
        });
        assert_eq!(
            command_times(&data),
            Some(CommandTimes {
                applied: true,
                latency_us: 1_250_000,
            })
        );
    }

    #[test]
    fn an_accepted_command_is_not_applied() {
        let data = json!({"status": "accepted", "accepted_at": "2026-01-05T12:00:00.100000Z", "finished_at": null});
        assert_eq!(
            command_times(&data),
            Some(CommandTimes {
                applied: false,
                latency_us: 0,
            })
        );
    }
}
