//! The inbound HTTP adapter: routes, handlers, wire DTOs, the error mapping and the middleware.

pub mod body;
pub mod dto;
pub mod error;
pub mod extract;
pub mod handlers;
pub mod json;
pub mod links;
pub mod middleware;
pub mod openapi;

use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::get;
use axum::Router;
use domain::PaymentService;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

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

/// The whole HTTP surface: the documented routes (see `documented_routes`), the Swagger UI at
/// `/docs`, JSON 404/405 answers, and the middleware of [`middleware`].
pub fn router(state: AppState, limits: HttpLimits) -> Router {
    let (documented, _) = documented_routes(limits.max_concurrent_requests).split_for_parts();
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
    documented
        // The UI is HTML and scripts for people, not part of the API, so it is not documented.
        .route("/docs", get(handlers::docs_ui))
        .route("/docs/", get(handlers::docs_ui))
        .route("/docs/{*file}", get(handlers::docs_ui))
        .fallback(handlers::route_not_found)
        .method_not_allowed_fallback(handlers::method_not_allowed)
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(from_fn_with_state(
            middleware::body_limit::MaxBodyBytes(limits.max_body_bytes),
            middleware::body_limit::limit_body,
        ))
        .layer(stack)
        .with_state(state)
}

/// Every route of the API document, registered once for both the router and the document so the
/// two cannot drift: the payments API with the seed's singular aliases (`POST /v1/payment`,
/// `GET/PUT/DELETE /v1/payment/{id}`), and the operational routes.
fn documented_routes(max_concurrent_requests: usize) -> OpenApiRouter<AppState> {
    let payments = OpenApiRouter::new()
        .routes(routes!(handlers::list_payments, handlers::create_payment))
        .routes(routes!(
            handlers::get_payment,
            handlers::update_payment,
            handlers::delete_payment
        ))
        .routes(openapi::alias(
            "/v1/payment",
            routes!(handlers::create_payment),
        ))
        .routes(openapi::alias(
            "/v1/payment/{id}",
            routes!(
                handlers::get_payment,
                handlers::update_payment,
                handlers::delete_payment
            ),
        ))
        // Only the payment routes are limited: health probes and scrapes must still answer when
        // the API is saturated, or an overloaded instance would be restarted instead of relieved.
        .layer(GlobalConcurrencyLimitLayer::new(max_concurrent_requests));
    let operations = OpenApiRouter::new()
        .routes(routes!(handlers::health_live))
        .routes(routes!(handlers::health_ready))
        .routes(routes!(handlers::metrics))
        .routes(routes!(handlers::openapi_document));
    OpenApiRouter::with_openapi(openapi::base())
        .merge(payments)
        .merge(operations)
}
