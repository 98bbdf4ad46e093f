//! Wire DTOs: the JSON shapes of requests and responses, converted to and from domain types here
//! and nowhere else.

use axum::body::Body;
use axum::http::header::{CONTENT_TYPE, ETAG, LOCATION};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::{
    FieldError, OrganisationId, Payment, PaymentAttributes, PaymentContent, PaymentId,
    ValidationError, Version, PAYMENT_TYPE,
};
use serde::Serialize;
use serde_json::{Map, Value};

use super::body;
use super::error::ApiError;
use super::json::PaymentDocument;
use super::links::Links;

/// The fields of `data` a request may carry.
const DATA_FIELDS: [&str; 5] = ["type", "id", "version", "organisation_id", "attributes"];

/// A parsed `{"data": {...}}` request document.
#[derive(Debug)]
pub struct PaymentRequest {
    /// `data.id`, if sent.
    pub id: Option<PaymentId>,
    /// `data.version`, if sent.
    pub version: Option<Version>,
    /// `data.organisation_id` and `data.attributes`.
    pub content: PaymentContent,
}

/// Turns a request document into domain values, reporting every invalid field at once.
pub fn parse_payment_request(document: PaymentDocument) -> Result<PaymentRequest, ApiError> {
    let mut data = match document.envelope {
        Value::Object(mut body) => match body.remove("data") {
            Some(Value::Object(data)) if body.is_empty() => data,
            Some(Value::Object(_)) => {
                return Err(single("", "the document may hold only \"data\""));
            }
            Some(_) => return Err(single("data", "must be an object")),
            None => return Err(single("data", "is required")),
        },
        _ => return Err(single("", "the document must be an object")),
    };
    let mut errors = Vec::new();
    for key in data
        .keys()
        .filter(|key| !DATA_FIELDS.contains(&key.as_str()))
    {
        errors.push(FieldError::new(
            format!("data.{key}"),
            "is not a field of a payment",
        ));
    }
    match data.remove("type") {
        None | Some(Value::Null) => {}
        Some(Value::String(kind)) if kind == PAYMENT_TYPE => {}
        Some(_) => errors.push(FieldError::new("data.type", "must be \"payments\"")),
    }
    let id = optional(&mut data, "id", &mut errors, |value| match value {
        Value::String(text) => PaymentId::parse(&text),
        _ => Err(FieldError::new("", "must be a UUID string")),
    });
    let version = optional(
        &mut data,
        "version",
        &mut errors,
        |value| match whole_number(&value) {
            Some(number) => Version::new(number),
            None => Err(FieldError::new("", "must be a non-negative integer")),
        },
    );
    let organisation_id = required(
        &mut data,
        "organisation_id",
        &mut errors,
        |value| match value {
            Value::String(text) => OrganisationId::parse(&text),
            _ => Err(FieldError::new("", "must be a UUID string")),
        },
    );
    let attributes = match document.attributes {
        Some(read) => read
            .map_err(|e| errors.extend(e.under("data.attributes").0))
            .ok(),
        None => {
            errors.push(FieldError::new("data.attributes", "is required"));
            None
        }
    };
    match (organisation_id, attributes) {
        (Some(organisation_id), Some(attributes)) if errors.is_empty() => Ok(PaymentRequest {
            id,
            version,
            content: PaymentContent {
                organisation_id,
                attributes,
            },
        }),
        _ => Err(ValidationError(errors).into()),
    }
}

/// A non-negative whole number, written as an integer or as a number with a zero fraction:
/// JSON Schema's `integer`, which the API document uses, includes `3.0`.
fn whole_number(value: &Value) -> Option<u64> {
    value.as_u64().or_else(|| {
        value
            .as_f64()
            .filter(|number| *number >= 0.0 && number.fract() == 0.0 && *number < 2f64.powi(64))
            // Exact: a whole f64 below 2^64 converts without rounding.
            .map(|number| number as u64)
    })
}

fn single(field: &str, message: &str) -> ApiError {
    ValidationError::single(FieldError::new(field, message)).into()
}

fn optional<T>(
    data: &mut Map<String, Value>,
    name: &str,
    errors: &mut Vec<FieldError>,
    parse: impl FnOnce(Value) -> Result<T, FieldError>,
) -> Option<T> {
    match data.remove(name) {
        None | Some(Value::Null) => None,
        Some(value) => parse(value)
            .map_err(|e| errors.push(e.under(&format!("data.{name}"))))
            .ok(),
    }
}

fn required<T>(
    data: &mut Map<String, Value>,
    name: &str,
    errors: &mut Vec<FieldError>,
    parse: impl FnOnce(Value) -> Result<T, FieldError>,
) -> Option<T> {
    if matches!(data.get(name), None | Some(Value::Null)) {
        errors.push(FieldError::new(format!("data.{name}"), "is required"));
        return None;
    }
    optional(data, name, errors, parse)
}

/// A payment as it appears in responses: the shape [`super::body`] writes directly (serialize
/// this where speed does not matter).
#[derive(Debug, Serialize)]
pub struct PaymentResource<'a> {
    /// Always `payments`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The id.
    pub id: String,
    /// The version.
    pub version: u64,
    /// The owner.
    pub organisation_id: String,
    /// The attributes, unmodelled fields included.
    pub attributes: &'a PaymentAttributes,
}

impl<'a> From<&'a Payment> for PaymentResource<'a> {
    fn from(payment: &'a Payment) -> Self {
        Self {
            kind: PAYMENT_TYPE,
            id: payment.id().to_string(),
            version: payment.version().value(),
            organisation_id: payment.organisation_id().to_string(),
            attributes: payment.attributes(),
        }
    }
}

/// `links` of a single-payment response.
#[derive(Debug, Serialize)]
pub struct SelfLink<'a> {
    /// The payment's own URL.
    #[serde(rename = "self")]
    pub self_link: &'a str,
}

/// `links` of a list response.
#[derive(Debug, Serialize)]
pub struct PageLinks {
    /// This page.
    #[serde(rename = "self")]
    pub self_link: String,
    /// The next page, present exactly when more payments remain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// A response with a JSON body serialized once.
pub fn json_response(status: StatusCode, body: &impl Serialize) -> Response {
    json_bytes_response(status, serde_json::to_vec(body))
}

/// A response with an already written JSON body, or a 500 if writing it failed.
pub fn json_bytes_response(status: StatusCode, body: serde_json::Result<Vec<u8>>) -> Response {
    match body {
        Ok(bytes) => json_body(status, bytes),
        Err(error) => {
            tracing::error!(%error, "response serialization failed");
            ApiError::internal().into_response()
        }
    }
}

/// A response whose body is `bytes`, which hold JSON.
fn json_body(status: StatusCode, bytes: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// A single-payment response with its `ETag` (and `Location` when `created`).
pub fn payment_response(status: StatusCode, payment: &Payment, links: &Links) -> Response {
    let self_link = links.payment(payment.id());
    let mut response = json_body(
        status,
        body::payment_body(payment, &self_link, links.are_plain()),
    );
    let headers = response.headers_mut();
    headers.insert(ETAG, etag(payment.version()));
    if status == StatusCode::CREATED {
        if let Ok(location) = HeaderValue::from_str(&self_link) {
            headers.insert(LOCATION, location);
        }
    }
    response
}

/// The `ETag` of a payment at `version`: the version, quoted.
fn etag(version: Version) -> HeaderValue {
    let mut digits = itoa::Buffer::new();
    let mut text = Vec::with_capacity(22);
    text.push(b'"');
    text.extend_from_slice(digits.format(version.value()).as_bytes());
    text.push(b'"');
    // Digits between quotes are always a valid header value.
    HeaderValue::from_bytes(&text).unwrap_or_else(|_| HeaderValue::from_static("\"\""))
}
