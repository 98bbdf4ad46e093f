//! `POST /v1/payments`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use domain::NewPayment;

use crate::http::dto::{parse_payment_request, payment_response};
use crate::http::error::ApiError;
use crate::http::extract::JsonDocument;
use crate::http::AppState;

/// Creates a payment (201), or returns the identical one already stored under the same id (200).
pub async fn create_payment(
    State(state): State<AppState>,
    JsonDocument(document): JsonDocument,
) -> Result<Response, ApiError> {
    let request = parse_payment_request(document)?;
    let created = state
        .service
        .create(NewPayment {
            id: request.id,
            content: request.content,
        })
        .await?;
    let status = if created.newly_created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(payment_response(status, &created.payment, &state.links))
}
