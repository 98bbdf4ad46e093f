//! Prometheus metrics: one registry per application instance, rendered by `GET /metrics`.
//!
//! A registry per instance (rather than a process-global recorder) keeps tests that boot many
//! servers in one process independent, and needs no install-once guard.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::http::{Method, StatusCode};
use prometheus::core::Collector;
use prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
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
    /// `storage_duration` handles by [`STORAGE_OPERATIONS`] and [`STORAGE_OUTCOMES`] index.
    storage_slots: [OnceLock<Histogram>; STORAGE_OPERATIONS.len() * STORAGE_OUTCOMES.len()],
}

/// The `operation` labels of storage metrics whose handles are kept after the first lookup.
const STORAGE_OPERATIONS: [&str; 6] =
    ["insert", "find", "update", "delete", "list", "check_health"];

/// The `outcome` labels likewise.
const STORAGE_OUTCOMES: [&str; 6] = [
    "ok",
    "not_found",
    "conflict",
    "unavailable",
    "internal",
    "too_large",
];

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
            storage_slots: std::array::from_fn(|_| OnceLock::new()),
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
        self.request_handles(method, route, status).record(elapsed);
    }

    /// The counter and histogram of requests labelled (method, route, status).
    fn request_handles(&self, method: &Method, route: &str, status: u16) -> RequestHandles {
        let code = StatusCode::from_u16(status);
        let status = code.as_ref().map_or("invalid", StatusCode::as_str);
        let labels = [method_label(method), route, status];
        RequestHandles {
            count: self.0.requests.with_label_values(&labels),
            duration: self.0.request_duration.with_label_values(&labels),
        }
    }

    /// A recorder for requests to `routes` (templates) and to no route, which looks each
    /// (route, method, status) up once and then records with no lookup: `record_request` hashes
    /// every label twice a request.
    pub fn route_recorder<'r>(&self, routes: impl IntoIterator<Item = &'r str>) -> RouteRecorder {
        let routes: Vec<Box<str>> = routes
            .into_iter()
            .chain([UNMATCHED_ROUTE])
            .map(Box::from)
            .collect();
        let slots = (0..routes.len() * KNOWN_METHODS.len() * CACHED_STATUSES.len())
            .map(|_| OnceLock::new())
            .collect();
        RouteRecorder {
            metrics: self.clone(),
            routes,
            slots,
        }
    }

    /// Records one storage operation.
    pub fn record_storage(&self, operation: &str, outcome: &str, elapsed: Duration) {
        let lookup = || {
            self.0
                .storage_duration
                .with_label_values(&[operation, outcome])
        };
        let operation_index = STORAGE_OPERATIONS
            .iter()
            .position(|known| *known == operation);
        let outcome_index = STORAGE_OUTCOMES.iter().position(|known| *known == outcome);
        match (operation_index, outcome_index) {
            (Some(operation), Some(outcome)) => self.0.storage_slots
                [operation * STORAGE_OUTCOMES.len() + outcome]
                .get_or_init(lookup)
                .observe(elapsed.as_secs_f64()),
            _ => lookup().observe(elapsed.as_secs_f64()),
        }
    }

    /// Registers a collector of metrics kept elsewhere (see
    /// [`crate::storage_metrics::SampledGauge`]).
    pub fn register(&self, collector: Box<dyn Collector>) -> Result<(), prometheus::Error> {
        self.0.registry.register(collector)
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

/// Statuses whose metric handles [`RouteRecorder`] keeps; others are looked up each time.
const CACHED_STATUSES: [u16; 18] = [
    200, 201, 204, 304, 400, 404, 405, 406, 409, 412, 413, 415, 422, 428, 431, 500, 501, 503,
];

/// The request counter and latency histogram of one (method, route, status).
struct RequestHandles {
    count: IntCounter,
    duration: Histogram,
}

impl RequestHandles {
    fn record(&self, elapsed: Duration) {
        self.count.inc();
        self.duration.observe(elapsed.as_secs_f64());
    }
}

/// Records requests by route index (see [`Metrics::route_recorder`]).
pub struct RouteRecorder {
    metrics: Metrics,
    /// The templates, then [`UNMATCHED_ROUTE`].
    routes: Vec<Box<str>>,
    /// Indexed by route, method and status.
    slots: Box<[OnceLock<RequestHandles>]>,
}

impl RouteRecorder {
    /// The index of requests no route matched.
    pub fn unmatched(&self) -> usize {
        self.routes.len() - 1
    }

    /// Records one answered request to the route at `route` (the order given, or
    /// [`RouteRecorder::unmatched`]).
    pub fn record(&self, route: usize, method: &Method, status: u16, elapsed: Duration) {
        let route = route.min(self.unmatched());
        let method_index = KNOWN_METHODS.iter().position(|known| known == method);
        let status_index = CACHED_STATUSES.iter().position(|cached| *cached == status);
        let (Some(method_index), Some(status_index)) = (method_index, status_index) else {
            self.metrics
                .record_request(method, &self.routes[route], status, elapsed);
            return;
        };
        let slot =
            (route * KNOWN_METHODS.len() + method_index) * CACHED_STATUSES.len() + status_index;
        self.slots[slot]
            .get_or_init(|| {
                self.metrics
                    .request_handles(method, &self.routes[route], status)
            })
            .record(elapsed);
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
const KNOWN_METHODS: [Method; 9] = [
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

fn method_label(method: &Method) -> &'static str {
    KNOWN_METHODS
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

    #[test]
    fn the_route_recorder_counts_like_record_request_cached_or_not() {
        let metrics = Metrics::new().unwrap();
        let recorder = metrics.route_recorder(["/a", "/b/{id}"]);
        for _ in 0..3 {
            recorder.record(1, &Method::PUT, 409, Duration::from_millis(1));
        }
        // Not cached: an unusual status, an invented method.
        recorder.record(0, &Method::GET, 418, Duration::ZERO);
        recorder.record(
            recorder.unmatched(),
            &Method::from_bytes(b"BREW").unwrap(),
            404,
            Duration::ZERO,
        );
        metrics.record_request(&Method::PUT, "/b/{id}", 409, Duration::ZERO);
        let text = metrics.render().unwrap();
        for expected in [
            r#"http_requests_total{method="PUT",route="/b/{id}",status="409"} 4"#,
            r#"http_requests_total{method="GET",route="/a",status="418"} 1"#,
            r#"http_requests_total{method="OTHER",route="unmatched",status="404"} 1"#,
            r#"http_request_duration_seconds_count{method="PUT",route="/b/{id}",status="409"} 4"#,
        ] {
            assert!(text.contains(expected), "{expected} in {text}");
        }
    }

    #[test]
    fn storage_operations_are_recorded_under_their_labels_cached_or_not() {
        let metrics = Metrics::new().unwrap();
        metrics.record_storage("find", "ok", Duration::ZERO);
        metrics.record_storage("find", "ok", Duration::ZERO);
        metrics.record_storage("find", "not_found", Duration::ZERO);
        metrics.record_storage("resize", "ok", Duration::ZERO);
        let text = metrics.render().unwrap();
        for expected in [
            r#"storage_operation_duration_seconds_count{operation="find",outcome="ok"} 2"#,
            r#"storage_operation_duration_seconds_count{operation="find",outcome="not_found"} 1"#,
            r#"storage_operation_duration_seconds_count{operation="resize",outcome="ok"} 1"#,
        ] {
            assert!(text.contains(expected), "{expected} in {text}");
        }
    }
}
