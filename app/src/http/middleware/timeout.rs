//! The request timeout: a request still running after `--request-timeout-ms` is answered with
//! 503 `request_timeout` (and `Retry-After`) and its handler is dropped.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::http::error::ApiError;

/// Runs the rest of the stack, or answers 503 once `limit` has passed.
pub async fn enforce_timeout(
    State(limit): State<Duration>,
    request: Request,
    next: Next,
) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(
                timeout_ms = limit.as_millis(),
                "request timed out; its handler was cancelled"
            );
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "request_timeout",
                "the request took longer than this server allows; retry later",
            )
            .into_response()
        }
    }
}
