//! `GET /v1/payment-commands/{id}`.

use axum::extract::{Path, State};
use axum::response::Response;
use domain::CommandId;

use crate::auth::Caller;
use crate::http::async_write::command_response;
use crate::http::error::ApiError;
use crate::http::error_code::ErrorCode;
use crate::http::openapi::params::CommandIdParam;
use crate::http::openapi::{responses, PAYMENTS_TAG};
use crate::http::state::AppState;

/// The status of an asynchronous write: `accepted`, then `applied` or `rejected` with the answer
/// the synchronous API would have given.
#[utoipa::path(
    get,
    path = "/v1/payment-commands/{id}",
    tag = PAYMENTS_TAG,
    operation_id = "get_payment_command",
    params(CommandIdParam),
    responses(responses::GetCommand)
)]
pub async fn get_payment_command(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = CommandId::parse(&id).map_err(|_| {
        ApiError::new(
            ErrorCode::InvalidId,
            format!("command id {id:?} is not a UUID"),
        )
    })?;
    let not_found = || {
        ApiError::new(
            ErrorCode::NotFound,
            format!("payment command {id} not found"),
        )
    };
    let Some(writes) = &state.writes else {
        // The synchronous write mode has no commands.
        return Err(not_found());
    };
    match writes.find(id).await? {
        // Another organisation's command is not revealed, as for payments.
        Some(record) if caller.access.permits(record.organisation_id) => {
            Ok(command_response(&record, &state.links))
        }
        Some(_) | None => Err(not_found()),
    }
}
