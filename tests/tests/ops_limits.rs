//! Request timeout, concurrency limit, body limit and panics: each answered with our JSON error.

use std::sync::Arc;
use std::time::Duration;

use adapters::InMemoryPaymentRepository;
use domain::MockPaymentRepository;
use reqwest::{Method, StatusCode};
use tests::fakes::{serve_over, SlowRepository};
use tests::{new_organisation_id, payment_document, Reply, TestApp};

#[tokio::test]
async fn a_request_slower_than_the_timeout_gets_503_request_timeout_with_retry_after() {
    let repository = SlowRepository::new(Duration::from_secs(5));
    let app = serve_over(repository.clone(), |config| {
        config.request_timeout_ms = 100;
    })
    .await;

    let reply = app.get("/v1/payments").await;

    reply.assert_error(StatusCode::SERVICE_UNAVAILABLE, "request_timeout");
    assert_eq!(reply.header("retry-after"), Some("1"));
    assert!(reply.header("x-request-id").is_some());
    // The handler was cancelled, not left running behind the answer.
    wait_until(|| repository.active() == 0).await;
}

#[tokio::test]
async fn payment_requests_beyond_the_concurrency_limit_wait_for_a_slot() {
    let repository = SlowRepository::new(Duration::from_millis(50));
    let app = Arc::new(
        serve_over(repository.clone(), |config| {
            config.max_concurrent_requests = 2;
        })
        .await,
    );

    let requests = (0..6).map(|_| {
        let app = app.clone();
        tokio::spawn(async move { app.get("/v1/payments").await.status })
    });
    let statuses: Vec<StatusCode> = futures_join(requests).await;

    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    assert_eq!(
        repository.peak(),
        2,
        "the limit was not enforced, or never reached"
    );
}

#[tokio::test]
async fn health_and_metrics_answer_while_the_api_is_saturated() {
    let repository = SlowRepository::new(Duration::from_secs(3));
    let app = Arc::new(
        serve_over(repository.clone(), |config| {
            config.max_concurrent_requests = 1;
        })
        .await,
    );
    let held = {
        let app = app.clone();
        tokio::spawn(async move { app.get("/v1/payments").await })
    };
    wait_until(|| repository.active() == 1).await;

    let live = app.get("/health/live").await;
    let metrics = app.fetch("/metrics").await;

    assert_eq!(live.status, StatusCode::OK);
    assert_eq!(metrics.status(), StatusCode::OK);
    assert!(
        !held.is_finished(),
        "the slot holder should still be running"
    );
    held.abort();
}

#[tokio::test]
async fn a_body_over_the_limit_gets_413_payload_too_large() {
    let app = serve_over(Arc::new(InMemoryPaymentRepository::new()), |config| {
        config.max_body_bytes = 256;
    })
    .await;
    let document = payment_document(&new_organisation_id(), "10.00");

    let reply = app.post("/v1/payments", &document).await;

    reply.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
}

#[tokio::test]
async fn a_panicking_handler_gets_a_generic_500_and_the_server_keeps_serving() {
    let mut repository = MockPaymentRepository::new();
    repository
        .expect_find()
        .returning(|_| panic!("secret internal detail"));
    let app: TestApp = serve_over(Arc::new(repository), |_| {}).await;

    let reply = Reply::send(app.request(
        Method::GET,
        &format!("/v1/payments/{}", new_organisation_id()),
    ))
    .await;

    let body = reply.assert_error(StatusCode::INTERNAL_SERVER_ERROR, "internal_error");
    assert!(!body.to_string().contains("secret"), "{body}");
    assert_eq!(app.get("/health/live").await.status, StatusCode::OK);
}

async fn futures_join<T: Send + 'static>(
    handles: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<T> {
    let mut results = Vec::new();
    for handle in handles.collect::<Vec<_>>() {
        results.push(handle.await.expect("the request task completes"));
    }
    results
}

/// Polls `condition` until it holds (or fails the test after five seconds).
async fn wait_until(condition: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the condition never held"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
