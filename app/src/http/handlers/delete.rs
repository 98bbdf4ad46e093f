//! `DELETE /v1/payments/{id}[?version=N]`.

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::{CommandBody, Version};

use crate::auth::Caller;
use crate::http::async_write;
use crate::http::error::ApiError;
use crate::http::extract::{query_integer, query_pairs, PaymentPath};
use crate::http::openapi::params::{DeleteParams, PaymentIdParam, PreferParam};
use crate::http::openapi::{responses, PAYMENTS_TAG};
use crate::http::state::AppState;

/// Deletes a payment; with `?version=N`, only if N is the stored version.
#[utoipa::path(
    delete,
    path = "/v1/payments/{id}",
    tag = PAYMENTS_TAG,
    operation_id = "delete_payment",
    params(PaymentIdParam, DeleteParams, PreferParam),
    responses(responses::DeletePayment)
)]
pub async fn delete_payment(
    State(state): State<AppState>,
    caller: Caller,
    PaymentPath(id): PaymentPath,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let mut expected = None;
    for (name, value) in query_pairs(query.as_deref())? {
        match name.as_str() {
            "version" => {
                let version = Version::new(query_integer("version", &value)?)
                    .map_err(|e| ApiError::invalid_query(e.message))?;
                expected = Some(version);
            }
            _ => {
                return Err(ApiError::invalid_query(format!(
                    "unknown query parameter {name:?}"
                )))
            }
        }
    }
    if let Some(writes) = &state.writes {
        // Keyed by the stored payment's organisation: a payment that is not stored, or not of an
        // organisation the caller acts for, is a 404 now (and checked again when applied).
        let organisation = state
            .service
            .get_as(&caller.access, id)
            .await?
            .organisation_id();
        let body = CommandBody::Delete { expected };
        let command = async_write::command(writes, &caller, id, organisation, body);
        return async_write::accept(writes, &state.links, &headers, command).await;
    }
    state
        .service
        .delete_as(&caller.access, id, expected)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
