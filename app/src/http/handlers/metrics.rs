//! `GET /metrics`.

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};

use crate::http::error::ApiError;
use crate::http::openapi::{responses, OPERATIONS_TAG};
use crate::http::state::AppState;
use crate::metrics::Metrics;

/// Every metric in the Prometheus text exposition format.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = OPERATIONS_TAG,
    operation_id = "metrics",
    responses(responses::Metrics)
)]
pub async fn metrics(State(state): State<AppState>) -> Response {
    match state.metrics.render() {
        Ok(text) => ([(CONTENT_TYPE, Metrics::content_type())], text).into_response(),
        Err(error) => {
            tracing::error!(%error, "rendering metrics failed");
            ApiError::internal().into_response()
        }
    }
}
