//! The one error type of the HTTP layer: every refusal leaves as the same JSON body.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::{
    CreatePaymentError, DeletePaymentError, FieldError, GetPaymentError, ListPaymentsError,
    RepositoryError, UpdatePaymentError, ValidationError,
};
use serde::Serialize;

use super::error_code::ErrorCode;

/// Seconds a client should wait before retrying when storage is unavailable.
const RETRY_AFTER_SECONDS: &str = "1";

/// The JSON body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorBody {
    /// A stable machine-readable code, e.g. `validation_failed`.
    pub error_code: ErrorCode,
    /// A human-readable explanation.
    pub error_message: String,
    /// The refused fields, for validation errors.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<ErrorDetail>,
}

/// One refused field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorDetail {
    /// Dotted path of the field, e.g. `data.attributes.amount`.
    pub field: String,
    /// Why it was refused.
    pub message: String,
}

/// An HTTP error: our JSON body, answered with its code's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    body: ErrorBody,
}

impl ApiError {
    /// An error with no field details.
    pub fn new(error_code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            body: ErrorBody {
                error_code,
                error_message: message.into(),
                details: Vec::new(),
            },
        }
    }

    /// 400 `invalid_json`: the body is not one well-formed JSON document we accept.
    pub fn invalid_json(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidJson, message)
    }

    /// 400 `invalid_query`.
    pub fn invalid_query(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidQuery, message)
    }

    /// 400 `invalid_id`: a path id that is not a UUID.
    pub fn invalid_id(text: &str) -> Self {
        Self::new(
            ErrorCode::InvalidId,
            format!("payment id {text:?} is not a UUID"),
        )
    }

    /// 400 `invalid_header`.
    pub fn invalid_header(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidHeader, message)
    }

    /// 413 `payload_too_large`: the body is larger than `--max-body-bytes`.
    pub fn payload_too_large() -> Self {
        Self::new(
            ErrorCode::PayloadTooLarge,
            "the request body is larger than this server accepts",
        )
    }

    /// 404 `route_not_found`.
    pub fn route_not_found() -> Self {
        Self::new(ErrorCode::RouteNotFound, "no such route")
    }

    /// 405 `method_not_allowed`.
    pub fn method_not_allowed() -> Self {
        Self::new(
            ErrorCode::MethodNotAllowed,
            "this route does not support this method",
        )
    }

    /// 500 `internal_error`: says nothing about the cause, which goes to the log.
    pub fn internal() -> Self {
        Self::new(
            ErrorCode::InternalError,
            "the server failed to process the request; it has been logged",
        )
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.body.error_code.status()
    }

    /// The body.
    pub fn body(&self) -> &ErrorBody {
        &self.body
    }
}

impl From<ValidationError> for ApiError {
    fn from(error: ValidationError) -> Self {
        let details = error
            .fields()
            .iter()
            .map(|FieldError { field, message }| ErrorDetail {
                field: field.clone(),
                message: message.clone(),
            })
            .collect();
        Self {
            body: ErrorBody {
                error_code: ErrorCode::ValidationFailed,
                error_message: format!("the payment is invalid: {error}"),
                details,
            },
        }
    }
}

impl From<RepositoryError> for ApiError {
    fn from(error: RepositoryError) -> Self {
        match error {
            RepositoryError::Unavailable(cause) => {
                tracing::warn!(%cause, "storage unavailable");
                Self::new(
                    ErrorCode::StorageUnavailable,
                    "the payment storage is temporarily unavailable; retry later",
                )
            }
            RepositoryError::Internal(cause) => {
                tracing::error!(%cause, "storage failure");
                Self::internal()
            }
            RepositoryError::TooLarge(cause) => {
                tracing::info!(%cause, "payment too large for the storage");
                Self::new(
                    ErrorCode::PayloadTooLarge,
                    "the payment is larger than the storage accepts",
                )
            }
        }
    }
}

fn not_found(id: impl std::fmt::Display) -> ApiError {
    ApiError::new(ErrorCode::NotFound, format!("payment {id} not found"))
}

fn version_conflict(message: String) -> ApiError {
    ApiError::new(ErrorCode::VersionConflict, message)
}

impl From<CreatePaymentError> for ApiError {
    fn from(error: CreatePaymentError) -> Self {
        match error {
            CreatePaymentError::Conflict { .. } => {
                Self::new(ErrorCode::PaymentExists, error.to_string())
            }
            CreatePaymentError::Storage(storage) => storage.into(),
        }
    }
}

impl From<GetPaymentError> for ApiError {
    fn from(error: GetPaymentError) -> Self {
        match error {
            GetPaymentError::NotFound { id } => not_found(id),
            GetPaymentError::Storage(storage) => storage.into(),
        }
    }
}

impl From<UpdatePaymentError> for ApiError {
    fn from(error: UpdatePaymentError) -> Self {
        match error {
            UpdatePaymentError::NotFound { id } => not_found(id),
            UpdatePaymentError::VersionConflict { .. } => version_conflict(error.to_string()),
            UpdatePaymentError::PreconditionFailed { .. } => {
                Self::new(ErrorCode::PreconditionFailed, error.to_string())
            }
            UpdatePaymentError::VersionExhausted { .. } => {
                Self::new(ErrorCode::VersionExhausted, error.to_string())
            }
            UpdatePaymentError::Storage(storage) => storage.into(),
        }
    }
}

impl From<DeletePaymentError> for ApiError {
    fn from(error: DeletePaymentError) -> Self {
        match error {
            DeletePaymentError::NotFound { id } => not_found(id),
            DeletePaymentError::VersionConflict { .. } => version_conflict(error.to_string()),
            DeletePaymentError::Storage(storage) => storage.into(),
        }
    }
}

impl From<ListPaymentsError> for ApiError {
    fn from(error: ListPaymentsError) -> Self {
        match error {
            ListPaymentsError::Storage(storage) => storage.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut response = (status, axum::Json(self.body)).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_AFTER_SECONDS),
            );
        }
        response
    }
}
