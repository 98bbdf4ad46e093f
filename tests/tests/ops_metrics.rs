//! `GET /metrics`: Prometheus text with request, in-flight and storage metrics.

use reqwest::StatusCode;
use tests::{backend_tests, new_organisation_id, TestApp};

backend_tests!(
    metrics_are_served_as_prometheus_text,
    requests_are_counted_by_route_template_and_status_not_raw_path,
    unmatched_paths_share_one_route_label,
    the_scrape_itself_is_counted_in_flight,
    storage_operations_are_timed_by_operation_and_outcome
);

async fn scrape(app: &TestApp) -> String {
    let response = app.fetch("/metrics").await;
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    response.text().await.expect("a text body")
}

/// The value of the series written exactly as `series`, if present.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.parse().ok())
}

async fn metrics_are_served_as_prometheus_text(app: TestApp) {
    // Labelled families appear once they have a first series.
    app.create_payment(&new_organisation_id()).await;

    let text = scrape(&app).await;

    for family in [
        "# TYPE http_requests_total counter",
        "# TYPE http_request_duration_seconds histogram",
        "# TYPE http_requests_in_flight gauge",
        "# TYPE storage_operation_duration_seconds histogram",
    ] {
        assert!(text.contains(family), "missing {family:?} in\n{text}");
    }
}

async fn requests_are_counted_by_route_template_and_status_not_raw_path(app: TestApp) {
    let first = new_organisation_id();
    let second = new_organisation_id();
    app.get(&format!("/v1/payments/{first}")).await;
    app.get(&format!("/v1/payments/{second}")).await;

    let text = scrape(&app).await;

    let series = r#"http_requests_total{method="GET",route="/v1/payments/{id}",status="404"}"#;
    assert_eq!(value(&text, series), Some(2.0), "{text}");
    let histogram = r#"http_request_duration_seconds_count{method="GET",route="/v1/payments/{id}",status="404"}"#;
    assert_eq!(value(&text, histogram), Some(2.0), "{text}");
    assert!(
        !text.contains(&first),
        "a raw path leaked into a label:\n{text}"
    );
}

async fn unmatched_paths_share_one_route_label(app: TestApp) {
    app.get("/no/such/route").await;
    app.get("/another/unknown/path").await;

    let text = scrape(&app).await;

    let series = r#"http_requests_total{method="GET",route="unmatched",status="404"}"#;
    assert_eq!(value(&text, series), Some(2.0), "{text}");
    assert!(!text.contains("/no/such/route"), "{text}");
}

async fn the_scrape_itself_is_counted_in_flight(app: TestApp) {
    let text = scrape(&app).await;

    assert_eq!(value(&text, "http_requests_in_flight"), Some(1.0), "{text}");
}

async fn storage_operations_are_timed_by_operation_and_outcome(app: TestApp) {
    let payment = app.create_payment(&new_organisation_id()).await;
    app.get(&format!("/v1/payments/{}", payment["id"].as_str().unwrap()))
        .await;
    app.get(&format!("/v1/payments/{}", new_organisation_id()))
        .await;

    let text = scrape(&app).await;

    for (operation, outcome) in [("insert", "ok"), ("find", "ok"), ("find", "not_found")] {
        let series = format!(
            "storage_operation_duration_seconds_count{{operation=\"{operation}\",outcome=\"{outcome}\"}}"
        );
        assert_eq!(value(&text, &series), Some(1.0), "{series} in\n{text}");
    }
}
