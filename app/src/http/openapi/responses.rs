//! The documented responses of every operation: success bodies with their headers, and each
//! error status with the `error_code`s it carries, one example per code.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use serde_json::json;
use utoipa::openapi::example::ExampleBuilder;
use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{ContentBuilder, RefOr, Response, ResponseBuilder};
use utoipa::IntoResponses;

use super::examples;
use super::schemas::reference;
use crate::http::error_code::ErrorCode::{self, *};

/// Refusals every route can answer.
const EVERY_ROUTE: [ErrorCode; 3] = [MethodNotAllowed, InternalError, RequestTimeout];

/// Refusals answered for paths no route serves, documented as the component response
/// [`UNROUTED_RESPONSE`] since no operation has them.
pub const UNROUTED: [ErrorCode; 1] = [RouteNotFound];

/// The name of the component response for [`UNROUTED`] refusals.
pub const UNROUTED_RESPONSE: &str = "NoSuchRoute";

/// A response header holding text.
pub fn text_header(description: &str) -> Header {
    HeaderBuilder::new()
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .description(Some(description))
        .build()
}

/// The error responses for `codes` and [`EVERY_ROUTE`], one per status, each listing its codes.
fn errors(codes: &[ErrorCode]) -> BTreeMap<String, RefOr<Response>> {
    let mut by_status: BTreeMap<u16, Vec<ErrorCode>> = BTreeMap::new();
    for code in codes.iter().chain(&EVERY_ROUTE) {
        by_status
            .entry(code.status().as_u16())
            .or_default()
            .push(*code);
    }
    by_status
        .into_iter()
        .map(|(status, codes)| (status.to_string(), error_response(&codes).into()))
        .collect()
}

/// One error response listing `codes` (all of one status), with an example of each.
pub fn error_response(codes: &[ErrorCode]) -> Response {
    let description: Vec<String> = codes
        .iter()
        .map(|code| format!("`{}`: {}", code.as_str(), code.when()))
        .collect();
    let examples = codes.iter().map(|code| {
        let example = ExampleBuilder::new()
            .summary(code.when())
            .value(Some(json!({
                "error_code": code.as_str(),
                "error_message": code.example(),
            })));
        (code.as_str(), example)
    });
    let content = ContentBuilder::new()
        .schema(Some(reference("ErrorBody")))
        .examples_from_iter(examples)
        .build();
    let mut response = ResponseBuilder::new()
        .description(description.join("; "))
        .content("application/json", content);
    if codes
        .iter()
        .any(|code| matches!(code, Unauthenticated | InsufficientScope))
    {
        response = response.header(
            "WWW-Authenticate",
            text_header("The bearer challenge (RFC 6750), e.g. `Bearer realm=\"payment-server\", error=\"invalid_token\", error_description=\"the token has expired\"`."),
        );
    }
    if codes
        .iter()
        .any(|code| code.status() == StatusCode::SERVICE_UNAVAILABLE)
    {
        response = response.header(
            "Retry-After",
            text_header("Seconds to wait before retrying."),
        );
    }
    response.build()
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

const STORAGE: [ErrorCode; 1] = [StorageUnavailable];
/// Refusals of every `/v1/` operation with `--auth jwt`: no valid token, a token without the
/// operation's scope, a token holding no organisation (or, with a body or filter, not the one
/// named).
const AUTH: [ErrorCode; 3] = [Unauthenticated, InsufficientScope, Forbidden];
/// Refusals of writes: the storage in the synchronous write mode, the broker in the asynchronous.
const WRITE: [ErrorCode; 2] = [StorageUnavailable, BrokerUnavailable];

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
        errors(&[&[InvalidQuery][..], &AUTH, &STORAGE].concat()),
        [(200, json_success("A page of payments in ascending id order.", "PaymentListResponse", examples::list_response(), &[]))],
    );
    /// `POST /v1/payments`.
    CreatePayment => with(
        errors(&[&[InvalidJson, InvalidBody, ValidationFailed, PaymentExists, PayloadTooLarge, UnsupportedMediaType, UnsupportedTransferCoding][..], &AUTH, &WRITE].concat()),
        [
            accepted(),
            (201, json_success("Created.", "PaymentResponse", examples::payment_response(), &[LOCATION, ETAG])),
            (200, json_success("An identical payment with this id already exists (a safe retry); it is returned unchanged.", "PaymentResponse", examples::payment_response(), &[ETAG])),
        ],
    );
    /// `GET /v1/payments/{id}`.
    GetPayment => with(
        errors(&[&[InvalidId, NotFound][..], &AUTH, &STORAGE].concat()),
        [(200, json_success("The payment.", "PaymentResponse", examples::payment_response(), &[ETAG]))],
    );
    /// `PUT /v1/payments/{id}`.
    UpdatePayment => with(
        errors(&[&[InvalidId, InvalidHeader, InvalidJson, InvalidBody, ValidationFailed, IdMismatch, NotFound, VersionConflict, VersionExhausted, PreconditionFailed, PayloadTooLarge, UnsupportedMediaType, UnsupportedTransferCoding][..], &AUTH, &WRITE].concat()),
        [accepted(), (200, json_success("Updated; the version went up by one.", "PaymentResponse", examples::updated_response(), &[ETAG]))],
    );
    /// `DELETE /v1/payments/{id}`.
    DeletePayment => with(
        errors(&[&[InvalidId, InvalidQuery, NotFound, VersionConflict][..], &AUTH, &WRITE].concat()),
        [accepted(), (204, ResponseBuilder::new().description("Deleted.").build().into())],
    );
    /// `GET /v1/payment-commands/{id}`.
    GetCommand => with(
        errors(&[&[InvalidId, NotFound][..], &AUTH, &STORAGE].concat()),
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
