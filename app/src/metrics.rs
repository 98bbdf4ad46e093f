//! Prometheus metrics: one registry per application instance, rendered by `GET /metrics`.
//!
//! A registry per instance (rather than a process-global recorder) keeps tests that boot many
//! servers in one process independent, and needs no install-once guard.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use prometheus::{
    HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

/// The `route` label of requests no route matched; a fixed value keeps the label bounded.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Latency buckets for whole HTTP requests, in seconds (1 ms to 10 s).
const HTTP_BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Latency buckets for storage operations, in seconds (0.1 ms to 5 s): in-memory operations take
/// microseconds, MongoDB round trips milliseconds.
const STORAGE_BUCKETS: [f64; 15] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// The application's metrics. Cloning shares them (one reference count: the HTTP layer clones
/// this for every request).
#[derive(Clone)]
pub struct Metrics(Arc<Families>);

struct Families {
    registry: Registry,
    requests: IntCounterVec,
    request_duration: HistogramVec,
    in_flight: IntGauge,
    storage_duration: HistogramVec,
}

impl Metrics {
    /// A fresh registry with every metric registered; a labelled family appears in scrapes from
    /// its first observation on.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let http_labels = ["method", "route", "status"];
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests answered."),
            &http_labels,
        )?;
        let request_duration = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time from receiving an HTTP request to producing its response.",
            )
            .buckets(HTTP_BUCKETS.to_vec()),
            &http_labels,
        )?;
        let in_flight = IntGauge::new(
            "http_requests_in_flight",
            "HTTP requests being served, including those waiting for a concurrency slot.",
        )?;
        let storage_duration = HistogramVec::new(
            HistogramOpts::new(
                "storage_operation_duration_seconds",
                "Time taken by payment storage operations.",
            )
            .buckets(STORAGE_BUCKETS.to_vec()),
            &["operation", "outcome"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(request_duration.clone()))?;
        registry.register(Box::new(in_flight.clone()))?;
        registry.register(Box::new(storage_duration.clone()))?;
        Ok(Self(Arc::new(Families {
            registry,
            requests,
            request_duration,
            in_flight,
            storage_duration,
        })))
    }

    /// Counts a request as started; the returned guard counts it as finished when dropped, so a
    /// cancelled request (client gone) never leaves the gauge too high.
    pub fn start_request(&self) -> InFlight {
        self.0.in_flight.inc();
        InFlight(self.0.in_flight.clone())
    }

    /// Records one answered request.
    pub fn record_request(&self, method: &Method, route: &str, status: u16, elapsed: Duration) {
        let code = StatusCode::from_u16(status);
        let status = code.as_ref().map_or("invalid", StatusCode::as_str);
        let labels = [method_label(method), route, status];
        self.0.requests.with_label_values(&labels).inc();
        self.0
            .request_duration
            .with_label_values(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// Records one storage operation.
    pub fn record_storage(&self, operation: &str, outcome: &str, elapsed: Duration) {
        self.0
            .storage_duration
            .with_label_values(&[operation, outcome])
            .observe(elapsed.as_secs_f64());
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> Result<String, prometheus::Error> {
        TextEncoder::new().encode_to_string(&self.0.registry.gather())
    }

    /// The content type of [`Metrics::render`]'s output.
    pub fn content_type() -> &'static str {
        prometheus::TEXT_FORMAT
    }
}

/// Keeps `http_requests_in_flight` raised while alive.
#[must_use = "the request counts as in flight only while the guard lives"]
pub struct InFlight(IntGauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// The `method` label: standard methods by name, anything else as `OTHER`, so a client
/// inventing methods cannot grow the label set.
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [Method; 9] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::OPTIONS,
        Method::TRACE,
        Method::CONNECT,
    ];
    KNOWN
        .iter()
        .find(|known| *known == method)
        .map_or("OTHER", |known| known.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_request_appears_in_the_rendering_with_its_labels() {
        let metrics = Metrics::new().unwrap();
        metrics.record_request(
            &Method::GET,
            "/v1/payments/{id}",
            200,
            Duration::from_millis(3),
        );
        let text = metrics.render().unwrap();
        assert!(
            text.contains(
                r#"http_requests_total{method="GET",route="/v1/payments/{id}",status="200"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.contains("http_request_duration_seconds_bucket{"),
            "{text}"
        );
    }

    #[test]
    fn invented_methods_share_one_label() {
        let metrics = Metrics::new().unwrap();
        for name in ["BREW", "WHEN"] {
            let method = Method::from_bytes(name.as_bytes()).unwrap();
            metrics.record_request(&method, UNMATCHED_ROUTE, 405, Duration::ZERO);
        }
        let text = metrics.render().unwrap();
        assert!(
            text.contains(
                r#"http_requests_total{method="OTHER",route="unmatched",status="405"} 2"#
            ),
            "{text}"
        );
    }

    #[test]
    fn the_in_flight_gauge_falls_when_the_guard_is_dropped() {
        let metrics = Metrics::new().unwrap();
        let first = metrics.start_request();
        let _second = metrics.start_request();
        assert!(metrics
            .render()
            .unwrap()
            .contains("http_requests_in_flight 2"));
        drop(first);
        assert!(metrics
            .render()
            .unwrap()
            .contains("http_requests_in_flight 1"));
    }
}
