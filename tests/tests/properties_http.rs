//! Properties of the whole server, on every backend: a valid payment comes back exactly as sent
//! after a trip through storage, and any request body is accepted or refused with a 4xx JSON
//! error, never a 5xx.

use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{json, Map, Value};
use tests::arbitrary::{any_body, check_async, document, valid_attributes};
use tests::requests::payment_path;
use tests::{new_organisation_id, Reply, TestApp};

/// HTTP round trips per case are cheap on loopback; 256 keeps each backend's run to seconds.
const CASES: u32 = 256;

/// `attributes` as the canonical JSON text that must come back (sorted keys, exact numbers).
fn text(attributes: &Value) -> String {
    serde_json::to_string(attributes).expect("JSON serializes")
}

async fn valid_payments_come_back_unchanged_after_storage(app: TestApp) {
    let app = Arc::new(app);
    let strategy = || (valid_attributes(), valid_attributes());
    check_async(
        CASES,
        strategy,
        move |(created, updated): (Map<String, Value>, Map<String, Value>)| {
            let app = app.clone();
            async move {
                let organisation = new_organisation_id();
                let reply = app
                    .post("/v1/payments", &document(&organisation, &created))
                    .await;
                assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
                let path = payment_path(&reply.body["data"]);

                let fetched = app.get(&path).await;

                let expected = text(&Value::Object(created));
                assert_eq!(text(&fetched.body["data"]["attributes"]), expected);
                assert_eq!(text(&reply.body["data"]["attributes"]), expected);
                assert_eq!(fetched.body["data"]["organisation_id"], json!(organisation));

                let mut replacement = document(&organisation, &updated);
                replacement["data"]["version"] = json!(0);
                let reply = app.put(&path, &replacement).await;
                assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

                let fetched = app.get(&path).await;

                assert_eq!(
                    text(&fetched.body["data"]["attributes"]),
                    text(&Value::Object(updated))
                );
                assert_eq!(fetched.body["data"]["version"], json!(1));
            }
        },
    )
    .await;
}

/// Asserts a reply is a success or our 4xx error body.
fn assert_answered_cleanly(reply: &Reply, request: &str) {
    if reply.status.is_success() {
        assert!(
            reply.body["data"]["id"].is_string(),
            "{request}: {}",
            reply.body
        );
        return;
    }
    assert!(
        reply.status.is_client_error(),
        "{request}: {} {}",
        reply.status,
        reply.body
    );
    assert!(
        reply.body["error_code"].is_string(),
        "{request}: {}",
        reply.body
    );
    assert!(
        reply.body["error_message"].is_string(),
        "{request}: {}",
        reply.body
    );
}

async fn any_body_is_accepted_or_refused_with_a_4xx_json_error(app: TestApp) {
    let target = app.create_payment(&new_organisation_id()).await;
    let app = Arc::new(app);
    check_async(CASES, any_body, move |body: Vec<u8>| {
        let (app, path) = (app.clone(), payment_path(&target));
        async move {
            let shown = String::from_utf8_lossy(&body).into_owned();
            let created = app
                .send_raw(
                    Method::POST,
                    "/v1/payments",
                    Some("application/json"),
                    body.clone(),
                )
                .await;
            assert_answered_cleanly(&created, &format!("POST {shown}"));
            let updated = app
                .send_raw(Method::PUT, &path, Some("application/json"), body)
                .await;
            assert_answered_cleanly(&updated, &format!("PUT {shown}"));
        }
    })
    .await;
}

tests::backend_tests!(
    valid_payments_come_back_unchanged_after_storage,
    any_body_is_accepted_or_refused_with_a_4xx_json_error,
);
