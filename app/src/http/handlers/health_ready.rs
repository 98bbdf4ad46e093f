//! `GET /health/ready`.

use axum::extract::State;
use axum::Json;
use serde::Serialize;

use crate::http::error::ApiError;
use crate::http::error_code::ErrorCode;
use crate::http::openapi::{responses, OPERATIONS_TAG};
use crate::http::state::AppState;

/// The readiness answer.
#[derive(Debug, Serialize)]
pub struct Readiness {
    /// Always `ready`.
    pub status: &'static str,
}

/// 200 when the storage (and, in the asynchronous write mode, the broker) answers, else 503
/// `storage_unavailable` or `broker_unavailable` (with `Retry-After`), so a load balancer sends
/// traffic only to instances that can serve it.
#[utoipa::path(
    get,
    path = "/health/ready",
    tag = OPERATIONS_TAG,
    operation_id = "health_ready",
    responses(responses::Ready)
)]
pub async fn health_ready(State(state): State<AppState>) -> Result<Json<Readiness>, ApiError> {
    if let Err(error) = state.service.check_health().await {
        tracing::warn!(%error, "readiness check failed");
        return Err(ApiError::new(
            ErrorCode::StorageUnavailable,
            "the payment storage is not reachable; this instance is not ready",
        ));
    }
    if let Some(writes) = &state.writes {
        if let Err(error) = writes.check_health().await {
            tracing::warn!(%error, "readiness check failed");
            return Err(ApiError::new(
                ErrorCode::BrokerUnavailable,
                "the command broker is not reachable; this instance is not ready",
            ));
        }
    }
    Ok(Json(Readiness { status: "ready" }))
}
