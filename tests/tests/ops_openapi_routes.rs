//! The OpenAPI document lists exactly the routes the server serves, and the Swagger UI serves it.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use tests::openapi::{Document, METHODS};
use tests::{backend_tests, new_organisation_id, payment_document, Reply, TestApp};

backend_tests!(
    the_document_is_openapi_3_1_listing_the_apis_routes,
    every_documented_operation_is_served,
    documented_paths_refuse_other_methods_with_405_and_an_allow_header,
    operation_ids_are_unique,
    swagger_ui_is_served_from_the_binary_at_docs
);

async fn the_document_is_openapi_3_1_listing_the_apis_routes(app: TestApp) {
    let document = Document::fetch(&app).await;

    assert_eq!(document.0["openapi"], "3.1.0");
    let listed: Vec<(String, String)> = document.operations();
    let expected: Vec<(String, String)> = [
        ("delete", "/v1/payment/{id}"),
        ("delete", "/v1/payments/{id}"),
        ("get", "/health/live"),
        ("get", "/health/ready"),
        ("get", "/metrics"),
        ("get", "/openapi.json"),
        ("get", "/v1/payment-commands/{id}"),
        ("get", "/v1/payment/{id}"),
        ("get", "/v1/payments"),
        ("get", "/v1/payments/{id}"),
        ("post", "/v1/payment"),
        ("post", "/v1/payments"),
        ("put", "/v1/payment/{id}"),
        ("put", "/v1/payments/{id}"),
    ]
    .iter()
    .map(|(method, path)| (method.to_string(), path.to_string()))
    .collect();
    assert_eq!(listed, expected);
}

/// Sends `method` to `template` with `{id}` filled in and a valid body where one is expected.
async fn call(app: &TestApp, method: &str, template: &str) -> Reply {
    let id = new_organisation_id();
    let path = template.replace("{id}", &id);
    let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
    let mut request = app.request(method.clone(), &path);
    if method == Method::POST || method == Method::PUT {
        let mut body = payment_document(&new_organisation_id(), "10.00");
        if method == Method::PUT {
            body["data"]["version"] = 0.into();
        }
        request = request.json(&body);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap_or_default();
    Reply {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
    }
}

async fn every_documented_operation_is_served(app: TestApp) {
    let document = Document::fetch(&app).await;

    for (method, template) in document.operations() {
        let reply = call(&app, &method, &template).await;

        assert_ne!(
            reply.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {template} is documented but not served"
        );
        assert_ne!(
            reply.body["error_code"], "route_not_found",
            "{method} {template} is documented but not routed"
        );
    }
}

async fn documented_paths_refuse_other_methods_with_405_and_an_allow_header(app: TestApp) {
    let document = Document::fetch(&app).await;

    for (template, item) in document.0["paths"].as_object().unwrap() {
        let documented: BTreeSet<String> = METHODS
            .iter()
            .filter(|m| item.get(**m).is_some())
            .map(|m| m.to_uppercase())
            .collect();
        let mut allowed = documented.clone();
        if allowed.contains("GET") {
            allowed.insert("HEAD".into());
        }
        for method in METHODS.iter().map(|m| m.to_uppercase()) {
            if documented.contains(&method) {
                continue;
            }
            let reply = call(&app, &method, template).await;

            reply.assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
            let allow: BTreeSet<String> = reply
                .header("allow")
                .unwrap_or_default()
                .split(',')
                .map(|m| m.trim().to_owned())
                .collect();
            assert_eq!(allow, allowed, "{method} {template}");
        }
    }
}

async fn operation_ids_are_unique(app: TestApp) {
    let document = Document::fetch(&app).await;

    let ids: Vec<String> = document
        .operations()
        .iter()
        .map(|(method, path)| document.operation(method, path)["operationId"].to_string())
        .collect();
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "{ids:?}");
}

async fn swagger_ui_is_served_from_the_binary_at_docs(app: TestApp) {
    let page = app.fetch("/docs").await;
    assert_eq!(
        page.status(),
        StatusCode::OK,
        "/docs redirects to the UI page"
    );
    assert!(page.url().path().ends_with("/docs/"));
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(page.text().await.unwrap().contains("swagger-ui"));

    let initializer = app.fetch("/docs/swagger-initializer.js").await;
    assert_eq!(initializer.status(), StatusCode::OK);
    assert!(initializer
        .text()
        .await
        .unwrap()
        .contains("../openapi.json"));

    app.get("/docs/no-such-file.js")
        .await
        .assert_error(StatusCode::NOT_FOUND, "route_not_found");
}
