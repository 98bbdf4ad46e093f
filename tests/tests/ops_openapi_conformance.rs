//! The server's real answers conform to its OpenAPI document, and its request examples work.

use std::sync::Arc;

use domain::{MockPaymentRepository, RepositoryError};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tests::fakes::serve_over;
use tests::openapi::Document;
use tests::{backend_tests, new_organisation_id, payment_document, Reply, TestApp};

backend_tests!(
    payment_answers_conform_to_the_document,
    operational_answers_conform_to_the_document,
    the_documented_request_examples_are_accepted
);

async fn send(app: &TestApp, method: Method, path: &str, body: Option<&Value>) -> Reply {
    let mut request = app.request(method, path);
    if let Some(body) = body {
        request = request.json(body);
    }
    Reply::send(request).await
}

async fn payment_answers_conform_to_the_document(app: TestApp) {
    let document = Document::fetch(&app).await;
    let organisation = new_organisation_id();
    let id = new_organisation_id();
    let mut create = payment_document(&organisation, "10.00");
    create["data"]["id"] = json!(id);
    let item = format!("/v1/payments/{id}");
    let mut update = create.clone();
    update["data"]["version"] = json!(0);
    let mut conflicting = create.clone();
    conflicting["data"]["attributes"]["amount"] = json!("11.00");
    let mut invalid = create.clone();
    invalid["data"]["attributes"]["amount"] = json!("0");
    invalid["data"]["attributes"]["currency"] = json!("XYZ");
    let singular = payment_document(&organisation, "1");

    let cases: Vec<(Method, &str, String, Option<&Value>, u16)> = vec![
        (
            Method::POST,
            "/v1/payments",
            "/v1/payments".into(),
            Some(&create),
            201,
        ),
        (
            Method::POST,
            "/v1/payments",
            "/v1/payments".into(),
            Some(&create),
            200,
        ),
        (
            Method::POST,
            "/v1/payments",
            "/v1/payments".into(),
            Some(&conflicting),
            409,
        ),
        (
            Method::POST,
            "/v1/payments",
            "/v1/payments".into(),
            Some(&invalid),
            400,
        ),
        (
            Method::POST,
            "/v1/payment",
            "/v1/payment".into(),
            Some(&singular),
            201,
        ),
        (
            Method::GET,
            "/v1/payments",
            format!("/v1/payments?filter[organisation_id]={organisation}&page[size]=1"),
            None,
            200,
        ),
        (
            Method::GET,
            "/v1/payments",
            "/v1/payments?page[size]=0".into(),
            None,
            400,
        ),
        (Method::GET, "/v1/payments/{id}", item.clone(), None, 200),
        (
            Method::GET,
            "/v1/payment/{id}",
            format!("/v1/payment/{id}"),
            None,
            200,
        ),
        (
            Method::GET,
            "/v1/payments/{id}",
            "/v1/payments/42".into(),
            None,
            400,
        ),
        (
            Method::GET,
            "/v1/payments/{id}",
            format!("/v1/payments/{organisation}"),
            None,
            404,
        ),
        (
            Method::PUT,
            "/v1/payments/{id}",
            item.clone(),
            Some(&update),
            200,
        ),
        (
            Method::PUT,
            "/v1/payments/{id}",
            item.clone(),
            Some(&update),
            409,
        ),
        (
            Method::DELETE,
            "/v1/payments/{id}",
            format!("{item}?version=0"),
            None,
            409,
        ),
        (
            Method::DELETE,
            "/v1/payments/{id}",
            format!("{item}?version=x"),
            None,
            400,
        ),
        (Method::DELETE, "/v1/payments/{id}", item.clone(), None, 204),
        (Method::DELETE, "/v1/payments/{id}", item.clone(), None, 404),
    ];
    for (method, template, path, body, status) in cases {
        let reply = send(&app, method.clone(), &path, body).await;

        assert_eq!(
            reply.status.as_u16(),
            status,
            "{method} {path}: {}",
            reply.body
        );
        document.assert_conforms(method.as_str().to_lowercase().as_str(), template, &reply);
    }

    let stale_if_match = Reply::send(
        app.request(
            Method::PUT,
            &format!(
                "/v1/payments/{}",
                app.create_payment(&organisation).await["id"]
                    .as_str()
                    .unwrap()
            ),
        )
        .header("if-match", "\"7\"")
        .json(&payment_document(&organisation, "3.00")),
    )
    .await;
    assert_eq!(stale_if_match.status, StatusCode::PRECONDITION_FAILED);
    document.assert_conforms("put", "/v1/payments/{id}", &stale_if_match);

    let not_json = Reply::send(
        app.request(Method::POST, "/v1/payments")
            .header("content-type", "text/plain")
            .body("amount=1"),
    )
    .await;
    assert_eq!(not_json.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    document.assert_conforms("post", "/v1/payments", &not_json);
}

async fn operational_answers_conform_to_the_document(app: TestApp) {
    let document = Document::fetch(&app).await;

    for path in ["/health/live", "/health/ready", "/openapi.json"] {
        document.assert_conforms("get", path, &app.get(path).await);
    }
    let metrics = app.fetch("/metrics").await;
    let documented = document.operation("get", "/metrics")["responses"]["200"]["content"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    assert_eq!(
        metrics.headers()["content-type"].to_str().unwrap(),
        documented
    );

    let mut down = MockPaymentRepository::new();
    down.expect_check_health()
        .returning(|| Err(RepositoryError::Unavailable("down".into())));
    let unready = serve_over(Arc::new(down), |_| {}).await;
    document.assert_conforms("get", "/health/ready", &unready.get("/health/ready").await);

    let small = serve_over(
        Arc::new(adapters::InMemoryPaymentRepository::new()),
        |config| {
            config.max_body_bytes = 64;
        },
    )
    .await;
    let too_large = small
        .post(
            "/v1/payments",
            &payment_document(&new_organisation_id(), "1"),
        )
        .await;
    assert_eq!(too_large.status, StatusCode::PAYLOAD_TOO_LARGE);
    document.assert_conforms("post", "/v1/payments", &too_large);
}

async fn the_documented_request_examples_are_accepted(app: TestApp) {
    let document = Document::fetch(&app).await;
    let example = |method: &str, path: &str| {
        document.operation(method, path)["requestBody"]["content"]["application/json"]["example"]
            .clone()
    };

    let created = app
        .post("/v1/payments", &example("post", "/v1/payments"))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["data"]["id"].as_str().unwrap().to_owned();
    let updated = app
        .put(
            &format!("/v1/payments/{id}"),
            &example("put", "/v1/payments/{id}"),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert!(document
        .component("UpdatePaymentRequest")
        .is_valid(&example("put", "/v1/payments/{id}")));
}
