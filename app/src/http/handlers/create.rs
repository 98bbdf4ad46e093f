//! `POST /v1/payments`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use domain::{CommandBody, NewPayment, PaymentId};

use crate::auth::Caller;
use crate::http::async_write;
use crate::http::dto::parse_payment_request;
use crate::http::error::ApiError;
use crate::http::extract::JsonDocument;
use crate::http::openapi::params::PreferParam;
use crate::http::openapi::{examples, responses, schemas::PaymentRequestBody, PAYMENTS_TAG};
use crate::http::response;
use crate::http::state::AppState;

/// Creates a payment (201), or returns the identical one already stored under the same id (200).
#[utoipa::path(
    post,
    path = "/v1/payments",
    tag = PAYMENTS_TAG,
    operation_id = "create_payment",
    params(PreferParam),
    request_body(
        content = PaymentRequestBody,
        content_type = "application/json",
        example = examples::create_request
    ),
    responses(responses::CreatePayment)
)]
pub async fn create_payment(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    JsonDocument(document): JsonDocument,
) -> Result<Response, ApiError> {
    let request = parse_payment_request(document)?;
    if let Some(writes) = &state.writes {
        // The id is chosen now, so the client learns it with the 202.
        let id = request.id.unwrap_or_else(PaymentId::generate);
        let organisation = request.content.organisation_id;
        // Answered at once, as in the synchronous mode: nothing forbidden enters the log.
        caller.access.require(organisation)?;
        let body = CommandBody::Create {
            content: request.content,
        };
        let command = async_write::command(writes, &caller, id, organisation, body);
        return async_write::accept(writes, &state.links, &headers, command).await;
    }
    let created = state
        .service
        .create_as(
            &caller.access,
            NewPayment {
                id: request.id,
                content: request.content,
            },
        )
        .await?;
    let status = if created.newly_created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(response::payment(status, &created.payment, &state.links))
}
