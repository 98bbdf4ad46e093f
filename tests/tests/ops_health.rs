//! Liveness and readiness probes.

use std::sync::Arc;

use domain::{MockPaymentRepository, RepositoryError};
use reqwest::StatusCode;
use serde_json::json;
use tests::fakes::serve_over;
use tests::{backend_tests, TestApp};

backend_tests!(
    liveness_answers_ok,
    readiness_answers_ready_when_storage_answers
);

async fn liveness_answers_ok(app: TestApp) {
    let reply = app.get("/health/live").await;

    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, json!({"status": "ok"}));
    assert_eq!(reply.header("content-type"), Some("application/json"));
}

async fn readiness_answers_ready_when_storage_answers(app: TestApp) {
    let reply = app.get("/health/ready").await;

    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, json!({"status": "ready"}));
}

fn unreachable_storage() -> Arc<MockPaymentRepository> {
    let mut repository = MockPaymentRepository::new();
    repository
        .expect_check_health()
        .returning(|| Err(RepositoryError::Unavailable("connection refused".into())));
    Arc::new(repository)
}

#[tokio::test]
async fn readiness_is_503_with_retry_after_when_storage_is_unreachable() {
    let app = serve_over(unreachable_storage(), |_| {}).await;

    let reply = app.get("/health/ready").await;

    let body = reply.assert_error(StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable");
    assert!(
        !body.to_string().contains("connection refused"),
        "the cause must stay in the log: {body}"
    );
    assert_eq!(reply.header("retry-after"), Some("1"));
}

#[tokio::test]
async fn liveness_stays_ok_when_storage_is_unreachable() {
    let app = serve_over(unreachable_storage(), |_| {}).await;

    let reply = app.get("/health/live").await;

    assert_eq!(reply.status, StatusCode::OK);
}

/// A worker (`--role worker`) serves its probes and metrics, and no payment route: a write sent
/// to it must not be applied synchronously, past the command log and its order.
#[tokio::test]
async fn a_worker_serves_probes_and_metrics_but_no_payment_route() {
    let log = tests::kafka::test_config(&tests::kafka::bootstrap_servers());
    let app = TestApp::spawn_with(tests::Backend::Memory, move |config| {
        tests::kafka::configure(config, log);
        config.write_mode = app::config::WriteMode::Async;
        config.role = app::config::Role::Worker;
    })
    .await
    .without_waiting();

    assert_eq!(app.get("/health/live").await.status, StatusCode::OK);
    assert_eq!(app.fetch("/metrics").await.status(), StatusCode::OK);
    let document = tests::payment_document(&tests::new_organisation_id(), "1.00");
    app.post("/v1/payments", &document)
        .await
        .assert_error(StatusCode::NOT_FOUND, "route_not_found");
    app.get("/v1/payments")
        .await
        .assert_error(StatusCode::NOT_FOUND, "route_not_found");
    app.get("/openapi.json")
        .await
        .assert_error(StatusCode::NOT_FOUND, "route_not_found");
}
