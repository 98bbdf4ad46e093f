//! Answers for requests no route takes.

use crate::http::error::ApiError;

/// 404 for an unknown path.
pub async fn route_not_found() -> ApiError {
    ApiError::route_not_found()
}

/// 405 for a known path with an unsupported method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed()
}
