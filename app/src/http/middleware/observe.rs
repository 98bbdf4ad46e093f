//! Per-request observability: a span carrying the request id for everything logged while the
//! request runs, one log line when it finishes, and the HTTP metrics.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use super::request_id::RequestId;
use crate::metrics::{Metrics, UNMATCHED_ROUTE};

/// Serves the request inside a span, then logs and counts it by route template and status.
pub async fn observe(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    // The route template, never the raw path: ids in paths would make the label unbounded.
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED_ROUTE, MatchedPath::as_str)
        .to_owned();
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .map(|id| id.as_str().to_owned())
        .unwrap_or_default();
    let span = tracing::info_span!("request", %request_id, %method, %route);

    let in_flight = metrics.start_request();
    let response = next.run(request).instrument(span).await;
    drop(in_flight);

    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    metrics.record_request(&method, &route, status, elapsed);
    tracing::info!(
        %method,
        %route,
        %path,
        status,
        latency_ms = elapsed.as_secs_f64() * 1000.0,
        %request_id,
        "request finished"
    );
    response
}
