//! What every handler shares.

use domain::PaymentService;

use super::limits::Limits;
use super::links::Links;
use crate::auth::Authentication;
use crate::commands::AsyncWrites;
use crate::metrics::Metrics;

/// The router state, cloned for every request (so its parts are shared, not copied).
#[derive(Clone)]
pub struct AppState {
    /// The use cases.
    pub service: PaymentService,
    /// How `/v1/` requests are authenticated (the edge applies it).
    pub auth: Authentication,
    /// Asynchronous writes (publish, status, wait); `None` in the synchronous write mode.
    pub writes: Option<AsyncWrites>,
    /// The URL builder for response links.
    pub links: Links,
    /// The metrics registry, shared with the storage decorator.
    pub metrics: Metrics,
    /// The limits, which the edge enforces and the body extractor reads.
    pub limits: Limits,
}
