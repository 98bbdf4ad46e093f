//! Hostile request targets, sent raw so no client normalises them first: percent-encoded dot
//! segments, NUL, double encoding and overlong UTF-8 in the path; operator injection and
//! overflowing integers in the query. Each gets a 4xx with our JSON error body, never a 5xx, and
//! no payment is touched.

use reqwest::StatusCode;
use serde_json::Value;
use tests::raw::RawReply;
use tests::requests::payment_path;
use tests::{new_organisation_id, TestApp};

/// Asserts `reply` is one of our JSON errors with `status` and any of `codes`.
fn assert_refused(reply: &RawReply, target: &str, status: u16, codes: &[&str]) {
    let body = reply.json();
    assert_eq!(reply.status, status, "{target}: {body}");
    let code = body["error_code"].as_str().unwrap_or_default();
    assert!(codes.contains(&code), "{target}: {body}");
    assert!(body["error_message"].is_string(), "{target}: {body}");
    assert_eq!(reply.header("content-type"), Some("application/json"));
}

async fn percent_encoded_path_tricks_return_400_or_404_json(app: TestApp) {
    let target = app.create_payment(&new_organisation_id()).await;
    let id = target["id"].as_str().unwrap().to_owned();
    let invalid_id = [
        "/v1/payments/..%2F".to_owned(),
        "/v1/payments/..%2f..%2fetc%2fpasswd".to_owned(),
        "/v1/payments/%2e%2e".to_owned(),
        "/v1/payments/%2E%2E%2F".to_owned(),
        "/v1/payments/%00".to_owned(),
        "/v1/payments/%2500".to_owned(),
        "/v1/payments/%252e%252e%252f".to_owned(),
        "/v1/payments/%C0%AE%C0%AE%2F".to_owned(),
        "/v1/payments/%C0%80".to_owned(),
        "/v1/payments/%ff%fe".to_owned(),
        "/v1/payments/%ED%A0%80".to_owned(),
        "/v1/payments/%".to_owned(),
        "/v1/payments/%zz".to_owned(),
        "/v1/payments/%2F%2F".to_owned(),
        format!("/v1/payments/{id}%00"),
        format!("/v1/payments/{id}%2F"),
        format!("/v1/payments/{id}%2F..%2F"),
        format!("/v1/payments/%20{id}"),
        format!("/v1/payment/..%2F{id}"),
    ];
    let no_route = [
        format!("/v1/payments/{id}/.."),
        format!("/v1/payments/{id}/../{id}"),
        "/v1/payments/../payments".to_owned(),
        "/v1/./payments".to_owned(),
        "/v1//payments".to_owned(),
        "//v1/payments".to_owned(),
        "/v1/payments%2F".to_owned(),
        "/v1%2Fpayments".to_owned(),
        "/%2e%2e/v1/payments".to_owned(),
    ];
    for method in ["GET", "PUT", "DELETE"] {
        for path in &invalid_id {
            let reply = app.send_raw_line(method, path, "").await;
            assert_refused(&reply, path, 400, &["invalid_id"]);
        }
    }
    for path in &no_route {
        let reply = app.send_raw_line("GET", path, "").await;
        assert_refused(&reply, path, 404, &["route_not_found"]);
    }
    assert_eq!(app.get(&payment_path(&target)).await.body["data"], target);
}

async fn odd_request_targets_are_refused_without_a_5xx(app: TestApp) {
    for target in [
        "*",
        "http://evil.example/v1/payments/..%2F",
        "/v1/payments?%",
        "/v1/payments?&&&",
        "/v1/payments#fragment",
        "/v1/payments?filter[organisation_id]=%ZZ",
    ] {
        let reply = app.send_raw_line("GET", target, "").await;

        assert!(
            (400..500).contains(&reply.status) || reply.status == 200,
            "{target}: {} {}",
            reply.status,
            String::from_utf8_lossy(&reply.body)
        );
    }
}

async fn operator_injection_in_list_filters_returns_400(app: TestApp) {
    let organisation = new_organisation_id();
    app.create_payment(&organisation).await;
    let queries = [
        "filter[organisation_id][$ne]=x".to_owned(),
        "filter[organisation_id][$gt]=".to_owned(),
        "filter%5Borganisation_id%5D%5B%24ne%5D=x".to_owned(),
        "filter[organisation_id]=%7B%22%24gt%22%3A%22%22%7D".to_owned(),
        "filter[organisation_id]=$ne".to_owned(),
        "filter[organisation_id][]=x".to_owned(),
        "filter[$where]=1".to_owned(),
        "filter[organisation_id.$id]=1".to_owned(),
        "filter=organisation_id".to_owned(),
        "filter[attributes.amount]=1.00".to_owned(),
        format!("filter[organisation_id]={organisation}%00"),
        format!("filter[organisation_id]={organisation}'%20OR%20'1'='1"),
        format!("filter[organisation_id]={organisation}&filter[organisation_id]={organisation}"),
        format!("filter[organisation_id]={organisation}&filter[organisation_id][$ne]=x"),
        "page[after][$gt]=".to_owned(),
        "page[after]=%7B%22%24gt%22%3Anull%7D".to_owned(),
        "page[size][$gt]=0".to_owned(),
    ];
    for query in &queries {
        let target = format!("/v1/payments?{query}");

        let reply = app.send_raw_line("GET", &target, "").await;

        assert_refused(&reply, &target, 400, &["invalid_query"]);
    }
    // Unencoded quotes and braces are not legal in a request target: hyper refuses them with a
    // bare 400 before any handler runs.
    for query in [
        r#"filter[organisation_id]={"$gt":""}"#,
        r#"page[after]={"$gt":null}"#,
    ] {
        let reply = app
            .send_raw_line("GET", &format!("/v1/payments?{query}"), "")
            .await;

        assert_eq!(reply.status, 400, "{query}");
    }
}

async fn integers_beyond_64_bits_in_queries_return_400(app: TestApp) {
    let path = payment_path(&app.create_payment(&new_organisation_id()).await);
    let numbers = [
        "18446744073709551615",
        "18446744073709551616",
        "340282366920938463463374607431768211456",
        "1e3",
        "0x10",
        "1%00",
        &"9".repeat(10_000),
    ];
    for number in numbers {
        let size = app.get(&format!("/v1/payments?page[size]={number}")).await;
        let delete = app.delete(&format!("{path}?version={number}")).await;

        size.assert_error(StatusCode::BAD_REQUEST, "invalid_query");
        delete.assert_error(StatusCode::BAD_REQUEST, "invalid_query");
    }
    assert_eq!(app.get(&path).await.status, StatusCode::OK);
}

async fn a_huge_query_string_is_refused_or_answered_never_5xx(app: TestApp) {
    let long = format!(
        "/v1/payments?filter[organisation_id]={}",
        "a".repeat(64 * 1024)
    );
    let many = format!(
        "/v1/payments?{}",
        (0..5_000)
            .map(|i| format!("p{i}=1"))
            .collect::<Vec<_>>()
            .join("&")
    );
    for target in [long, many] {
        let reply = app.send_raw_line("GET", &target, "").await;

        assert!(
            (400..500).contains(&reply.status),
            "{}: {}",
            reply.status,
            String::from_utf8_lossy(&reply.body)
        );
        if reply.json() != Value::Null {
            assert!(reply.json()["error_code"].is_string());
        }
    }
}

/// `count` distinct names of three characters each (`aaa`, `aab`, ...).
fn distinct_names(count: usize) -> Vec<String> {
    const ALPHABET: &[u8; 62] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    (0..count)
        .map(|i| {
            [i / (62 * 62), i / 62 % 62, i % 62]
                .map(|digit| char::from(ALPHABET[digit]))
                .iter()
                .collect()
        })
        .collect()
}

async fn a_sixty_kilobyte_query_of_distinct_names_gets_the_right_400(app: TestApp) {
    let names = distinct_names(15_000);
    let distinct = format!("/v1/payments?{}", names.join("&"));
    let repeated_last = format!("{distinct}&{}", names[names.len() - 1]);
    assert!(distinct.len() > 60_000, "{}", distinct.len());

    let unknown = app.get(&distinct).await;
    let repeated = app.get(&repeated_last).await;

    let body = unknown.assert_error(StatusCode::BAD_REQUEST, "invalid_query");
    assert_eq!(
        body["error_message"], "unknown query parameter \"aaa\"",
        "{body}"
    );
    let body = repeated.assert_error(StatusCode::BAD_REQUEST, "invalid_query");
    let last = &names[names.len() - 1];
    assert_eq!(
        body["error_message"],
        format!("query parameter {last:?} is repeated"),
        "{body}"
    );
}

tests::backend_tests!(
    percent_encoded_path_tricks_return_400_or_404_json,
    odd_request_targets_are_refused_without_a_5xx,
    operator_injection_in_list_filters_returns_400,
    integers_beyond_64_bits_in_queries_return_400,
    a_huge_query_string_is_refused_or_answered_never_5xx,
    a_sixty_kilobyte_query_of_distinct_names_gets_the_right_400,
);
