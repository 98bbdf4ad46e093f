//! Extractors whose every rejection is an [`ApiError`], so clients always get our error body.

use std::collections::HashSet;

use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::header::{CONTENT_ENCODING, CONTENT_TYPE, IF_MATCH, TRANSFER_ENCODING};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use domain::{PaymentId, Version};

use super::error::ApiError;
use super::error_code::ErrorCode;
use super::json::{parse_payment_document, PaymentDocument};
use super::middleware::body_limit::{read_limited, BodyError};
use super::state::AppState;

/// A request body that is one strictly parsed payment request document (see
/// [`parse_payment_document`]).
#[derive(Debug)]
pub struct JsonDocument(pub PaymentDocument);

impl FromRequest<AppState> for JsonDocument {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        check_content_type(request.headers())?;
        check_codings(request.headers())?;
        let bytes = read_limited(request.into_body(), state.limits.max_body_bytes)
            .await
            .map_err(|error| match error {
                BodyError::TooLarge => ApiError::payload_too_large(),
                BodyError::Unreadable(cause) => ApiError::new(
                    ErrorCode::InvalidBody,
                    format!("the request body could not be read: {cause}"),
                ),
            })?;
        parse_payment_document(&bytes)
            .map(JsonDocument)
            .map_err(|reason| {
                ApiError::invalid_json(format!("the body is not accepted JSON: {reason}"))
            })
    }
}

/// Refuses bodies whose codings we do not decode, which we would otherwise read differently from
/// a party that does: a `Content-Encoding` other than `identity` (415), and a `Transfer-Encoding`
/// other than `chunked` (501, as RFC 9112 asks; hyper removes `chunked` but passes any other
/// coding through undecoded).
fn check_codings(headers: &HeaderMap) -> Result<(), ApiError> {
    let only = |name, allowed: &str| {
        headers.get_all(name).iter().all(|value| {
            value.to_str().is_ok_and(|text| {
                text.split(',')
                    .map(str::trim)
                    .all(|coding| coding.is_empty() || coding.eq_ignore_ascii_case(allowed))
            })
        })
    };
    if !only(CONTENT_ENCODING, "identity") {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "Content-Encoding is not supported: send the body uncompressed",
        ));
    }
    if !only(TRANSFER_ENCODING, "chunked") {
        return Err(ApiError::new(
            ErrorCode::UnsupportedTransferCoding,
            "Transfer-Encoding other than chunked is not supported",
        ));
    }
    Ok(())
}

/// Accepts `application/json` and `application/*+json`, with or without parameters.
fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let unsupported = || {
        ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "send the body as JSON with Content-Type: application/json",
        )
    };
    let value = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .ok_or_else(unsupported)?;
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let is_json = essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"));
    is_json.then_some(()).ok_or_else(unsupported)
}

/// The `{id}` path segment, parsed as a payment id.
#[derive(Debug, Clone, Copy)]
pub struct PaymentPath(pub PaymentId);

impl<S: Send + Sync> FromRequestParts<S> for PaymentPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(text) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| ApiError::new(ErrorCode::InvalidId, rejection.body_text()))?;
        PaymentId::parse(&text)
            .map(PaymentPath)
            .map_err(|_| ApiError::invalid_id(&text))
    }
}

/// The version named by an `If-Match` header: `None` without the header or for `*`.
#[derive(Debug, Clone, Copy)]
pub struct IfMatch(pub Option<Version>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let invalid = || {
            ApiError::invalid_header(
                "If-Match must be one entity tag such as \"3\" (the payment version) or *",
            )
        };
        let mut values = parts.headers.get_all(IF_MATCH).iter();
        let Some(value) = values.next() else {
            return Ok(IfMatch(None));
        };
        // Several headers are a list of tags, which we refuse like a comma-separated list:
        // ignoring them would drop the client's precondition and let the write through.
        if values.next().is_some() {
            return Err(invalid());
        }
        let text = value.to_str().map_err(|_| invalid())?.trim();
        if text == "*" {
            return Ok(IfMatch(None));
        }
        // Entity tags compare as strings, so only the ETag's own spelling of a version matches:
        // no leading zeros (`"007"` is not `"7"`). At most 18 digits, as the API document says,
        // which keeps every tag within `Version::MAX` (10^18 updates are out of reach).
        let version = text
            .strip_prefix('"')
            .and_then(|rest| rest.strip_suffix('"'))
            .filter(|digits| is_canonical_version(digits))
            .and_then(|digits| digits.parse::<u64>().ok())
            .and_then(|number| Version::new(number).ok())
            .ok_or_else(invalid)?;
        Ok(IfMatch(Some(version)))
    }
}

/// Whether `digits` is a version as an `ETag` writes it: 1 to 18 digits, no leading zero.
fn is_canonical_version(digits: &str) -> bool {
    (1..=MAX_IF_MATCH_DIGITS).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
}

/// The longest version an `If-Match` may name, in digits.
const MAX_IF_MATCH_DIGITS: usize = 18;

/// The query string as decoded `(name, value)` pairs, refusing repeated names; in time linear in
/// the query's length, however many names a client sends.
pub fn query_pairs(raw: Option<&str>) -> Result<Vec<(String, String)>, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.unwrap_or_default())
        .map_err(|e| ApiError::invalid_query(format!("the query string is malformed: {e}")))?;
    let mut seen = HashSet::with_capacity(pairs.len());
    if let Some((name, _)) = pairs.iter().find(|(name, _)| !seen.insert(name.as_str())) {
        return Err(ApiError::invalid_query(format!(
            "query parameter {name:?} is repeated"
        )));
    }
    Ok(pairs)
}

/// Parses a non-negative integer query parameter.
pub fn query_integer(name: &str, value: &str) -> Result<u64, ApiError> {
    value.parse::<u64>().map_err(|_| {
        ApiError::invalid_query(format!(
            "{name} must be a non-negative integer, got {value:?}"
        ))
    })
}
