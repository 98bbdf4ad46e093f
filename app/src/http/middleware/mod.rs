//! The middleware around every route. [`super::router`] applies them in this order, outermost
//! first (ARCHITECTURE.md explains why):
//!
//! 1. [`request_id::assign_request_id`]: every request gets an id before anything can log it.
//! 2. [`observe::observe`]: the request span, the one log line and the HTTP metrics, seeing the
//!    final status of everything inside, timeouts and panics included.
//! 3. [`timeout::enforce_timeout`]: bounds the whole request, time queued for a slot included.
//! 4. [`panic::panic_response`] (through `CatchPanicLayer`): a panicking handler becomes a 500.
//!
//! The payment routes additionally sit behind a concurrency limit (see [`super::router`]).

pub mod observe;
pub mod panic;
pub mod request_id;
pub mod timeout;
