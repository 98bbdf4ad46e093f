//! The documented parameters, grouped per route as `#[utoipa::path(params(...))]` takes them.

use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::Required;
use utoipa::IntoParams;

use super::examples::{ORGANISATION_ID, PAYMENT_ID};
use super::schemas::parameters::{page_size, uuid, version};
use crate::http::middleware::request_id::MAX_REQUEST_ID_LEN;

fn parameter(name: &str, place: ParameterIn, required: bool) -> ParameterBuilder {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(place)
        .required(if required {
            Required::True
        } else {
            Required::False
        })
}

/// The `{id}` path segment.
pub struct PaymentIdParam;

impl IntoParams for PaymentIdParam {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![parameter("id", ParameterIn::Path, true)
            .description(Some(
                "The payment id (a UUID); anything else is 400 `invalid_id`.",
            ))
            .schema(Some(uuid()))
            .example(Some(PAYMENT_ID.into()))
            .build()]
    }
}

/// The list query: filter and paging.
pub struct ListParams;

impl IntoParams for ListParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![
            parameter("filter[organisation_id]", ParameterIn::Query, false)
                .description(Some("Only this organisation's payments."))
                .schema(Some(uuid()))
                .example(Some(ORGANISATION_ID.into()))
                .build(),
            parameter("page[size]", ParameterIn::Query, false)
                .description(Some("Payments per page."))
                .schema(Some(page_size()))
                .build(),
            parameter("page[after]", ParameterIn::Query, false)
                .description(Some(
                    "Only payments whose id sorts after this one: the last id of the previous \
                     page. Follow `links.next` rather than building it.",
                ))
                .schema(Some(uuid()))
                .build(),
        ]
    }
}

/// `DELETE`'s optional version check.
pub struct DeleteParams;

impl IntoParams for DeleteParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![parameter("version", ParameterIn::Query, false)
            .description(Some(
                "Delete only if this is the stored version (else 409 `version_conflict`).",
            ))
            .schema(Some(version()))
            .build()]
    }
}

/// `PUT`'s optional `If-Match` precondition.
pub struct IfMatchParam;

impl IntoParams for IfMatchParam {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![parameter("If-Match", ParameterIn::Header, false)
            .description(Some(
                "The version you last read as an entity tag, e.g. `\"3\"` (the `ETag` you got), \
                 or `*` for any. A mismatch is 412 `precondition_failed`.",
            ))
            .schema(Some(super::schemas::parameters::if_match()))
            .build()]
    }
}

/// The optional `x-request-id` every route honours.
pub fn request_id() -> Parameter {
    parameter("x-request-id", ParameterIn::Header, false)
        .description(Some(format!(
            "Your id for this request, echoed in the response and written in the server's \
             logs: 1 to {MAX_REQUEST_ID_LEN} visible ASCII characters; anything else is \
             replaced by a generated UUID."
        )))
        .schema(Some(super::schemas::parameters::request_id()))
        .build()
}

/// The `{id}` path segment of a command.
pub struct CommandIdParam;

impl IntoParams for CommandIdParam {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![parameter("id", ParameterIn::Path, true)
            .description(Some(
                "The command id (a UUID, from a 202's `Location`); anything else is 400 `invalid_id`.",
            ))
            .schema(Some(uuid()))
            .example(Some(PAYMENT_ID.into()))
            .build()]
    }
}

/// `Prefer: wait=N` (RFC 7240) on an asynchronous write.
pub struct PreferParam;

impl IntoParams for PreferParam {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![parameter("Prefer", ParameterIn::Header, false)
            .description(Some(
                "With the asynchronous write mode, `wait=N` waits up to N seconds (capped by the \
                 request timeout) for the outcome and answers what the synchronous API would \
                 have answered; otherwise 202. Ignored in the synchronous write mode.",
            ))
            .schema(Some(super::schemas::parameters::request_id()))
            .example(Some("wait=5".into()))
            .build()]
    }
}
