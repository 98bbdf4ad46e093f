//! Hostile request bodies: duplicate keys, invalid UTF-8, NUL, 100k-deep nesting, 10 MB strings,
//! numbers no 64-bit integer or double holds, and operator strings. Each has its expected status,
//! and a refused body never changes what is stored.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tests::requests::payment_path;
use tests::{new_organisation_id, payment_document, Reply, TestApp};

const JSON: Option<&str> = Some("application/json");

/// POSTs `body` (which carries client id `id`) and PUTs it over `target`; both must be refused
/// with `status` and `code`, nothing may be stored under `id`, and `target` must be unchanged.
async fn assert_refused(
    app: &TestApp,
    target: &Value,
    id: &str,
    body: &[u8],
    status: StatusCode,
    code: &str,
) {
    let created = app
        .send_raw(Method::POST, "/v1/payments", JSON, body.to_vec())
        .await;
    let updated = app
        .send_raw(Method::PUT, &payment_path(target), JSON, body.to_vec())
        .await;

    let shown: String = String::from_utf8_lossy(body).chars().take(200).collect();
    for reply in [created, updated] {
        assert_eq!(reply.status, status, "{shown}: {}", reply.body);
        reply.assert_error(status, code);
    }
    assert_eq!(
        app.get(&format!("/v1/payments/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get(&payment_path(target)).await.body["data"], *target);
}

/// [`assert_refused`] with 400 `invalid_json`.
async fn assert_invalid_json(app: &TestApp, target: &Value, id: &str, body: &[u8]) {
    assert_refused(
        app,
        target,
        id,
        body,
        StatusCode::BAD_REQUEST,
        "invalid_json",
    )
    .await;
}

/// A valid document with a fresh client id and version 0, as JSON text, and that id.
fn valid_text() -> (String, String) {
    let id = domain::PaymentId::generate().to_string();
    let mut document = payment_document(&new_organisation_id(), "1.00");
    document["data"]["id"] = json!(id);
    document["data"]["version"] = json!(0);
    (document.to_string(), id)
}

/// `text` with `replacement` in place of the first `"reference":"..."` member.
fn with_reference(text: &str, replacement: &str) -> String {
    let reference = r#""reference":"Payment for Em's piano lessons""#;
    assert!(text.contains(reference));
    text.replacen(reference, replacement, 1)
}

async fn duplicate_keys_at_any_level_return_400_even_with_equal_values(app: TestApp) {
    let target = app.create_payment(&new_organisation_id()).await;
    let duplicates = [
        r#""reference":"a","reference":"b""#,
        r#""reference":"a","reference":"a""#,
        r#""reference":"a","amount":"2.00""#,
        r#""reference":{"x":1,"x":1}"#,
        r#""reference":[{"k":[{"deep":1,"deep":2}]}]"#,
        r#""reference":"a","\u0061mount":"9.99""#,
        r#""reference":"a","beneficiary_party":{}"#,
    ];
    for duplicate in duplicates {
        let (text, id) = valid_text();
        let body = with_reference(&text, duplicate);

        assert_invalid_json(&app, &target, &id, body.as_bytes()).await;
    }
    let (text, id) = valid_text();
    let envelope = text.replacen(r#"{"data":{"#, &format!(r#"{{"data":{{"id":"{id}","#), 1);
    assert_invalid_json(&app, &target, &id, envelope.as_bytes()).await;
}

async fn invalid_utf8_anywhere_returns_400(app: TestApp) {
    let target = app.create_payment(&new_organisation_id()).await;
    let sequences: [&[u8]; 8] = [
        b"\xc0\xaf",         // overlong '/'
        b"\xe0\x80\xaf",     // overlong '/', three bytes
        b"\xed\xa0\x80",     // a UTF-16 surrogate encoded as UTF-8
        b"\xf4\x90\x80\x80", // beyond U+10FFFF
        b"\x80",             // a lone continuation byte
        b"\xe2\x82",         // truncated
        b"\xf8\x88\x80\x80\x80",
        b"\xfe\xff",
    ];
    for sequence in sequences {
        for (prefix, suffix) in [(r#""reference":""#, "\""), (r#""k"#, r#"":1"#)] {
            let (text, id) = valid_text();
            let marker = "@@";
            let body = with_reference(&text, &format!("{prefix}{marker}{suffix}"));
            let (before, after) = body.split_once(marker).unwrap();
            let bytes = [before.as_bytes(), sequence, after.as_bytes()].concat();

            assert_invalid_json(&app, &target, &id, &bytes).await;
        }
    }
    for escape in [r#""\ud800""#, r#""\udc00\ud800""#, r#""\ud83d""#] {
        let (text, id) = valid_text();
        let body = with_reference(&text, &format!(r#""reference":{escape}"#));
        assert_invalid_json(&app, &target, &id, body.as_bytes()).await;
    }
    let (text, id) = valid_text();
    let with_bom = ["\u{feff}".as_bytes(), text.as_bytes()].concat();
    assert_invalid_json(&app, &target, &id, &with_bom).await;
}

async fn escaped_nul_in_values_round_trips_and_raw_nul_returns_400(app: TestApp) {
    let values = [
        json!("\u{0}"),
        json!("a\u{0}b"),
        json!(["\u{0}\u{0}", {"inner": "x\u{0}"}]),
        json!("\u{0}\u{1}\u{1f}\u{7f}\u{2028}\u{fffd}\u{10ffff}"),
    ];
    for value in values {
        let mut document = payment_document(&new_organisation_id(), "1.00");
        document["data"]["attributes"]["reference"] = value.clone();

        let created = app.post("/v1/payments", &document).await;

        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let fetched = app.get(&payment_path(&created.body["data"])).await;
        assert_eq!(fetched.body["data"]["attributes"]["reference"], value);
    }
    let target = app.create_payment(&new_organisation_id()).await;
    for replacement in [
        "\"reference\":\"a\u{0}b\"",
        "\"reference\":\u{0}\"a\"",
        "\u{0}\"reference\":\"a\"",
    ] {
        let (text, id) = valid_text();
        let body = with_reference(&text, replacement);
        assert_invalid_json(&app, &target, &id, body.as_bytes()).await;
    }
}

async fn a_hundred_thousand_open_brackets_return_400_and_the_server_stays_up(app: TestApp) {
    let target = app.create_payment(&new_organisation_id()).await;
    let (text, id) = valid_text();
    let bodies = [
        "[".repeat(100_000),
        "{\"a\":".repeat(100_000),
        "[{\"a\":".repeat(50_000),
        with_reference(&text, &format!("\"reference\":{}", "[".repeat(100_000))),
        with_reference(
            &text,
            &format!(
                "\"reference\":{}{}",
                "[".repeat(100_000),
                "]".repeat(100_000)
            ),
        ),
    ];
    for body in bodies {
        assert_invalid_json(&app, &target, &id, body.as_bytes()).await;
    }
}

/// A valid document whose `reference` is `length` bytes of text.
fn with_long_reference(length: usize) -> Value {
    let mut document = payment_document(&new_organisation_id(), "1.00");
    document["data"]["attributes"]["reference"] = json!("é".repeat(length / 2));
    document
}

async fn ten_megabyte_strings_return_413_under_the_default_limit(app: TestApp) {
    let target = app.create_payment(&new_organisation_id()).await;
    let (text, id) = valid_text();
    let body = with_reference(
        &text,
        &format!("\"reference\":\"{}\"", "x".repeat(10 << 20)),
    );

    // Several times: a server that stops reading and closes makes a client still sending see a
    // reset instead of the 413 only some of the time.
    for _ in 0..3 {
        let reply = app
            .send_raw(Method::POST, "/v1/payments", JSON, body.clone())
            .await;
        reply.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    }
    assert_refused(
        &app,
        &target,
        &id,
        body.as_bytes(),
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    )
    .await;
}

async fn ten_megabyte_strings_under_a_raised_limit_are_stored_exactly_or_refused_cleanly(
    app: TestApp,
) {
    let raised = app
        .spawn_like(|config| config.max_body_bytes = 64 << 20)
        .await;
    for length in [10 << 20, 20 << 20] {
        let document = with_long_reference(length);

        let created = raised.post("/v1/payments", &document).await;

        // A store with a document size limit (MongoDB: 16 MiB) may refuse the larger one, but
        // only with our 413, never a 5xx.
        if created.status == StatusCode::PAYLOAD_TOO_LARGE {
            created.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
            continue;
        }
        assert_eq!(
            created.status,
            StatusCode::CREATED,
            "{length}: {}",
            created.body["error_code"]
        );
        let fetched = raised.get(&payment_path(&created.body["data"])).await;
        assert_eq!(
            fetched.body["data"]["attributes"],
            document["data"]["attributes"]
        );
    }
}

async fn numbers_beyond_the_i64_range_however_written_return_400(app: TestApp) {
    let target = app.create_payment(&new_organisation_id()).await;
    let numbers = [
        "1e400",
        "-1e400",
        "1.7976931348623159e308",
        "1.5e300",
        "1e19",
        "-9.3e18",
        "9223372036854775808.0",
        "123456789012345678901234567890",
        "-9223372036854775809",
        "18446744073709551616",
        "18446744073709551615",
    ];
    for number in numbers {
        for member in [
            format!("\"reference\":{number}"),
            format!("\"reference\":{{\"n\":[{number}]}}"),
        ] {
            let (text, id) = valid_text();
            let body = with_reference(&text, &member);
            assert_invalid_json(&app, &target, &id, body.as_bytes()).await;
        }
        let (text, id) = valid_text();
        let body = text.replacen("\"version\":0", &format!("\"version\":{number}"), 1);
        assert_invalid_json(&app, &target, &id, body.as_bytes()).await;
    }
}

async fn the_largest_version_is_a_conflict_not_an_overflow(app: TestApp) {
    let organisation = new_organisation_id();
    let path = payment_path(&app.create_payment(&organisation).await);
    let mut document = payment_document(&organisation, "2.00");
    document["data"]["version"] = json!(i64::MAX);

    let by_body = app.put(&path, &document).await;
    let by_header = app
        .put_if_match(&path, &format!("\"{}\"", "9".repeat(18)), &document)
        .await;
    let by_query = app.delete(&format!("{path}?version={}", i64::MAX)).await;

    by_body.assert_error(StatusCode::CONFLICT, "version_conflict");
    by_header.assert_error(StatusCode::PRECONDITION_FAILED, "precondition_failed");
    by_query.assert_error(StatusCode::CONFLICT, "version_conflict");
    assert_eq!(app.get(&path).await.body["data"]["version"], 0);
}

async fn operator_strings_as_values_are_stored_verbatim_and_never_interpreted(app: TestApp) {
    let organisation = new_organisation_id();
    let bystander = app.create_payment(&organisation).await;
    let operators = json!({
        "reference": "$where",
        "end_to_end_reference": {"op": "$gt", "then": ["$ne", "$$ROOT", "$set"]},
        "numeric_reference": "{\"$ne\": null}",
        "scheme_payment_type": "function() { return true; }",
        "scheme_payment_sub_type": "'; db.payments.drop(); //",
        "unstructured": "$inc",
    });
    let mut document = payment_document(&organisation, "1.00");
    document["data"]["attributes"]
        .as_object_mut()
        .unwrap()
        .extend(operators.as_object().unwrap().clone());

    let created = app.post("/v1/payments", &document).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let path = payment_path(&created.body["data"]);
    let mut update = document.clone();
    update["data"]["version"] = json!(0);
    update["data"]["attributes"]["reference"] = json!("$unset");
    let updated = app.put(&path, &update).await;

    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    let fetched = app.get(&path).await;
    assert_eq!(
        fetched.body["data"]["attributes"],
        update["data"]["attributes"]
    );
    let listed = app
        .get(&format!(
            "/v1/payments?filter[organisation_id]={organisation}"
        ))
        .await;
    assert_eq!(listed.body["data"].as_array().unwrap().len(), 2);
    assert_eq!(
        app.get(&payment_path(&bystander)).await.body["data"],
        bystander
    );
    for (field, value) in [
        ("organisation_id", "$ne"),
        ("id", "$gt"),
        ("type", "$where"),
    ] {
        let mut refused = payment_document(&organisation, "1.00");
        refused["data"][field] = json!(value);
        let reply = Reply::send(app.request(Method::POST, "/v1/payments").json(&refused)).await;
        reply.assert_error(StatusCode::BAD_REQUEST, "validation_failed");
    }
}

async fn whole_number_versions_written_with_a_fraction_are_versions(app: TestApp) {
    // JSON Schema's `integer` (the API document's type for `version`) includes 0.0 and 1e0.
    let organisation = new_organisation_id();
    let path = payment_path(&app.create_payment(&organisation).await);
    let body = |version: &str| {
        let mut document = payment_document(&organisation, "3.00");
        document["data"]["version"] = json!(0);
        document
            .to_string()
            .replacen("\"version\":0", &format!("\"version\":{version}"), 1)
    };

    let first = app.send_raw(Method::PUT, &path, JSON, body("0.0")).await;
    let second = app.send_raw(Method::PUT, &path, JSON, body("1e0")).await;
    let stale = app.send_raw(Method::PUT, &path, JSON, body("1.0")).await;
    let fraction = app.send_raw(Method::PUT, &path, JSON, body("2.5")).await;

    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    stale.assert_error(StatusCode::CONFLICT, "version_conflict");
    fraction.assert_error(StatusCode::BAD_REQUEST, "validation_failed");
    assert_eq!(app.get(&path).await.body["data"]["version"], 2);
}

tests::backend_tests!(
    whole_number_versions_written_with_a_fraction_are_versions,
    duplicate_keys_at_any_level_return_400_even_with_equal_values,
    invalid_utf8_anywhere_returns_400,
    escaped_nul_in_values_round_trips_and_raw_nul_returns_400,
    a_hundred_thousand_open_brackets_return_400_and_the_server_stays_up,
    ten_megabyte_strings_return_413_under_the_default_limit,
    ten_megabyte_strings_under_a_raised_limit_are_stored_exactly_or_refused_cleanly,
    numbers_beyond_the_i64_range_however_written_return_400,
    the_largest_version_is_a_conflict_not_an_overflow,
    operator_strings_as_values_are_stored_verbatim_and_never_interpreted,
);
