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
