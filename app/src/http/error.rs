//! The one error type of the HTTP layer: every refusal leaves as the same JSON body.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::{
    CommandError, CreatePaymentError, DeletePaymentError, FieldError, Forbidden, GetPaymentError,
    ListPaymentsError, RepositoryError, UpdatePaymentError, ValidationError,
};

use super::error_code::ErrorCode;
use super::json_text::write_json_string;
use super::response;

/// Most refused fields an answer lists in `details`; `details_omitted` counts the rest, so a
/// body with 50,000 broken fields is not answered with 50,000 entries.
pub const MAX_DETAILS: usize = 100;

/// Most refused fields named in a validation error's `error_message`.
const MAX_MESSAGE_FIELDS: usize = 3;

/// The longest `error_message`, and the longest `field` or `message` of a detail, in bytes:
/// longer text (a client's key, echoed in a field path) is cut and ends in `…`.
pub const MAX_TEXT_BYTES: usize = 512;

/// The JSON body of every error response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorBody {
    /// A stable machine-readable code, e.g. `validation_failed`.
    pub error_code: ErrorCode,
    /// A human-readable explanation.
    pub error_message: String,
    /// The refused fields, for validation errors: the first [`MAX_DETAILS`] (left out of the
    /// JSON when empty).
    pub details: Vec<ErrorDetail>,
    /// How many refused fields `details` leaves out (left out of the JSON when 0).
    pub details_omitted: usize,
}

impl ErrorBody {
    /// The body as JSON text: `{"error_code", "error_message", "details"?, "details_omitted"?}`.
    pub fn to_json(&self) -> Vec<u8> {
        let details: usize = self
            .details
            .iter()
            .map(|detail| detail.field.len() + detail.message.len() + 32)
            .sum();
        let mut out = Vec::with_capacity(self.error_message.len() + details + 96);
        out.extend_from_slice(b"{\"error_code\":\"");
        out.extend_from_slice(self.error_code.as_str().as_bytes());
        out.extend_from_slice(b"\",\"error_message\":");
        write_json_string(&mut out, &self.error_message);
        for (index, detail) in self.details.iter().enumerate() {
            out.extend_from_slice(if index == 0 {
                b",\"details\":[{\"field\":"
            } else {
                b",{\"field\":"
            });
            write_json_string(&mut out, &detail.field);
            out.extend_from_slice(b",\"message\":");
            write_json_string(&mut out, &detail.message);
            out.push(b'}');
        }
        if !self.details.is_empty() {
            out.push(b']');
        }
        if self.details_omitted > 0 {
            out.extend_from_slice(b",\"details_omitted\":");
            out.extend_from_slice(itoa::Buffer::new().format(self.details_omitted).as_bytes());
        }
        out.push(b'}');
        out
    }
}

/// One refused field.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// An error with no field details; `message` is cut to [`MAX_TEXT_BYTES`].
    pub fn new(error_code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            body: ErrorBody {
                error_code,
                error_message: bounded(message.into()),
                details: Vec::new(),
                details_omitted: 0,
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

/// `text`, cut at a character boundary to at most [`MAX_TEXT_BYTES`] with `…` marking the cut.
fn bounded(mut text: String) -> String {
    const MARK: char = '…';
    if text.len() > MAX_TEXT_BYTES {
        let cut = text.floor_char_boundary(MAX_TEXT_BYTES - MARK.len_utf8());
        text.truncate(cut);
        text.push(MARK);
    }
    text
}

impl From<ValidationError> for ApiError {
    /// 400 `validation_failed`, bounded whatever the number of fields: the message names the
    /// first three, `details` lists the first [`MAX_DETAILS`].
    fn from(error: ValidationError) -> Self {
        let fields = error.fields();
        let details = fields
            .iter()
            .take(MAX_DETAILS)
            .map(|FieldError { field, message }| ErrorDetail {
                field: bounded(field.clone()),
                message: bounded(message.clone()),
            })
            .collect();
        let named: Vec<String> = fields
            .iter()
            .take(MAX_MESSAGE_FIELDS)
            .map(ToString::to_string)
            .collect();
        let mut message = format!("the payment is invalid: {}", named.join("; "));
        if let Some(more) = fields
            .len()
            .checked_sub(MAX_MESSAGE_FIELDS)
            .filter(|n| *n > 0)
        {
            message.push_str(&format!("; and {more} more"));
        }
        Self {
            body: ErrorBody {
                error_code: ErrorCode::ValidationFailed,
                error_message: bounded(message),
                details,
                details_omitted: fields.len().saturating_sub(MAX_DETAILS),
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

impl From<Forbidden> for ApiError {
    /// 403 `forbidden`: the organisation named is not one the caller acts for (it is the
    /// caller's own input, so naming it reveals nothing).
    fn from(error: Forbidden) -> Self {
        Self::new(ErrorCode::Forbidden, error.to_string())
    }
}

impl From<CommandError> for ApiError {
    fn from(error: CommandError) -> Self {
        match error {
            CommandError::Create(error) => error.into(),
            CommandError::Update(error) => error.into(),
            CommandError::Delete(error) => error.into(),
        }
    }
}

impl From<CreatePaymentError> for ApiError {
    fn from(error: CreatePaymentError) -> Self {
        match error {
            CreatePaymentError::Conflict { .. } => {
                Self::new(ErrorCode::PaymentExists, error.to_string())
            }
            CreatePaymentError::Forbidden(forbidden) => forbidden.into(),
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
            UpdatePaymentError::Forbidden(forbidden) => forbidden.into(),
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
            ListPaymentsError::Forbidden(forbidden) => forbidden.into(),
            ListPaymentsError::Storage(storage) => storage.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        response::json(self.status(), self.body.to_json())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(count: usize) -> ValidationError {
        ValidationError(
            (0..count)
                .map(|i| FieldError::new(format!("data.attributes.p[{i}].birth_date"), "bad"))
                .collect(),
        )
    }

    #[test]
    fn a_few_refused_fields_are_all_named_and_listed() {
        let body = ApiError::from(errors(2)).body().clone();
        assert_eq!(
            body.error_message,
            "the payment is invalid: data.attributes.p[0].birth_date: bad; \
             data.attributes.p[1].birth_date: bad"
        );
        assert_eq!(body.details.len(), 2);
        assert_eq!(body.details_omitted, 0);
    }

    #[test]
    fn many_refused_fields_are_listed_up_to_the_cap_and_counted_beyond_it() {
        let body = ApiError::from(errors(50_000)).body().clone();
        assert_eq!(body.details.len(), MAX_DETAILS);
        assert_eq!(body.details_omitted, 50_000 - MAX_DETAILS);
        assert_eq!(body.details[99].field, "data.attributes.p[99].birth_date");
        assert!(
            body.error_message
                .ends_with("p[2].birth_date: bad; and 49997 more"),
            "{}",
            body.error_message
        );
    }

    #[test]
    fn bodies_are_json_with_details_and_their_count_only_when_there_are_some() {
        let plain = ApiError::new(ErrorCode::NotFound, "payment \"x\" not found");
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&plain.body().to_json()).unwrap(),
            serde_json::json!({"error_code": "not_found", "error_message": "payment \"x\" not found"})
        );
        let many = ApiError::from(errors(MAX_DETAILS + 2));
        let value: serde_json::Value = serde_json::from_slice(&many.body().to_json()).unwrap();
        assert_eq!(value["error_code"], "validation_failed");
        assert_eq!(value["details"].as_array().unwrap().len(), MAX_DETAILS);
        assert_eq!(
            value["details"][1],
            serde_json::json!({"field": "data.attributes.p[1].birth_date", "message": "bad"})
        );
        assert_eq!(value["details_omitted"], 2);
    }

    #[test]
    fn long_texts_are_cut_at_a_character_boundary() {
        let key = "é".repeat(MAX_TEXT_BYTES);
        let error =
            ValidationError::single(FieldError::new(format!("data.{key}"), "is not a field"));
        let body = ApiError::from(error).body().clone();
        for text in [&body.error_message, &body.details[0].field] {
            assert!(text.len() <= MAX_TEXT_BYTES, "{}", text.len());
            assert!(text.ends_with('…'), "{text}");
        }
        let message = ApiError::invalid_query(key).body().error_message.clone();
        assert!(message.len() <= MAX_TEXT_BYTES && message.ends_with('…'));
    }
}
