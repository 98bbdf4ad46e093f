//! HTTP calls whose every answer is recorded: when it was sent, how long it took, whether it
//! failed (a 5xx or no answer at all).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use reqwest::{Method, RequestBuilder};
use serde_json::Value;

/// One request as the client saw it.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// Seconds from the start of the run to when it was sent.
    pub sent: f64,
    /// Seconds until the answer (or the failure).
    pub latency: f64,
    /// A 5xx, or no answer.
    pub failed: bool,
    /// Sent with `Prefer: wait`: its latency is the command's, not the request's.
    pub waited: bool,
}

/// What came back: the status (0 when nothing did), the body, the `Location` header.
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status; 0 for a transport failure.
    pub status: u16,
    /// The JSON body (`Null` when empty or not JSON).
    pub body: Value,
    /// The `Location` header.
    pub location: Option<String>,
}

impl Answer {
    /// No answer at all.
    fn none() -> Answer {
        Answer {
            status: 0,
            body: Value::Null,
            location: None,
        }
    }

    /// A 5xx or no answer: the outcome of a write is unknown.
    pub fn failed(&self) -> bool {
        self.status == 0 || self.status >= 500
    }
}

/// A client of one base URL (nginx, or one instance) that records every request.
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    start: Instant,
    samples: Arc<Mutex<Vec<Sample>>>,
}

impl Http {
    /// A client of `base`, timing from `start`.
    pub fn new(base: &str, start: Instant) -> Http {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(25))
            .pool_max_idle_per_host(256)
            .build()
            .unwrap_or_default();
        Http {
            client,
            base: base.to_owned(),
            start,
            samples: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// The same client for another base URL, with samples of its own.
    pub fn at(&self, base: &str) -> Http {
        Http {
            client: self.client.clone(),
            base: base.to_owned(),
            start: self.start,
            samples: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Seconds since the start of the run.
    pub fn now(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// A request to `path` (a path-absolute link or route).
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base))
    }

    /// Sends `request`, records the sample, returns the answer.
    pub async fn send(&self, request: RequestBuilder) -> Answer {
        let sent = self.now();
        let (answer, waited) = match request.build() {
            Ok(request) => {
                let waited = request.headers().contains_key("prefer");
                (self.execute(request).await, waited)
            }
            Err(_) => (Answer::none(), false),
        };
        let sample = Sample {
            sent,
            latency: self.now() - sent,
            failed: answer.failed(),
            waited,
        };
        self.samples
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(sample);
        answer
    }

    async fn execute(&self, request: reqwest::Request) -> Answer {
        match self.client.execute(request).await {
            Ok(response) => {
                let status = response.status().as_u16();
                let location = response
                    .headers()
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                match response.bytes().await {
                    Ok(bytes) => Answer {
                        status,
                        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
                        location,
                    },
                    Err(_) => Answer::none(),
                }
            }
            Err(_) => Answer::none(),
        }
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Answer {
        self.send(self.request(Method::GET, path)).await
    }

    /// Every sample so far.
    pub fn samples(&self) -> Vec<Sample> {
        self.samples
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Forgets the samples so far.
    pub fn clear(&self) {
        self.samples
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

/// The `q` quantile (0..=1) of `values`, 0 for none.
pub fn quantile(values: &mut [f64], q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let rank = ((values.len() as f64 * q).ceil() as usize).clamp(1, values.len());
    values[rank - 1]
}

/// An RFC 3339 UTC timestamp (`2026-12-07T14:23:58.123456Z`) as seconds since the Unix epoch.
pub fn parse_timestamp(text: &str) -> Option<f64> {
    let text = text.strip_suffix('Z')?;
    let (date, time) = text.split_once('T')?;
    let mut date = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, d) = (date.next()??, date.next()??, date.next()??);
    let mut time = time.splitn(3, ':');
    let hours: f64 = time.next()?.parse().ok()?;
    let minutes: f64 = time.next()?.parse().ok()?;
    let seconds: f64 = time.next()?.parse().ok()?;
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days as f64 * 86_400.0 + hours * 3_600.0 + minutes * 60.0 + seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_parse_to_unix_seconds() {
        assert_eq!(parse_timestamp("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(
            parse_timestamp("2026-12-07T14:23:58.5Z"),
            Some(1_796_653_438.5)
        );
        assert_eq!(parse_timestamp("2026-12-07 14:23:58"), None);
    }

    #[test]
    fn quantiles_take_the_rank_at_or_above() {
        let mut values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&mut values, 0.99), 99.0);
        assert_eq!(quantile(&mut values, 0.5), 50.0);
        assert_eq!(quantile(&mut [], 0.99), 0.0);
    }
}
