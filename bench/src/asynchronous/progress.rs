//! Reading a server's command counters from `/metrics`, and waiting for its worker to finish.

use std::time::{Duration, Instant};

use crate::BenchError;

/// How often `/metrics` is read while waiting.
const POLL: Duration = Duration::from_millis(50);
/// A worker that finishes nothing for this long has stalled: the measurement fails.
const STALL: Duration = Duration::from_secs(60);

/// The command counters of one `/metrics` reading.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// `payment_commands_published_total`, every action.
    pub published: u64,
    /// `payment_commands_finished_total`, every action and status.
    pub finished: u64,
    /// `payment_commands_finished_total{status="rejected"}`.
    pub rejected: u64,
}

impl Counters {
    /// The counters in a Prometheus text exposition.
    pub fn parse(text: &str) -> Self {
        let mut counters = Counters::default();
        for line in text.lines() {
            let Some((series, value)) = line.rsplit_once(' ') else {
                continue;
            };
            let Ok(value) = value.parse::<f64>() else {
                continue;
            };
            // Counters are whole numbers, exact in an f64 far beyond any count here.
            let value = value as u64;
            if series.starts_with("payment_commands_published_total") {
                counters.published += value;
            } else if series.starts_with("payment_commands_finished_total") {
                counters.finished += value;
                if series.contains("status=\"rejected\"") {
                    counters.rejected += value;
                }
            }
        }
        counters
    }

    /// Reads `url/metrics`.
    pub async fn read(client: &reqwest::Client, url: &str) -> Result<Self, BenchError> {
        let endpoint = format!("{url}/metrics");
        let failed = |e: reqwest::Error| BenchError::Failed(format!("GET {endpoint}: {e}"));
        let text = client
            .get(&endpoint)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(failed)?
            .text()
            .await
            .map_err(failed)?;
        Ok(Self::parse(&text))
    }
}

/// `payment_commands_published_total` of `url` once it stopped moving: two readings [`POLL`]
/// apart that agree. A load generator that stops leaves requests in flight on the server, and
/// their commands are in the backlog too.
pub async fn published_at_rest(client: &reqwest::Client, url: &str) -> Result<u64, BenchError> {
    let mut last = Counters::read(client, url).await?.published;
    loop {
        tokio::time::sleep(POLL).await;
        let now = Counters::read(client, url).await?.published;
        if now == last {
            return Ok(now);
        }
        last = now;
    }
}

/// When a worker finished its first command and when the wait ended, as seen by polling.
#[derive(Debug, Clone, Copy)]
pub struct Finished {
    /// The first reading that showed a finished command, and the count it showed.
    pub first: (Instant, u64),
    /// The last reading.
    pub last: Instant,
    /// That reading's counters.
    pub counters: Counters,
}

/// Polls `url/metrics` until `payment_commands_finished_total` reaches `target`, or, with a
/// `window`, until that long has passed since the first reading that showed a finished command.
pub async fn wait_until_finished(
    client: &reqwest::Client,
    url: &str,
    target: u64,
    window: Option<Duration>,
) -> Result<Finished, BenchError> {
    let mut first: Option<(Instant, u64)> = None;
    let mut last_count = 0;
    let mut last_progress = Instant::now();
    loop {
        let counters = Counters::read(client, url).await?;
        let now = Instant::now();
        if counters.finished > 0 && first.is_none() {
            first = Some((now, counters.finished));
        }
        let window_over = match (first, window) {
            (Some((since, _)), Some(window)) => now.duration_since(since) >= window,
            _ => false,
        };
        if counters.finished >= target || window_over {
            return Ok(Finished {
                first: first.unwrap_or((now, counters.finished)),
                last: now,
                counters,
            });
        }
        if counters.finished != last_count {
            last_count = counters.finished;
            last_progress = now;
        } else if now.duration_since(last_progress) > STALL {
            return Err(BenchError::Failed(format!(
                "the worker at {url} finished {} of {target} commands and nothing more for {STALL:?}",
                counters.finished
            )));
        }
        tokio::time::sleep(POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_add_up_every_action_and_status() {
        let text = "\
# HELP payment_commands_published_total Commands the broker acknowledged.
# TYPE payment_commands_published_total counter
payment_commands_published_total{action=\"create\"} 120
payment_commands_published_total{action=\"update\"} 3
payment_commands_finished_total{action=\"create\",status=\"applied\"} 100
payment_commands_finished_total{action=\"create\",status=\"rejected\"} 2
payment_command_latency_seconds_count{action=\"create\"} 102
";
        assert_eq!(
            Counters::parse(text),
            Counters {
                published: 123,
                finished: 102,
                rejected: 2,
            }
        );
    }

    #[test]
    fn a_server_without_commands_counts_none() {
        assert_eq!(
            Counters::parse("http_requests_total 5\n"),
            Counters::default()
        );
    }
}
