//! `PUT /v1/payments/{id}`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use domain::{CommandBody, FieldError, PaymentUpdate, ValidationError, VersionCheck};

use crate::auth::Caller;
use crate::http::async_write;
use crate::http::dto::parse_payment_request;
use crate::http::error::ApiError;
use crate::http::error_code::ErrorCode;
use crate::http::extract::{IfMatch, JsonDocument, PaymentPath};
use crate::http::openapi::params::{IfMatchParam, PaymentIdParam, PreferParam};
use crate::http::openapi::schemas::UpdatePaymentRequestBody;
use crate::http::openapi::{examples, responses, PAYMENTS_TAG};
use crate::http::response;
use crate::http::state::AppState;

/// Replaces a payment's owner and attributes at the version the client last saw.
#[utoipa::path(
    put,
    path = "/v1/payments/{id}",
    tag = PAYMENTS_TAG,
    operation_id = "update_payment",
    params(PaymentIdParam, IfMatchParam, PreferParam),
    request_body(
        content = UpdatePaymentRequestBody,
        content_type = "application/json",
        example = examples::update_request
    ),
    responses(responses::UpdatePayment)
)]
pub async fn update_payment(
    State(state): State<AppState>,
    caller: Caller,
    PaymentPath(id): PaymentPath,
    IfMatch(if_match): IfMatch,
    headers: HeaderMap,
    JsonDocument(document): JsonDocument,
) -> Result<Response, ApiError> {
    let request = parse_payment_request(document)?;
    if let Some(body_id) = request.id.filter(|body_id| *body_id != id) {
        return Err(ApiError::new(
            ErrorCode::IdMismatch,
            format!("data.id {body_id} does not match the payment id {id} in the path"),
        ));
    }
    let check = VersionCheck::from_parts(request.version, if_match).ok_or_else(|| {
        ValidationError::single(FieldError::new(
            "data.version",
            "is required (the version you last read), unless an If-Match header is sent",
        ))
    })?;
    if let Some(writes) = &state.writes {
        // Keyed by the organisation the payment is written for; storage is not read first, so
        // the stored payment's owner is checked when the command is applied (then 404).
        let organisation = request.content.organisation_id;
        caller.access.require(organisation)?;
        let body = CommandBody::Update {
            content: request.content,
            check,
        };
        let command = async_write::command(writes, &caller, id, organisation, body);
        return async_write::accept(writes, &state.links, &headers, command).await;
    }
    let update = PaymentUpdate {
        id,
        content: request.content,
        check,
    };
    let payment = state.service.update_as(&caller.access, update).await?;
    Ok(response::payment(StatusCode::OK, &payment, &state.links))
}
