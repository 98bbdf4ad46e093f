//! Request documents turned into domain values, here and nowhere else (responses are written by
//! [`super::body`]).

use domain::{
    FieldError, OrganisationId, PaymentContent, PaymentId, ValidationError, Version, PAYMENT_TYPE,
};
use serde_json::{Map, Value};

use super::error::ApiError;
use super::json::PaymentDocument;

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
