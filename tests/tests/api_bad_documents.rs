//! Bodies refused before validation: malformed JSON, forbidden keys, deep nesting, size and
//! media type; and requests no route takes. Each answer is our JSON error body.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tests::requests::payment_path;
use tests::{new_organisation_id, payment_document, Backend, Reply, TestApp};

const JSON: Option<&str> = Some("application/json");

/// POSTs `body` and PUTs it over `target`; both must be refused with `status` and `code`, and
/// `target` must be unchanged. Returns the POST's error body.
async fn assert_body_refused(
    app: &TestApp,
    target: &Value,
    content_type: Option<&str>,
    body: &[u8],
    status: StatusCode,
    code: &str,
) -> Value {
    let path = payment_path(target);
    let created = app
        .send_raw(Method::POST, "/v1/payments", content_type, body.to_vec())
        .await;
    let updated = app
        .send_raw(Method::PUT, &path, content_type, body.to_vec())
        .await;

    let shown = String::from_utf8_lossy(body);
    for reply in [&created, &updated] {
        assert_eq!(reply.status, status, "{shown}: {}", reply.body);
        reply.assert_error(status, code);
    }
    assert_eq!(app.get(&path).await.body["data"], *target);
    created.body
}

/// A valid document for a fresh organisation whose attributes also hold `extra`.
fn document_with_attributes(extra: Value) -> Value {
    let mut document = payment_document(&new_organisation_id(), "1.00");
    document["data"]["attributes"]
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    document
}

/// `levels` objects nested inside each other, the innermost empty.
fn nested_objects(levels: usize) -> Value {
    (1..levels).fold(json!({}), |inner, _| json!({ "n": inner }))
}

/// `levels` arrays nested inside each other, the innermost empty.
fn nested_arrays(levels: usize) -> Value {
    (1..levels).fold(json!([]), |inner, _| json!([inner]))
}

async fn malformed_json_returns_400_invalid_json(app: TestApp) {
    let target = app.create_payment(&new_organisation_id()).await;
    let valid = payment_document(&new_organisation_id(), "1.00").to_string();
    let duplicate = valid.replacen("{\"data\":", "{\"data\": {}, \"data\":", 1);
    let bodies: [&[u8]; 8] = [
        b"{\"data\": ",
        b"not json",
        b"",
        b"{} {}",
        b"{\"data\": {\"type\": \"payments\",}}",
        b"{\"data\": {\"type\": \"\xff\"}}",
        duplicate.as_bytes(),
        b"{\"data\": {\"attributes\": {\"amount\": \"1.00\", \"n\": 9223372036854775808}}}",
    ];
    for body in bodies {
        assert_body_refused(
            &app,
            &target,
            JSON,
            body,
            StatusCode::BAD_REQUEST,
            "invalid_json",
        )
        .await;
    }
}

async fn keys_starting_with_dollar_or_holding_dot_or_nul_return_400_anywhere(app: TestApp) {
    let target = app.create_payment(&new_organisation_id()).await;
    let organisation = new_organisation_id();
    let envelope = |data_extra: &str, attributes_extra: &str| {
        format!(
            r#"{{"data": {{"organisation_id": "{organisation}"{data_extra},
                "attributes": {{"amount": "1.00", "currency": "GBP"{attributes_extra}}}}}}}"#
        )
    };
    let (dollar, dot, nul) = ("start with '$'", "contain '.'", "contain NUL");
    let bodies = [
        (r#"{"$data": {}}"#.to_owned(), dollar),
        (envelope(r#", "$where": "1""#, ""), dollar),
        (envelope("", r#", "$set": {"amount": "2.00"}"#), dollar),
        (envelope("", r#", "$": 1"#), dollar),
        (envelope("", r#", "account.number": "1""#), dot),
        (envelope("", r#", ".": "1""#), dot),
        (
            envelope("", r#", "party": {"name": {"first.name": "A"}}"#),
            dot,
        ),
        (
            envelope("", r#", "list": [1, {"ok": [[{"$gt": 0}]]}]"#),
            dollar,
        ),
        (envelope("", r#", "list": [{"a\u0000b": 1}]"#), nul),
        (envelope("", r#", "nul\u0000": 1"#), nul),
    ];
    for (body, problem) in bodies {
        let error = assert_body_refused(
            &app,
            &target,
            JSON,
            body.as_bytes(),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        )
        .await;
        let message = error["error_message"].as_str().unwrap();
        assert!(message.contains(problem), "{body}: {message}");
    }
}

async fn dollar_and_dot_inside_keys_or_values_are_accepted(app: TestApp) {
    let document = document_with_attributes(json!({
        "price$": "$1.00",
        "a$b": {"dotted value": "x.y.z"},
        "note": "$where: a.b",
    }));

    let reply = app.post("/v1/payments", &document).await;

    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(
        reply.body["data"]["attributes"],
        document["data"]["attributes"]
    );
}

async fn nesting_of_32_levels_is_accepted_and_33_refused(app: TestApp) {
    // The document, `data` and `attributes` are three levels; the chain adds the rest.
    for nested in [nested_objects(29), nested_arrays(29)] {
        let document = document_with_attributes(json!({ "deep": nested }));

        let reply = app.post("/v1/payments", &document).await;

        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        let stored = app.get(&payment_path(&reply.body["data"])).await;
        assert_eq!(stored.body["data"]["attributes"]["deep"], nested);
    }
    let target = app.create_payment(&new_organisation_id()).await;
    for nested in [nested_objects(30), nested_arrays(30)] {
        let document = document_with_attributes(json!({ "deep": nested })).to_string();
        let error = assert_body_refused(
            &app,
            &target,
            JSON,
            document.as_bytes(),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        )
        .await;
        assert!(
            error["error_message"].as_str().unwrap().contains("32"),
            "{error}"
        );
    }
}

async fn body_over_the_default_1_mib_limit_returns_413(app: TestApp) {
    let target = app.create_payment(&new_organisation_id()).await;
    let padding = "x".repeat(1024 * 1024);
    let document = document_with_attributes(json!({ "padding": padding })).to_string();

    let error = assert_body_refused(
        &app,
        &target,
        JSON,
        document.as_bytes(),
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    )
    .await;

    assert!(error["error_message"].is_string());
    let under = document_with_attributes(json!({ "padding": "x".repeat(1000 * 1000) }));
    assert_eq!(
        app.post("/v1/payments", &under).await.status,
        StatusCode::CREATED
    );
}

/// `--max-body-bytes` is enforced by the HTTP layer whatever the storage, so this runs on the
/// in-memory backend alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_over_the_configured_limit_returns_413_and_exactly_the_limit_is_accepted() {
    const LIMIT: usize = 2048;
    let app = TestApp::spawn_with(Backend::Memory, |config| config.max_body_bytes = LIMIT).await;
    let sized = |length: usize| {
        let empty = document_with_attributes(json!({ "padding": "" })).to_string();
        empty.replacen(
            "\"padding\":\"\"",
            &format!("\"padding\":\"{}\"", "x".repeat(length - empty.len())),
            1,
        )
    };
    let (at_limit, over_limit) = (sized(LIMIT), sized(LIMIT + 1));
    assert_eq!((at_limit.len(), over_limit.len()), (LIMIT, LIMIT + 1));

    let accepted = app
        .send_raw(Method::POST, "/v1/payments", JSON, at_limit)
        .await;
    let refused = app
        .send_raw(Method::POST, "/v1/payments", JSON, over_limit)
        .await;

    assert_eq!(accepted.status, StatusCode::CREATED, "{}", accepted.body);
    refused.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
}

async fn content_type_other_than_json_returns_415(app: TestApp) {
    let target = app.create_payment(&new_organisation_id()).await;
    let body = payment_document(&new_organisation_id(), "1.00").to_string();
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("application/xml"),
        Some("application/jsonp"),
        Some("json"),
    ] {
        assert_body_refused(
            &app,
            &target,
            content_type,
            body.as_bytes(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        )
        .await;
    }
}

async fn json_content_types_with_parameters_or_suffix_are_accepted(app: TestApp) {
    for content_type in [
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/vnd.api+json",
    ] {
        let body = payment_document(&new_organisation_id(), "1.00").to_string();

        let reply = app
            .send_raw(Method::POST, "/v1/payments", Some(content_type), body)
            .await;

        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "{content_type}: {}",
            reply.body
        );
    }
}

async fn unknown_routes_return_404_route_not_found(app: TestApp) {
    let id = domain::PaymentId::generate();
    for path in [
        "/".to_owned(),
        "/v1".to_owned(),
        "/v2/payments".to_owned(),
        "/v1/payments/".to_owned(),
        format!("/v1/payments/{id}/extra"),
        "/v1/organisations".to_owned(),
    ] {
        let reply = Reply::send(app.request(Method::GET, &path)).await;

        reply.assert_error(StatusCode::NOT_FOUND, "route_not_found");
    }
}

async fn unsupported_methods_return_405_method_not_allowed(app: TestApp) {
    let item = format!("/v1/payments/{}", domain::PaymentId::generate());
    let alias_item = format!("/v1/payment/{}", domain::PaymentId::generate());
    for (method, path) in [
        (Method::PATCH, item.as_str()),
        (Method::POST, item.as_str()),
        (Method::PUT, "/v1/payments"),
        (Method::DELETE, "/v1/payments"),
        (Method::PATCH, "/v1/payments"),
        (Method::GET, "/v1/payment"),
        (Method::PATCH, alias_item.as_str()),
    ] {
        let reply = Reply::send(app.request(method.clone(), path)).await;

        reply.assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    }
}

tests::backend_tests!(
    malformed_json_returns_400_invalid_json,
    keys_starting_with_dollar_or_holding_dot_or_nul_return_400_anywhere,
    dollar_and_dot_inside_keys_or_values_are_accepted,
    nesting_of_32_levels_is_accepted_and_33_refused,
    body_over_the_default_1_mib_limit_returns_413,
    content_type_other_than_json_returns_415,
    json_content_types_with_parameters_or_suffix_are_accepted,
    unknown_routes_return_404_route_not_found,
    unsupported_methods_return_405_method_not_allowed,
);
