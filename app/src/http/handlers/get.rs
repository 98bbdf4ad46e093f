//! `GET /v1/payments/{id}`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::auth::Caller;
use crate::http::error::ApiError;
use crate::http::extract::PaymentPath;
use crate::http::openapi::{params::PaymentIdParam, responses, PAYMENTS_TAG};
use crate::http::response;
use crate::http::state::AppState;

/// Fetches one payment, with its version as `ETag`.
#[utoipa::path(
    get,
    path = "/v1/payments/{id}",
    tag = PAYMENTS_TAG,
    operation_id = "get_payment",
    params(PaymentIdParam),
    responses(responses::GetPayment)
)]
pub async fn get_payment(
    State(state): State<AppState>,
    caller: Caller,
    PaymentPath(id): PaymentPath,
) -> Result<Response, ApiError> {
    let payment = state.service.get_as(&caller.access, id).await?;
    Ok(response::payment(StatusCode::OK, &payment, &state.links))
}
