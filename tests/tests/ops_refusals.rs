//! Odd requests that axum or a middleware could refuse on its own still get our JSON error body.

use reqwest::{Method, StatusCode};
use tests::{backend_tests, Reply, TestApp};

backend_tests!(refusals_outside_the_handlers_are_json_error_bodies);

async fn refusals_outside_the_handlers_are_json_error_bodies(app: TestApp) {
    let custom = Method::from_bytes(b"BREW").unwrap();
    let cases: Vec<(Method, &str, StatusCode, &str)> = vec![
        (
            Method::GET,
            "/nowhere",
            StatusCode::NOT_FOUND,
            "route_not_found",
        ),
        (
            Method::GET,
            "/v1/payments/a/b",
            StatusCode::NOT_FOUND,
            "route_not_found",
        ),
        (
            Method::GET,
            "/v1/payments/%FF",
            StatusCode::BAD_REQUEST,
            "invalid_id",
        ),
        (
            Method::PATCH,
            "/v1/payments",
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            Method::OPTIONS,
            "/v1/payment",
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            custom.clone(),
            "/health/live",
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (custom, "/nowhere", StatusCode::NOT_FOUND, "route_not_found"),
        (
            Method::POST,
            "/metrics",
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            Method::DELETE,
            "/openapi.json",
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            Method::POST,
            "/docs/",
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            Method::GET,
            "/docs/../../etc/passwd",
            StatusCode::NOT_FOUND,
            "route_not_found",
        ),
    ];
    for (method, path, status, code) in cases {
        let reply = Reply::send(app.request(method.clone(), path)).await;

        assert_eq!(reply.status, status, "{method} {path}: {}", reply.body);
        reply.assert_error(status, code);
        assert!(reply.header("x-request-id").is_some(), "{method} {path}");
    }
}
