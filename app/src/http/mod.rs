//! The inbound HTTP adapter: routes, handlers, wire DTOs, the error mapping and the middleware.

pub mod dto;
pub mod error;
pub mod extract;
pub mod handlers;
pub mod json;
pub mod links;
pub mod middleware;

use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{get, post};
use axum::Router;
use domain::PaymentService;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;

use crate::metrics::Metrics;
use links::Links;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The use cases.
    pub service: PaymentService,
    /// The URL builder for response links.
    pub links: Links,
    /// The metrics registry, shared with the storage decorator.
    pub metrics: Metrics,
}

/// The limits the HTTP layer enforces (from `--max-body-bytes`, `--request-timeout-ms` and
/// `--max-concurrent-requests`).
#[derive(Debug, Clone, Copy)]
pub struct HttpLimits {
    /// Largest request body accepted (413 above).
    pub max_body_bytes: usize,
    /// Longest a request may take, queueing included (503 `request_timeout` after).
    pub request_timeout: Duration,
    /// Most payment requests served at once; further ones wait for a slot.
    pub max_concurrent_requests: usize,
}

/// The whole HTTP surface: the payments API with the seed's singular aliases
/// (`POST /v1/payment`, `GET/PUT/DELETE /v1/payment/{id}`), the operational routes, JSON
/// 404/405 answers, and the middleware of [`middleware`].
pub fn router(state: AppState, limits: HttpLimits) -> Router {
    let collection = get(handlers::list_payments).post(handlers::create_payment);
    let item = get(handlers::get_payment)
        .put(handlers::update_payment)
        .delete(handlers::delete_payment);
    // Only the payment routes are limited: health probes and scrapes must still answer when the
    // API is saturated, or an overloaded instance would be restarted instead of relieved.
    let payments = Router::new()
        .route("/v1/payments", collection.clone())
        .route("/v1/payments/{id}", item.clone())
        .route("/v1/payment", post(handlers::create_payment))
        .route("/v1/payment/{id}", item)
        .layer(GlobalConcurrencyLimitLayer::new(
            limits.max_concurrent_requests,
        ));
    let operations = Router::new()
        .route("/health/live", get(handlers::health_live))
        .route("/health/ready", get(handlers::health_ready))
        .route("/metrics", get(handlers::metrics));
    let stack = ServiceBuilder::new()
        .layer(from_fn(middleware::request_id::assign_request_id))
        .layer(from_fn_with_state(
            state.metrics.clone(),
            middleware::observe::observe,
        ))
        .layer(from_fn_with_state(
            limits.request_timeout,
            middleware::timeout::enforce_timeout,
        ))
        .layer(CatchPanicLayer::custom(middleware::panic::panic_response));
    payments
        .merge(operations)
        .fallback(handlers::route_not_found)
        .method_not_allowed_fallback(handlers::method_not_allowed)
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(stack)
        .with_state(state)
}
