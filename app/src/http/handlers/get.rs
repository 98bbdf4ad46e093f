//! `GET /v1/payments/{id}`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::http::dto::payment_response;
use crate::http::error::ApiError;
use crate::http::extract::PaymentPath;
use crate::http::AppState;

/// Fetches one payment, with its version as `ETag`.
pub async fn get_payment(
    State(state): State<AppState>,
    PaymentPath(id): PaymentPath,
) -> Result<Response, ApiError> {
    let payment = state.service.get(id).await?;
    Ok(payment_response(StatusCode::OK, &payment, &state.links))
}
