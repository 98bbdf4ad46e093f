//! The documented responses of every operation: success bodies with their headers, and each
//! error status with the `error_code`s it carries, one example per code.

use std::collections::BTreeMap;

use serde_json::json;
use utoipa::openapi::example::ExampleBuilder;
use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{ContentBuilder, RefOr, Response, ResponseBuilder};
use utoipa::IntoResponses;

use super::examples;
use super::schemas::reference;

/// One refusal: its status, code, when it happens, and an example message.
#[derive(Debug, Clone, Copy)]
pub struct ErrorCase {
    /// The HTTP status.
    pub status: u16,
    /// The `error_code`.
    pub code: &'static str,
    /// When it is answered.
    pub when: &'static str,
    /// An example `error_message`.
    pub message: &'static str,
}

macro_rules! error_cases {
    ($($name:ident = $status:literal, $code:literal, $when:literal, $message:literal;)+) => {
        $(
            #[doc = concat!("`", $code, "`: ", $when)]
            pub const $name: ErrorCase =
                ErrorCase { status: $status, code: $code, when: $when, message: $message };
        )+
    };
}

error_cases! {
    INVALID_JSON = 400, "invalid_json", "the body is not one JSON document we accept (malformed, duplicate keys, `$`/`.` keys, too deep, integers beyond 64 bits)", "the body is not accepted JSON: duplicate key \"amount\"";
    INVALID_BODY = 400, "invalid_body", "the body could not be read", "Failed to buffer the request body";
    VALIDATION_FAILED = 400, "validation_failed", "a field breaks a rule; `details` lists each", "the payment is invalid: data.attributes.amount: must be greater than zero";
    INVALID_ID = 400, "invalid_id", "the path id is not a UUID", "payment id \"42\" is not a UUID";
    ID_MISMATCH = 400, "id_mismatch", "`data.id` differs from the path id", "data.id 0b9c... does not match the payment id 4ee3... in the path";
    INVALID_QUERY = 400, "invalid_query", "a query parameter is malformed, out of range, unknown or repeated", "page[size] must be between 1 and 1000";
    INVALID_HEADER = 400, "invalid_header", "`If-Match` is not one entity tag or `*`", "If-Match must be one entity tag such as \"3\" (the payment version) or *";
    NOT_FOUND = 404, "not_found", "no payment has this id", "payment 4ee3a8d8-ca7b-4290-a52c-dd5b6165ec43 not found";
    METHOD_NOT_ALLOWED = 405, "method_not_allowed", "the path does not support the method used; `Allow` lists those it does", "this route does not support this method";
    PAYMENT_EXISTS = 409, "payment_exists", "a payment with this id exists with other content", "payment 4ee3a8d8-ca7b-4290-a52c-dd5b6165ec43 already exists with different content";
    VERSION_CONFLICT = 409, "version_conflict", "the version sent is not the stored one: re-read and retry", "version conflict: expected 0, stored version is 1";
    VERSION_EXHAUSTED = 409, "version_exhausted", "the payment is at the highest version and cannot change", "payment 4ee3a8d8-ca7b-4290-a52c-dd5b6165ec43 has reached the highest version";
    PRECONDITION_FAILED = 412, "precondition_failed", "`If-Match` does not match the stored version", "precondition failed: If-Match 0, stored version is 1";
    PAYLOAD_TOO_LARGE = 413, "payload_too_large", "the body is larger than the server accepts", "the request body is larger than this server accepts";
    UNSUPPORTED_MEDIA_TYPE = 415, "unsupported_media_type", "the body is not sent as `application/json`", "send the body as JSON with Content-Type: application/json";
    INTERNAL_ERROR = 500, "internal_error", "a bug; the log has the details under the request id", "the server failed to process the request; it has been logged";
    STORAGE_UNAVAILABLE = 503, "storage_unavailable", "the storage is unreachable or too slow", "the payment storage is temporarily unavailable; retry later";
    BROKER_UNAVAILABLE = 503, "broker_unavailable", "asynchronous write mode: the command broker did not acknowledge in time (never a 202 for a command not in the log)", "the command broker did not acknowledge the write in time; retry later";
    REQUEST_TIMEOUT = 503, "request_timeout", "the request took longer than the server allows", "the request took longer than this server allows; retry later";
}

/// Refusals every route can answer.
const EVERY_ROUTE: [ErrorCase; 3] = [METHOD_NOT_ALLOWED, INTERNAL_ERROR, REQUEST_TIMEOUT];

/// A response header holding text.
pub fn text_header(description: &str) -> Header {
    HeaderBuilder::new()
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .description(Some(description))
        .build()
}

/// The error responses for `cases`, one per status, each listing its codes.
fn errors(cases: &[ErrorCase]) -> BTreeMap<String, RefOr<Response>> {
    let mut by_status: BTreeMap<u16, Vec<ErrorCase>> = BTreeMap::new();
    for case in cases.iter().chain(&EVERY_ROUTE) {
        by_status.entry(case.status).or_default().push(*case);
    }
    by_status
        .into_iter()
        .map(|(status, cases)| {
            let codes: Vec<String> = cases
                .iter()
                .map(|case| format!("`{}`: {}", case.code, case.when))
                .collect();
            let examples = cases.iter().map(|case| {
                let example = ExampleBuilder::new().summary(case.when).value(Some(json!({
                    "error_code": case.code,
                    "error_message": case.message,
                })));
                (case.code, example)
            });
            let content = ContentBuilder::new()
                .schema(Some(reference("ErrorBody")))
                .examples_from_iter(examples)
                .build();
            let mut response = ResponseBuilder::new()
                .description(codes.join("; "))
                .content("application/json", content);
            if status == 503 {
                response = response.header(
                    "Retry-After",
                    text_header("Seconds to wait before retrying."),
                );
            }
            (status.to_string(), response.build().into())
        })
        .collect()
}

/// A JSON success response with `schema`, an example, and `headers`.
fn json_success(
    description: &str,
    schema: &str,
    example: serde_json::Value,
    headers: &[(&str, &str)],
) -> RefOr<Response> {
    let content = ContentBuilder::new()
        .schema(Some(reference(schema)))
        .example(Some(example))
        .build();
    headers
        .iter()
        .fold(
            ResponseBuilder::new()
                .description(description)
                .content("application/json", content),
            |response, (name, description)| response.header(*name, text_header(description)),
        )
        .build()
        .into()
}

const ETAG: (&str, &str) = (
    "ETag",
    "The payment's version as an entity tag, e.g. `\"0\"`.",
);
const LOCATION: (&str, &str) = ("Location", "The new payment's URL.");

macro_rules! operation_responses {
    ($($(#[$doc:meta])* $name:ident => $build:expr;)+) => {
        $(
            $(#[$doc])*
            pub struct $name;

            impl IntoResponses for $name {
                fn responses() -> BTreeMap<String, RefOr<Response>> {
                    $build
                }
            }
        )+
    };
}

fn with(
    mut responses: BTreeMap<String, RefOr<Response>>,
    successes: impl IntoIterator<Item = (u16, RefOr<Response>)>,
) -> BTreeMap<String, RefOr<Response>> {
    responses.extend(successes.into_iter().map(|(s, r)| (s.to_string(), r)));
    responses
}

const STORAGE: [ErrorCase; 1] = [STORAGE_UNAVAILABLE];
/// Refusals of writes: the storage in the synchronous write mode, the broker in the asynchronous.
const WRITE: [ErrorCase; 2] = [STORAGE_UNAVAILABLE, BROKER_UNAVAILABLE];

/// 202: the asynchronous write mode accepted the write as a command.
fn accepted() -> (u16, RefOr<Response>) {
    (
        202,
        json_success(
            "Asynchronous write mode: the write is a command in the log, applied in order per organisation; its status resource (`Location`) ends `applied` or `rejected` with the answer the synchronous API would have given.",
            "PaymentCommandResponse",
            examples::command_response(),
            &[
                ("Location", "The command's status resource, `/v1/payment-commands/{id}`."),
                ("Retry-After", "Seconds to wait before reading the status."),
            ],
        ),
    )
}

operation_responses! {
    /// `GET /v1/payments`.
    ListPayments => with(
        errors(&[&[INVALID_QUERY][..], &STORAGE].concat()),
        [(200, json_success("A page of payments in ascending id order.", "PaymentListResponse", examples::list_response(), &[]))],
    );
    /// `POST /v1/payments`.
    CreatePayment => with(
        errors(&[&[INVALID_JSON, INVALID_BODY, VALIDATION_FAILED, PAYMENT_EXISTS, PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE][..], &WRITE].concat()),
        [
            accepted(),
            (201, json_success("Created.", "PaymentResponse", examples::payment_response(), &[LOCATION, ETAG])),
            (200, json_success("An identical payment with this id already exists (a safe retry); it is returned unchanged.", "PaymentResponse", examples::payment_response(), &[ETAG])),
        ],
    );
    /// `GET /v1/payments/{id}`.
    GetPayment => with(
        errors(&[&[INVALID_ID, NOT_FOUND][..], &STORAGE].concat()),
        [(200, json_success("The payment.", "PaymentResponse", examples::payment_response(), &[ETAG]))],
    );
    /// `PUT /v1/payments/{id}`.
    UpdatePayment => with(
        errors(&[&[INVALID_ID, INVALID_HEADER, INVALID_JSON, INVALID_BODY, VALIDATION_FAILED, ID_MISMATCH, NOT_FOUND, VERSION_CONFLICT, VERSION_EXHAUSTED, PRECONDITION_FAILED, PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE][..], &WRITE].concat()),
        [accepted(), (200, json_success("Updated; the version went up by one.", "PaymentResponse", examples::updated_response(), &[ETAG]))],
    );
    /// `DELETE /v1/payments/{id}`.
    DeletePayment => with(
        errors(&[&[INVALID_ID, INVALID_QUERY, NOT_FOUND, VERSION_CONFLICT][..], &WRITE].concat()),
        [accepted(), (204, ResponseBuilder::new().description("Deleted.").build().into())],
    );
    /// `GET /v1/payment-commands/{id}`.
    GetCommand => with(
        errors(&[&[INVALID_ID, NOT_FOUND][..], &STORAGE].concat()),
        [(200, json_success("The command's status.", "PaymentCommandResponse", examples::command_response(), &[]))],
    );
    /// `GET /health/live`.
    Live => with(
        errors(&[]),
        [(200, json_success("The process serves HTTP.", "Liveness", json!({"status": "ok"}), &[]))],
    );
    /// `GET /health/ready`.
    Ready => with(
        errors(&WRITE),
        [(200, json_success("The storage answers: send traffic.", "Readiness", json!({"status": "ready"}), &[]))],
    );
    /// `GET /metrics`.
    Metrics => with(
        errors(&[]),
        [(200, ResponseBuilder::new()
            .description("Every metric in the Prometheus text exposition format.")
            .content(
                crate::metrics::Metrics::content_type(),
                ContentBuilder::new().schema(Some(ObjectBuilder::new().schema_type(Type::String))).build(),
            )
            .build()
            .into())],
    );
    /// `GET /openapi.json`.
    Document => with(
        errors(&[]),
        [(200, ResponseBuilder::new()
            .description("This document.")
            .content(
                "application/json",
                ContentBuilder::new().schema(Some(ObjectBuilder::new().schema_type(Type::Object))).build(),
            )
            .build()
            .into())],
    );
}
