//! Header abuse and conflicting body framing, sent raw: huge and non-ASCII `If-Match`, floods
//! of headers, a declared length far beyond the limit, smuggling-style `Content-Length` plus
//! `Transfer-Encoding`. Each is refused quickly with a 4xx, and no payment is touched.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;
use tests::requests::payment_path;
use tests::{new_organisation_id, payment_document, TestApp};

/// A PUT of `body` to `path` with `extra` header lines, as raw bytes.
fn raw_put(path: &str, extra: &[u8], body: &str) -> Vec<u8> {
    let mut request = format!(
        "PUT {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(extra);
    request.extend_from_slice(b"\r\n");
    request.extend_from_slice(body.as_bytes());
    request
}

/// A valid update of `target` to version 1, as JSON text.
fn update_of(target: &Value) -> String {
    let organisation = target["organisation_id"].as_str().unwrap();
    let mut document = payment_document(organisation, "9.99");
    document["data"]["version"] = Value::from(0);
    document.to_string()
}

async fn huge_or_non_ascii_if_match_returns_400_invalid_header(app: TestApp) {
    let target = app.create_payment(&new_organisation_id()).await;
    let path = payment_path(&target);
    let body = update_of(&target);
    let values: Vec<Vec<u8>> = vec![
        format!("\"{}\"", "1".repeat(8 * 1024)).into_bytes(),
        format!("\"{}\"", u64::MAX).into_bytes(),
        format!("\"{}\"", i64::MAX as u64 + 1).into_bytes(),
        // Entity tags compare as strings: only the ETag's spelling of a version can match.
        b"\"00\"".to_vec(),
        b"\"007\"".to_vec(),
        // Past the 18 digits the API document allows.
        format!("\"{}\"", i64::MAX).into_bytes(),
        vec![b'"'; 16 * 1024],
        ["\"0\""; 2000].join(", ").into_bytes(),
        b"\"0\xff\xfe\"".to_vec(),
        b"\"\xd9\xa0\"".to_vec(),
        b"\"0\"\x00".to_vec(),
    ];
    for value in values {
        let mut header = b"If-Match: ".to_vec();
        header.extend_from_slice(&value);
        header.extend_from_slice(b"\r\n");

        let reply = app.send_raw_http(&raw_put(&path, &header, &body)).await;

        // A NUL inside a header value is not HTTP: hyper refuses it before any handler runs.
        if value.contains(&0) {
            assert_eq!(reply.status, 400);
        } else {
            reply.assert_error(400, "invalid_header");
        }
    }
    assert_eq!(app.get(&path).await.body["data"], target);
}

async fn header_floods_are_refused_with_431_before_any_handler(app: TestApp) {
    let target = app.create_payment(&new_organisation_id()).await;
    let path = payment_path(&target);
    let body = update_of(&target);
    let floods: Vec<Vec<u8>> = vec![
        (0..1_000)
            .flat_map(|i| format!("X-Flood-{i}: v\r\n").into_bytes())
            .collect(),
        (0..200)
            .flat_map(|_| b"If-Match: \"0\"\r\n".to_vec())
            .collect(),
        format!("X-Big: {}\r\n", "a".repeat(1 << 20)).into_bytes(),
    ];
    for flood in floods {
        let reply = app.send_raw_http(&raw_put(&path, &flood, &body)).await;

        assert_eq!(reply.status, 431);
    }
    assert_eq!(app.get(&path).await.body["data"], target);
}

async fn declared_body_beyond_the_limit_returns_413_without_waiting_for_it(app: TestApp) {
    for length in [1_048_577, 1_000_000_000_000, u64::MAX - 2] {
        let request = format!(
            "POST /v1/payments HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
             Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n{{"
        );
        let started = Instant::now();

        let reply = app.send_raw_http(request.as_bytes()).await;

        reply.assert_error(413, "payload_too_large");
        // Generous: the point is "not waiting for a body that never comes" (the raw client's own
        // limit is 30 s), not a speed target.
        assert!(started.elapsed() < Duration::from_secs(5), "{length}");
    }
    // Above u64::MAX - 2 hyper refuses the length itself (its markers for chunked and
    // close-delimited bodies live there).
    let request = format!(
        "POST /v1/payments HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{{",
        u64::MAX
    );
    assert_eq!(app.send_raw_http(request.as_bytes()).await.status, 431);
}

async fn conflicting_or_malformed_framing_is_refused_and_stores_nothing(app: TestApp) {
    let organisation = new_organisation_id();
    let document = payment_document(&organisation, "1.00").to_string();
    let head = "POST /v1/payments HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
                Content-Type: application/json\r\n";
    let requests = [
        // Transfer-Encoding wins over Content-Length (RFC 9112): the chunked body is empty.
        format!("{head}Content-Length: {}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{document}", document.len()),
        format!("{head}Content-Length: {}\r\nContent-Length: 2\r\n\r\n{document}", document.len()),
        format!("{head}Content-Length: -1\r\n\r\n{document}"),
        format!("{head}Content-Length: 1e3\r\n\r\n{document}"),
        format!("{head}Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFF\r\n{document}\r\n0\r\n\r\n"),
    ];
    for request in requests {
        let reply = app.send_raw_http(request.as_bytes()).await;

        assert!(
            (400..500).contains(&reply.status),
            "{request}: {}",
            reply.status
        );
    }
    let listed = app
        .get(&format!(
            "/v1/payments?filter[organisation_id]={organisation}"
        ))
        .await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body["data"], serde_json::json!([]));
}

async fn bodies_in_codings_the_server_does_not_decode_are_refused(app: TestApp) {
    let organisation = new_organisation_id();
    let document = payment_document(&organisation, "1.00").to_string();
    let head = "POST /v1/payments HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
                Content-Type: application/json\r\n";
    let chunked = format!("{:x}\r\n{document}\r\n0\r\n\r\n", document.len());
    let sized = format!("Content-Length: {}\r\n\r\n{document}", document.len());
    let refusals = [
        (
            format!("{head}Transfer-Encoding: gzip, chunked\r\n\r\n{chunked}"),
            501,
            "unsupported_transfer_coding",
        ),
        (
            format!(
                "{head}Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n\r\n{chunked}"
            ),
            501,
            "unsupported_transfer_coding",
        ),
        (
            format!("{head}Content-Encoding: gzip\r\n{sized}"),
            415,
            "unsupported_media_type",
        ),
        (
            format!("{head}Content-Encoding: identity, br\r\n{sized}"),
            415,
            "unsupported_media_type",
        ),
    ];
    for (request, status, code) in refusals {
        // The body is plain JSON labelled as encoded: reading it as plain would disagree with
        // any proxy or client library that decodes it.
        app.send_raw_http(request.as_bytes())
            .await
            .assert_error(status, code);
    }
    // `Prefer: wait` makes the asynchronous write mode answer as the synchronous one does.
    let identity = format!(
        "{head}Prefer: wait=8\r\nContent-Encoding: identity\r\nTransfer-Encoding: chunked\r\n\r\n{chunked}"
    );

    let reply = app.send_raw_http(identity.as_bytes()).await;

    assert_eq!(reply.status, 201, "{}", reply.json());
}

tests::backend_tests!(
    bodies_in_codings_the_server_does_not_decode_are_refused,
    huge_or_non_ascii_if_match_returns_400_invalid_header,
    header_floods_are_refused_with_431_before_any_handler,
    declared_body_beyond_the_limit_returns_413_without_waiting_for_it,
    conflicting_or_malformed_framing_is_refused_and_stores_nothing,
);
