//! Refuses a request whose declared body length is over the limit before reading any of it.
//!
//! The body extractor's limit counts bytes as they arrive, so a client that declares a huge
//! `Content-Length` and then sends slowly (or never) would hold a connection and a task until it
//! gives up. The declared length is known up front: answer 413 at once instead.

use axum::extract::{Request, State};
use axum::http::header::CONTENT_LENGTH;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;

/// The largest request body accepted, in bytes.
#[derive(Debug, Clone, Copy)]
pub struct MaxBodyBytes(pub usize);

/// Answers 413 `payload_too_large` when `Content-Length` exceeds the limit; otherwise passes the
/// request on (bodies without a declared length are still counted by the body extractor).
pub async fn refuse_declared_oversize(
    State(MaxBodyBytes(max)): State<MaxBodyBytes>,
    request: Request,
    next: Next,
) -> Response {
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.trim().parse::<u64>().ok());
    let limit = u64::try_from(max).unwrap_or(u64::MAX);
    if declared.is_some_and(|length| length > limit) {
        return ApiError::payload_too_large().into_response();
    }
    next.run(request).await
}
