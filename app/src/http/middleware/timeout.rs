//! The request timeout: a request still running after `--request-timeout-ms` is answered with
//! 503 `request_timeout` (and `Retry-After`) and its handler is dropped (by [`super::edge`]).

use std::time::Duration;

use axum::response::{IntoResponse, Response};

use crate::http::error::ApiError;
use crate::http::error_code::ErrorCode;

/// The answer for a request cancelled after `limit`; logs the cancellation.
pub fn timed_out(limit: Duration) -> Response {
    tracing::warn!(
        timeout_ms = limit.as_millis(),
        "request timed out; its handler was cancelled"
    );
    ApiError::new(
        ErrorCode::RequestTimeout,
        "the request took longer than this server allows; retry later",
    )
    .into_response()
}
