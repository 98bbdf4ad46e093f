//! The inbound HTTP adapter: routes, handlers, wire DTOs and the error mapping.

pub mod body;
pub mod dto;
pub mod error;
pub mod extract;
pub mod handlers;
pub mod json;
pub mod links;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use domain::PaymentService;

use links::Links;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The use cases.
    pub service: PaymentService,
    /// The URL builder for response links.
    pub links: Links,
}

/// The payments API routes, with the seed's singular aliases (`POST /v1/payment`,
/// `GET/PUT/DELETE /v1/payment/{id}`), and JSON 404/405 answers.
pub fn router(state: AppState, max_body_bytes: usize) -> Router {
    let collection = get(handlers::list_payments).post(handlers::create_payment);
    let item = get(handlers::get_payment)
        .put(handlers::update_payment)
        .delete(handlers::delete_payment);
    Router::new()
        .route("/v1/payments", collection.clone())
        .route("/v1/payments/{id}", item.clone())
        .route("/v1/payment", post(handlers::create_payment))
        .route("/v1/payment/{id}", item)
        .fallback(handlers::route_not_found)
        .method_not_allowed_fallback(handlers::method_not_allowed)
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(state)
}
