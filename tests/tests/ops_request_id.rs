//! Request ids: honoured when usable, generated otherwise, echoed on every answer.

use reqwest::header::HeaderValue;
use reqwest::{Method, StatusCode};
use tests::{backend_tests, Reply, TestApp};

backend_tests!(
    a_generated_request_id_is_a_uuid_echoed_in_the_response,
    a_usable_client_request_id_is_echoed_unchanged,
    unusable_client_request_ids_are_replaced_by_generated_ones,
    error_answers_carry_the_request_id_too
);

fn request_id(reply: &Reply) -> &str {
    reply
        .header("x-request-id")
        .expect("an x-request-id header")
}

async fn a_generated_request_id_is_a_uuid_echoed_in_the_response(app: TestApp) {
    let first = app.get("/health/live").await;
    let second = app.get("/health/live").await;

    assert!(uuid_like(request_id(&first)), "{}", request_id(&first));
    assert_ne!(request_id(&first), request_id(&second));
}

async fn a_usable_client_request_id_is_echoed_unchanged(app: TestApp) {
    let sent = "req-2026.11.26/abc~!";
    let reply = Reply::send(
        app.request(Method::GET, "/health/live")
            .header("x-request-id", sent),
    )
    .await;

    assert_eq!(request_id(&reply), sent);
}

async fn unusable_client_request_ids_are_replaced_by_generated_ones(app: TestApp) {
    let too_long = "x".repeat(129);
    let unusable = [
        HeaderValue::from_static("has spaces in it"),
        HeaderValue::from_str(&too_long).unwrap(),
        HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap(),
    ];
    for sent in unusable {
        let reply = Reply::send(
            app.request(Method::GET, "/health/live")
                .header("x-request-id", sent.clone()),
        )
        .await;

        assert!(uuid_like(request_id(&reply)), "{sent:?} was kept");
    }
}

async fn error_answers_carry_the_request_id_too(app: TestApp) {
    let reply = Reply::send(
        app.request(Method::GET, "/no/such/route")
            .header("x-request-id", "trace-me"),
    )
    .await;

    reply.assert_error(StatusCode::NOT_FOUND, "route_not_found");
    assert_eq!(request_id(&reply), "trace-me");
}

/// 8-4-4-4-12 lowercase hex digits.
fn uuid_like(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups.iter().all(|g| {
            g.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}
