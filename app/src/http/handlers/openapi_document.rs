//! `GET /openapi.json`.

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};

use crate::http::error::ApiError;
use crate::http::openapi::{published, responses, OPERATIONS_TAG};
use crate::http::state::AppState;

/// This API's OpenAPI 3.1 document: with the bearer scheme and scopes when authentication is on.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = OPERATIONS_TAG,
    operation_id = "openapi_document",
    responses(responses::Document)
)]
pub async fn openapi_document(State(state): State<AppState>) -> Response {
    match published(state.auth.is_on()) {
        Some(Ok(json)) => ([(CONTENT_TYPE, "application/json")], json.clone()).into_response(),
        Some(Err(error)) => {
            tracing::error!(%error, "serializing the API document failed");
            ApiError::internal().into_response()
        }
        // The router publishes the document before it serves anything.
        None => ApiError::internal().into_response(),
    }
}
