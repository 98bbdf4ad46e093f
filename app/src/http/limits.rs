//! The limits the HTTP layer enforces, in one value that the edge and the extractors share.

use std::time::Duration;

/// The limits of `--max-body-bytes`, `--request-timeout-ms` and `--max-concurrent-requests`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body accepted, in bytes (413 above).
    pub max_body_bytes: usize,
    /// Longest a request may take, queueing included (503 `request_timeout` after).
    pub request_timeout: Duration,
    /// Most payment requests served at once; further ones wait for a slot.
    pub max_concurrent_requests: usize,
}
