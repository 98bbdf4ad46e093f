//! The HTTP side of asynchronous writes: publish a validated write as a command and answer 202
//! Accepted with the command resource, or, with `Prefer: wait=N`, the synchronous answer once
//! the outcome is known.

use std::time::Duration;

use axum::http::header::{LOCATION, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::{
    CommandBody, CommandOutcome, CommandRecord, CommandStatus, Payment, PaymentCommand, Timestamp,
};
use serde_json::{json, Map, Value};

use crate::auth::Caller;
use crate::commands::{AsyncWrites, PublishError};
use crate::http::error::ApiError;
use crate::http::error_code::ErrorCode;
use crate::http::links::Links;
use crate::http::middleware::context;
use crate::http::response;
use crate::telemetry::timestamp;

/// The resource type of a command.
pub const COMMAND_TYPE: &str = "payment_commands";
/// Seconds a client should wait before reading a command's status again.
const RETRY_AFTER_SECONDS: &str = "1";

/// The command a write of `caller` becomes: a fresh id (from `writes`' current page), the
/// request id, accepted now, applied with the caller's access.
pub fn command(
    writes: &AsyncWrites,
    caller: &Caller,
    payment_id: domain::PaymentId,
    organisation_id: domain::OrganisationId,
    body: CommandBody,
) -> PaymentCommand {
    PaymentCommand {
        id: writes.command_id(),
        payment_id,
        organisation_id,
        accepted_at: Timestamp::now(),
        request_id: context::current().map(|context| context.request_id().to_owned()),
        subject: caller.subject.as_deref().map(str::to_owned),
        access: caller.access.clone(),
        body,
    }
}

/// Publishes `command`; answers 202 with the command resource, or what the synchronous API
/// would have answered when `headers` ask to wait (`Prefer: wait=N`) and the outcome comes in
/// time.
pub async fn accept(
    writes: &AsyncWrites,
    links: &Links,
    headers: &HeaderMap,
    command: PaymentCommand,
) -> Result<Response, ApiError> {
    writes
        .publish(&command)
        .await
        .map_err(|error| match error {
            PublishError::Unavailable(cause) => {
                tracing::warn!(%cause, command_id = %command.id, "broker unavailable");
                ApiError::new(
                    ErrorCode::BrokerUnavailable,
                    "the command broker did not acknowledge the write in time; retry later",
                )
            }
            PublishError::TooLarge(cause) => {
            tracing::info!(%cause, command_id = %command.id, "command too large for the broker");
            ApiError::new(
                ErrorCode::PayloadTooLarge,
                "the payment is larger than the command broker accepts",
            )
        }
        PublishError::Refused(cause) => {
                tracing::error!(%cause, command_id = %command.id, "broker refused a command");
                ApiError::internal()
            }
        })?;
    if let Some(wait) = prefer_wait(headers, writes.longest_wait()) {
        if let Some(record) = writes.wait_for(command.id, wait).await {
            return Ok(synchronous_answer(&record, &command, links));
        }
    }
    let mut response = command_response(&command.accepted_record(), links);
    *response.status_mut() = StatusCode::ACCEPTED;
    let headers = response.headers_mut();
    if let Ok(location) = HeaderValue::from_str(&links.command(command.id)) {
        headers.insert(LOCATION, location);
    }
    headers.insert(RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECONDS));
    Ok(response)
}

/// The wait a `Prefer: wait=N` header asks for (RFC 7240), at most `cap`; `None` without one.
/// Malformed preferences are ignored, as the RFC asks.
pub fn prefer_wait(headers: &HeaderMap, cap: Duration) -> Option<Duration> {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|preference| {
            let first = preference.split(';').next()?.trim();
            let (name, value) = first.split_once('=')?;
            (name.trim().eq_ignore_ascii_case("wait"))
                .then(|| value.trim().trim_matches('"').parse::<u64>().ok())?
        })
        .map(|seconds| Duration::from_secs(seconds).min(cap))
        .next()
}

/// Exactly what the synchronous API answers for the write `command` whose outcome `record`
/// holds.
pub fn synchronous_answer(
    record: &CommandRecord,
    command: &PaymentCommand,
    links: &Links,
) -> Response {
    let written = |status: StatusCode, version| match &command.body {
        CommandBody::Create { content } | CommandBody::Update { content, .. } => {
            let payment = Payment::new(
                command.payment_id,
                version,
                content.organisation_id,
                content.attributes.clone(),
            );
            response::payment(status, &payment, links)
        }
        // A delete has no payment to show.
        CommandBody::Delete { .. } => StatusCode::NO_CONTENT.into_response(),
    };
    match record.outcome() {
        Some(CommandOutcome::Created { version }) => written(StatusCode::CREATED, *version),
        Some(CommandOutcome::AlreadyCreated { version } | CommandOutcome::Updated { version }) => {
            written(StatusCode::OK, *version)
        }
        Some(CommandOutcome::Deleted) => StatusCode::NO_CONTENT.into_response(),
        Some(CommandOutcome::Refused(error)) => ApiError::from(error.clone()).into_response(),
        // Only finished records are passed here.
        None => command_response(record, links),
    }
}

/// `200` with the command resource.
pub fn command_response(record: &CommandRecord, links: &Links) -> Response {
    let mut data = Map::new();
    data.insert("type".into(), json!(COMMAND_TYPE));
    data.insert("id".into(), json!(record.id.to_string()));
    let status = match record.outcome() {
        None => "accepted",
        Some(outcome) if outcome.is_applied() => "applied",
        Some(_) => "rejected",
    };
    data.insert("status".into(), json!(status));
    data.insert("action".into(), json!(record.action.as_str()));
    data.insert("payment_id".into(), json!(record.payment_id.to_string()));
    data.insert(
        "organisation_id".into(),
        json!(record.organisation_id.to_string()),
    );
    data.insert("accepted_at".into(), json!(rfc3339(record.accepted_at)));
    data.insert(
        "finished_at".into(),
        record
            .finished_at()
            .map_or(Value::Null, |at| json!(rfc3339(at))),
    );
    if let CommandStatus::Finished { outcome, .. } = &record.status {
        match outcome {
            CommandOutcome::Refused(error) => {
                let error = ApiError::from(error.clone());
                let mut body: Value =
                    serde_json::from_slice(&error.body().to_json()).unwrap_or_default();
                if let Value::Object(body) = &mut body {
                    body.insert("status".into(), json!(error.status().as_u16()));
                }
                data.insert("error".into(), body);
            }
            applied => {
                let status = match applied {
                    CommandOutcome::Created { .. } => 201,
                    CommandOutcome::Deleted => 204,
                    _ => 200,
                };
                let mut result = Map::new();
                result.insert("status".into(), json!(status));
                if let Some(version) = applied.version() {
                    result.insert("version".into(), json!(version.value()));
                }
                data.insert("result".into(), Value::Object(result));
            }
        }
    }
    let body = json!({
        "data": data,
        "links": {
            "self": links.command(record.id),
            "payment": links.payment(record.payment_id),
        }
    });
    (StatusCode::OK, axum::Json(body)).into_response()
}

fn rfc3339(at: Timestamp) -> String {
    let millis = at.as_millis();
    let mut text = Vec::with_capacity(32);
    // Whole milliseconds, written as microseconds.
    timestamp::write(&mut text, millis / 1000, (millis % 1000) as u32 * 1000);
    String::from_utf8(text).unwrap_or_default()
}
