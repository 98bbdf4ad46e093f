//! The catalogue of every `error_code` the server answers: its status, when it is answered and
//! an example message. [`ApiError`](super::error::ApiError) carries one of these, and the API
//! document's error responses and README's error table are built from the same table, so a code
//! cannot be answered undocumented, nor documented under another status or spelling.

use axum::http::StatusCode;

macro_rules! catalogue {
    ($($variant:ident = $status:ident, $code:literal, $when:literal, $example:literal;)+) => {
        /// A stable, machine-readable reason for a refusal (the `error_code` of the body).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ErrorCode {
            $(
                #[doc = concat!("`", $code, "`: ", $when)]
                $variant,
            )+
        }

        impl ErrorCode {
            /// Every code, in the catalogue's order (by status).
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),+];

            /// The code as the body spells it, e.g. `validation_failed`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)+
                }
            }

            /// The status every answer with this code has.
            pub const fn status(self) -> StatusCode {
                match self {
                    $(ErrorCode::$variant => StatusCode::$status,)+
                }
            }

            /// When it is answered, in a sentence fragment.
            pub const fn when(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $when,)+
                }
            }

            /// An example `error_message`.
            pub const fn example(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $example,)+
                }
            }
        }
    };
}

catalogue! {
    InvalidJson = BAD_REQUEST, "invalid_json", "the body is not one JSON document we accept: malformed, invalid UTF-8, duplicate keys, keys starting with `$` or containing `.`/NUL, nesting deeper than 32, numbers beyond the signed 64-bit range (`1e20` as well as `100000000000000000000`)", "the body is not accepted JSON: duplicate key \"amount\"";
    InvalidBody = BAD_REQUEST, "invalid_body", "the body could not be read (e.g. the connection broke mid-body)", "the request body could not be read: connection reset";
    ValidationFailed = BAD_REQUEST, "validation_failed", "a field breaks a rule: ids not UUIDs, `type` not `payments`, missing `organisation_id`/`attributes`/`amount`/`currency`, bad amount, more decimals than the currency's minor unit (`\"100.50\"` JPY, `\"1.2345\"` KWD), unknown currency or one without a minor unit (XAU, XXX), impossible dates, scheme limits (FPS ≤ 250000.00, Bacs ≤ 20000000.00: GBP amounts, compared by value whatever the currency), PUT without a version; `details` lists each (the first 100; `details_omitted` counts the rest)", "the payment is invalid: data.attributes.amount: must be greater than zero";
    InvalidId = BAD_REQUEST, "invalid_id", "the path id is not a UUID", "payment id \"42\" is not a UUID";
    IdMismatch = BAD_REQUEST, "id_mismatch", "a PUT whose `data.id` differs from the path id", "data.id 0b9c... does not match the payment id 4ee3... in the path";
    InvalidQuery = BAD_REQUEST, "invalid_query", "a query parameter is malformed, out of range, unknown or repeated", "page[size] must be between 1 and 1000";
    InvalidHeader = BAD_REQUEST, "invalid_header", "`If-Match` is not one entity tag or `*` (several tags included)", "If-Match must be one entity tag such as \"3\" (the payment version) or *";
    NotFound = NOT_FOUND, "not_found", "no payment has this id", "payment 4ee3a8d8-ca7b-4290-a52c-dd5b6165ec43 not found";
    RouteNotFound = NOT_FOUND, "route_not_found", "no route serves this path", "no such route";
    MethodNotAllowed = METHOD_NOT_ALLOWED, "method_not_allowed", "the path does not support the method used; `Allow` lists those it does", "this route does not support this method";
    PaymentExists = CONFLICT, "payment_exists", "a payment with this id exists with other content", "payment 4ee3a8d8-ca7b-4290-a52c-dd5b6165ec43 already exists with different content";
    VersionConflict = CONFLICT, "version_conflict", "the version sent (`data.version` or `?version=`) is not the stored one: re-read and retry", "version conflict: expected 0, stored version is 1";
    VersionExhausted = CONFLICT, "version_exhausted", "the payment is at the highest version (2^63 − 1) and cannot change", "payment 4ee3a8d8-ca7b-4290-a52c-dd5b6165ec43 has reached the highest version";
    PreconditionFailed = PRECONDITION_FAILED, "precondition_failed", "`If-Match` does not match the stored version", "precondition failed: If-Match 0, stored version is 1";
    PayloadTooLarge = PAYLOAD_TOO_LARGE, "payload_too_large", "the body is larger than the server accepts (`--max-body-bytes`; refused at once when `Content-Length` says so), or the payment larger than the storage holds (MongoDB: 16 MiB as BSON) or, with asynchronous writes, than the command broker accepts (NATS: `max_payload`, 1 MiB by default; Kafka: `message.max.bytes`)", "the request body is larger than this server accepts";
    UnsupportedMediaType = UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "the body is not sent as `application/json`, or with a `Content-Encoding` other than `identity`", "send the body as JSON with Content-Type: application/json";
    InternalError = INTERNAL_SERVER_ERROR, "internal_error", "a bug; the message says nothing about internals, the log has the details under the request id", "the server failed to process the request; it has been logged";
    UnsupportedTransferCoding = NOT_IMPLEMENTED, "unsupported_transfer_coding", "a `Transfer-Encoding` other than `chunked`, which the server would not decode", "Transfer-Encoding other than chunked is not supported";
    StorageUnavailable = SERVICE_UNAVAILABLE, "storage_unavailable", "the storage is unreachable or too slow, or still busy with `--mongo-max-detached-operations` operations earlier requests gave up on; comes with `Retry-After`", "the payment storage is temporarily unavailable; retry later";
    BrokerUnavailable = SERVICE_UNAVAILABLE, "broker_unavailable", "asynchronous write mode: the command broker did not acknowledge the write within `--broker-timeout-ms` (never a 202 for a command not in the log; like a timed-out write its outcome is unknown); comes with `Retry-After`", "the command broker did not acknowledge the write in time; retry later";
    RequestTimeout = SERVICE_UNAVAILABLE, "request_timeout", "the request took longer than the server allows (`--request-timeout-ms`); comes with `Retry-After`", "the request took longer than this server allows; retry later";
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn codes_are_distinct_snake_case_and_refusals() {
        let mut seen = HashSet::new();
        for code in ErrorCode::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "{text} twice");
            assert!(
                text.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{text}"
            );
            assert!(
                code.status().is_client_error() || code.status().is_server_error(),
                "{text}"
            );
        }
    }

    #[test]
    fn the_catalogue_is_ordered_by_status() {
        let statuses: Vec<u16> = ErrorCode::ALL.iter().map(|c| c.status().as_u16()).collect();
        let mut sorted = statuses.clone();
        sorted.sort_unstable();
        assert_eq!(statuses, sorted);
    }
}
