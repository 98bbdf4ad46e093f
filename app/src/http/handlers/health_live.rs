//! `GET /health/live`.

use crate::http::openapi::{responses, OPERATIONS_TAG};
use axum::Json;
use serde::Serialize;

/// The liveness answer.
#[derive(Debug, Serialize)]
pub struct Liveness {
    /// Always `ok`.
    pub status: &'static str,
}

/// 200 whenever the process can answer HTTP at all; it checks nothing else, so a slow database
/// never gets a healthy process restarted.
#[utoipa::path(
    get,
    path = "/health/live",
    tag = OPERATIONS_TAG,
    operation_id = "health_live",
    responses(responses::Live)
)]
pub async fn health_live() -> Json<Liveness> {
    Json(Liveness { status: "ok" })
}
