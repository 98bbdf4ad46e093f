//! The request body limit: refused at once when the declared length is over it, counted while
//! reading otherwise, and in both cases the unread rest drained so the client reads our 413.
//!
//! Counting alone is not enough: a client that declares a huge `Content-Length` and then sends
//! slowly (or never) would hold a connection and a task until it gave up. And answering 413 then
//! closing with body bytes unread makes the kernel reset the connection, so a client still
//! sending (most do not wait for `Expect: 100-continue`) sees a broken pipe instead of our
//! answer. The rest of a refused body is therefore read and discarded in the background, bounded
//! in bytes and time.

use std::pin::Pin;
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::header::CONTENT_LENGTH;
use axum::response::{IntoResponse, Response};

use crate::http::error::ApiError;

/// Most bytes of a refused body read and discarded before the connection is closed instead.
const DRAIN_MAX_BYTES: usize = 64 << 20;
/// Longest time spent draining a refused body.
const DRAIN_MAX_TIME: Duration = Duration::from_secs(10);

/// Why a body could not be read.
#[derive(Debug)]
pub enum BodyError {
    /// It is longer than the limit.
    TooLarge,
    /// The connection failed or the framing was broken.
    Unreadable(String),
}

/// Whether `request` declares a `Content-Length` over `limit` bytes: refused at once with
/// [`refuse_oversized`]. Otherwise the body extractor counts what arrives against the same limit.
pub fn declared_over(request: &Request, limit: usize) -> bool {
    request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.trim().parse::<u64>().ok())
        .is_some_and(|length| length > u64::try_from(limit).unwrap_or(u64::MAX))
}

/// 413 `payload_too_large` for `request`, whose body is drained in the background.
pub fn refuse_oversized(request: Request) -> Response {
    drain_in_background(request.into_body());
    ApiError::payload_too_large().into_response()
}

/// Reads the whole body if it is at most `limit` bytes; drains the rest when it is longer.
pub async fn read_limited(mut body: Body, limit: usize) -> Result<Bytes, BodyError> {
    let expected = usize::try_from(body.size_hint().lower()).unwrap_or(usize::MAX);
    let mut collected = Vec::with_capacity(expected.min(limit));
    while let Some(chunk) = next_chunk(&mut body).await {
        let chunk = chunk.map_err(|error| BodyError::Unreadable(error.to_string()))?;
        if collected.len() + chunk.len() > limit {
            drain_in_background(body);
            return Err(BodyError::TooLarge);
        }
        collected.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(collected))
}

/// The next data chunk of `body` (trailers skipped), or `None` at its end.
async fn next_chunk(body: &mut Body) -> Option<Result<Bytes, axum::Error>> {
    loop {
        let frame = std::future::poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx)).await?;
        match frame {
            Ok(frame) => {
                if let Ok(data) = frame.into_data() {
                    return Some(Ok(data));
                }
            }
            Err(error) => return Some(Err(error)),
        }
    }
}

/// Reads and discards what is left of `body`, up to [`DRAIN_MAX_BYTES`] and [`DRAIN_MAX_TIME`],
/// so the response reaches a client that is still sending; then lets the connection close.
fn drain_in_background(mut body: Body) {
    tokio::spawn(async move {
        let drain = async {
            let mut drained = 0;
            while let Some(Ok(chunk)) = next_chunk(&mut body).await {
                drained += chunk.len();
                if drained > DRAIN_MAX_BYTES {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(DRAIN_MAX_TIME, drain).await;
    });
}
