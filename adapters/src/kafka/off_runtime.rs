//! librdkafka calls that block a thread, kept off the async runtime's worker threads.

use std::time::Duration;

use domain::LogError;

use super::errors::timed_out;

/// Runs `work`, a blocking librdkafka call bounded by `bound` itself, on tokio's blocking pool,
/// and waits for it at most `bound`.
pub(super) async fn blocking<T, F>(bound: Duration, what: &str, work: F) -> Result<T, LogError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, LogError> + Send + 'static,
{
    match tokio::time::timeout(bound, tokio::task::spawn_blocking(work)).await {
        Ok(Ok(result)) => result,
        Ok(Err(failed)) => Err(LogError::Internal(format!("{what} failed: {failed}"))),
        Err(_) => Err(timed_out(what, bound)),
    }
}

/// Drops `value` on a thread of its own: dropping a consumer leaves its group (a round trip to
/// the coordinator, and much longer while the broker is unreachable), which must stall neither
/// an async worker thread nor, through tokio's blocking pool, the runtime's shutdown.
pub(super) fn drop_in_background<T: Send + 'static>(value: T) {
    let spawned = std::thread::Builder::new()
        .name("kafka-close".into())
        .spawn(move || drop(value));
    if let Err(error) = spawned {
        // The closure, and `value` with it, was dropped here, on the caller's thread.
        tracing::warn!(%error, "no thread to close a Kafka client in the background");
    }
}
