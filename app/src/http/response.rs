//! Building responses: every JSON answer, payments and refusals alike, leaves through [`json`],
//! so the headers every answer of a kind carries are set in one place.

use axum::body::Body;
use axum::http::header::{CONTENT_TYPE, ETAG, LOCATION, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use domain::{ListQuery, Payment, PaymentId, Version};

use super::body::{list_body, payment_body};
use super::links::Links;

/// Seconds a client should wait before retrying a 503.
const RETRY_AFTER_SECONDS: HeaderValue = HeaderValue::from_static("1");

/// A response whose body is `bytes`, which hold JSON; a 503 carries `Retry-After`.
pub fn json(status: StatusCode, bytes: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if status == StatusCode::SERVICE_UNAVAILABLE {
        headers.insert(RETRY_AFTER, RETRY_AFTER_SECONDS);
    }
    response
}

/// A single-payment response with its `ETag` (and `Location` when `status` is 201 Created).
pub fn payment(status: StatusCode, payment: &Payment, links: &Links) -> Response {
    let self_link = links.payment(payment.id());
    let mut response = json(status, payment_body(payment, &self_link, links.are_plain()));
    let headers = response.headers_mut();
    headers.insert(ETAG, etag(payment.version()));
    if status == StatusCode::CREATED {
        if let Ok(location) = HeaderValue::from_str(&self_link) {
            headers.insert(LOCATION, location);
        }
    }
    response
}

/// A page of payments (200) for `query`, linking to itself and, when `next_after` says more
/// follow, to the next page.
pub fn page(
    payments: &[Payment],
    query: &ListQuery,
    next_after: Option<PaymentId>,
    links: &Links,
) -> Response {
    let self_link = links.page(query);
    let next = next_after.map(|after| {
        links.page(&ListQuery {
            after: Some(after),
            ..*query
        })
    });
    let body = list_body(payments, &self_link, next.as_deref(), links.are_plain());
    json(StatusCode::OK, body)
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
