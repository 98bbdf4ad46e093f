//! Hostile request bodies: duplicate keys, invalid UTF-8, NUL, 100k-deep nesting, 10 MB strings
//! and operator strings. Each has its expected status, and a refused body never changes what is
//! stored. (Numbers: `hostile_numbers.rs`.)

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tests::hostile::{assert_invalid_json, assert_write_refused, valid_text, with_reference, JSON};
use tests::requests::payment_path;
use tests::{new_organisation_id, payment_document, Reply, TestApp};

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
    assert_write_refused(
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
        let small = raised.create_payment(&new_organisation_id()).await;
        let mut replacement = document.clone();
        replacement["data"]["version"] = json!(0);

        let created = raised.post("/v1/payments", &document).await;
        let updated = raised.put(&payment_path(&small), &replacement).await;

        // A store with a document size limit (MongoDB: 16 MiB as BSON) may refuse the larger
        // one, but only with our 413 and nothing written, never a 5xx.
        for (reply, stored_status) in [(&created, StatusCode::CREATED), (&updated, StatusCode::OK)]
        {
            if reply.status == StatusCode::PAYLOAD_TOO_LARGE {
                reply.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
                continue;
            }
            assert_eq!(
                reply.status, stored_status,
                "{length}: {}",
                reply.body["error_code"]
            );
            let fetched = raised.get(&payment_path(&reply.body["data"])).await;
            assert_eq!(
                fetched.body["data"]["attributes"],
                document["data"]["attributes"]
            );
        }
        if updated.status == StatusCode::PAYLOAD_TOO_LARGE {
            assert_eq!(raised.get(&payment_path(&small)).await.body["data"], small);
        }
    }
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

async fn fifty_thousand_refused_fields_get_an_answer_of_a_few_kilobytes(app: TestApp) {
    let organisation = new_organisation_id();
    let parties = vec![r#"{"birth_date":0}"#; 50_000].join(",");
    let body = format!(
        r#"{{"data":{{"organisation_id":"{organisation}","attributes":{{"amount":"1.00","currency":"GBP","parties":[{parties}]}}}}}}"#
    );
    assert!(body.len() > 800_000, "{}", body.len());

    let response = app
        .request(Method::POST, "/v1/payments")
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("the server answers");

    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let answer = response.bytes().await.expect("a body");
    assert!(answer.len() < 16 * 1024, "{} bytes", answer.len());
    let answer: Value = serde_json::from_slice(&answer).expect("JSON");
    assert_eq!(answer["error_code"], "validation_failed", "{answer}");
    assert_eq!(answer["details"].as_array().map(Vec::len), Some(100));
    assert_eq!(answer["details_omitted"], 50_000 - 100);
    assert_eq!(
        answer["details"][0]["field"],
        "data.attributes.parties[0].birth_date"
    );
}

tests::backend_tests!(
    duplicate_keys_at_any_level_return_400_even_with_equal_values,
    invalid_utf8_anywhere_returns_400,
    escaped_nul_in_values_round_trips_and_raw_nul_returns_400,
    a_hundred_thousand_open_brackets_return_400_and_the_server_stays_up,
    ten_megabyte_strings_return_413_under_the_default_limit,
    ten_megabyte_strings_under_a_raised_limit_are_stored_exactly_or_refused_cleanly,
    operator_strings_as_values_are_stored_verbatim_and_never_interpreted,
    fifty_thousand_refused_fields_get_an_answer_of_a_few_kilobytes,
);
