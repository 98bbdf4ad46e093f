//! `GET /openapi.json`.

use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};

use crate::http::error::ApiError;
use crate::http::openapi::{published, responses, OPERATIONS_TAG};

/// This API's OpenAPI 3.1 document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = OPERATIONS_TAG,
    operation_id = "openapi_document",
    responses(responses::Document)
)]
pub async fn openapi_document() -> Response {
    match published() {
        Some(Ok(json)) => ([(CONTENT_TYPE, "application/json")], json.clone()).into_response(),
        Some(Err(error)) => {
            tracing::error!(%error, "serializing the API document failed");
            ApiError::internal().into_response()
        }
        // The router publishes the document before it serves anything.
        None => ApiError::internal().into_response(),
    }
}
