//! Hostile numbers: values no signed 64-bit integer holds, however written, anywhere in a body
//! or as a version; the largest version; and whole numbers written with a fraction.

use reqwest::{Method, StatusCode};
use serde_json::json;
use tests::hostile::{assert_invalid_json, valid_text, with_reference, JSON};
use tests::requests::payment_path;
use tests::{new_organisation_id, payment_document, TestApp};

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
    numbers_beyond_the_i64_range_however_written_return_400,
    the_largest_version_is_a_conflict_not_an_overflow,
    whole_number_versions_written_with_a_fraction_are_versions,
);
