//! The asynchronous write mode seen by a client that does not wait: 202 Accepted with the
//! command resource, a status that ends `applied` or `rejected` with exactly the answer the
//! synchronous API gives, and refusals of bad input that stay immediate.
//!
//! (The whole black-box suite also runs in this mode with `Prefer: wait`: see
//! `tests::backend_tests!`.)

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tests::{new_organisation_id, payment_document, TestApp};

/// The same request to a synchronous server, for comparing answers.
async fn synchronous_twin(app: &TestApp) -> TestApp {
    app.spawn_like(|config| config.write_mode = app::config::WriteMode::Sync)
        .await
}

async fn a_post_is_accepted_then_applied_with_the_synchronous_answer(app: TestApp) {
    let app = app.without_waiting();
    let organisation = new_organisation_id();

    let reply = app
        .post("/v1/payments", &payment_document(&organisation, "12.34"))
        .await;

    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    let data = &reply.body["data"];
    assert_eq!(data["type"], "payment_commands");
    assert_eq!(data["action"], "create");
    assert_eq!(data["organisation_id"], organisation.as_str());
    let payment_id = data["payment_id"].as_str().unwrap().to_owned();
    let location = reply.header("location").unwrap().to_owned();
    assert_eq!(
        location,
        format!("/v1/payment-commands/{}", data["id"].as_str().unwrap())
    );
    assert_eq!(reply.header("retry-after"), Some("1"));
    assert_eq!(
        reply.body["links"]["payment"],
        format!("/v1/payments/{payment_id}")
    );

    let finished = app.finished_command(&location).await;
    assert_eq!(finished["status"], "applied");
    assert_eq!(finished["result"], json!({"status": 201, "version": 0}));
    assert!(finished["finished_at"].is_string());
    let stored = app.get(&format!("/v1/payments/{payment_id}")).await;
    assert_eq!(stored.status, StatusCode::OK);
    assert_eq!(stored.body["data"]["attributes"]["amount"], "12.34");
    app.metrics_with(
        &[
            "payment_commands_published_total{action=\"create\"} 1",
            "payment_commands_finished_total{action=\"create\",status=\"applied\"} 1",
            "payment_command_latency_seconds_count{action=\"create\"} 1",
        ],
        Duration::from_secs(5),
    )
    .await;
}

async fn a_put_of_an_unknown_payment_is_accepted_then_rejected_404(app: TestApp) {
    let app = app.without_waiting();
    let id = new_organisation_id();
    let mut document = payment_document(&new_organisation_id(), "1.00");
    document["data"]["version"] = 0.into();

    let reply = app.put(&format!("/v1/payments/{id}"), &document).await;

    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    let location = reply.header("location").unwrap().to_owned();
    let finished = app.finished_command(&location).await;
    assert_eq!(finished["status"], "rejected");
    let sync = synchronous_twin(&app).await;
    let expected = sync.put(&format!("/v1/payments/{id}"), &document).await;
    assert_eq!(expected.status, StatusCode::NOT_FOUND);
    let mut error = expected.body.clone();
    error["status"] = 404.into();
    assert_eq!(finished["error"], error);
}

async fn a_conflicting_create_is_rejected_with_the_synchronous_409(app: TestApp) {
    let app = app.without_waiting();
    let organisation = new_organisation_id();
    let mut first = payment_document(&organisation, "5.00");
    let id = new_organisation_id();
    first["data"]["id"] = Value::String(id.clone());
    let mut second = first.clone();
    second["data"]["attributes"]["amount"] = "6.00".into();

    let accepted = app.post("/v1/payments", &first).await;
    let applied = app
        .finished_command(accepted.header("location").unwrap())
        .await;
    assert_eq!(applied["result"]["status"], 201);
    let retried = app.post("/v1/payments", &first).await;
    let retry = app
        .finished_command(retried.header("location").unwrap())
        .await;
    let conflicting = app.post("/v1/payments", &second).await;
    let conflict = app
        .finished_command(conflicting.header("location").unwrap())
        .await;

    assert_eq!(retry["status"], "applied", "an identical retry is a 200");
    assert_eq!(retry["result"], json!({"status": 200, "version": 0}));
    assert_eq!(conflict["status"], "rejected");
    assert_eq!(conflict["error"]["status"], 409);
    assert_eq!(conflict["error"]["error_code"], "payment_exists");
}

async fn invalid_writes_are_refused_at_once_and_never_published(app: TestApp) {
    let app = app.without_waiting();
    let reply = app
        .post(
            "/v1/payments",
            &payment_document(&new_organisation_id(), "-1"),
        )
        .await;
    reply.assert_error(StatusCode::BAD_REQUEST, "validation_failed");
    assert!(reply.header("location").is_none());

    let unknown = new_organisation_id();
    app.delete(&format!("/v1/payments/{unknown}"))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

async fn fifty_puts_sent_back_to_back_apply_in_order(app: TestApp) {
    let app = app.without_waiting();
    let organisation = new_organisation_id();
    let created = app
        .post("/v1/payments", &payment_document(&organisation, "1.00"))
        .await;
    let id = created.body["data"]["payment_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut last = created.header("location").unwrap().to_owned();
    for version in 0..50 {
        let mut document = payment_document(&organisation, &format!("{}.00", version + 2));
        document["data"]["version"] = version.into();
        let reply = app.put(&format!("/v1/payments/{id}"), &document).await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
        last = reply.header("location").unwrap().to_owned();
    }

    let finished = app.finished_command(&last).await;

    assert_eq!(finished["result"], json!({"status": 200, "version": 50}));
    let stored = app.get(&format!("/v1/payments/{id}")).await;
    assert_eq!(stored.body["data"]["version"], 50);
    assert_eq!(stored.body["data"]["attributes"]["amount"], "51.00");
}

async fn a_delete_is_accepted_then_applied_204(app: TestApp) {
    let app = app.without_waiting();
    let organisation = new_organisation_id();
    let created = app
        .request(Method::POST, "/v1/payments")
        .header("prefer", "wait=8")
        .json(&payment_document(&organisation, "3.00"))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<Value>().await.unwrap()["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let reply = app.delete(&format!("/v1/payments/{id}?version=0")).await;

    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    let finished = app
        .finished_command(reply.header("location").unwrap())
        .await;
    assert_eq!(finished["result"], json!({"status": 204}));
    app.get(&format!("/v1/payments/{id}"))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

async fn command_ids_are_checked_and_unknown_ones_are_404(app: TestApp) {
    app.get("/v1/payment-commands/42")
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_id");
    let unknown = new_organisation_id();
    app.get(&format!("/v1/payment-commands/{unknown}"))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

/// Each case on both storages, in the asynchronous write mode with the in-memory broker, and
/// on MongoDB with NATS JetStream (module `mongo_nats`).
macro_rules! async_tests {
    ($($case:ident),+ $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(tests::TestApp::spawn_async(tests::Backend::Memory).await).await;
                }
            )+
        }
        mod mongo {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let database = tests::mongo::TestDatabase::create().await;
                    super::$case(tests::TestApp::spawn_async(tests::Backend::Mongo(database)).await)
                        .await;
                }
            )+
        }
        mod mongo_nats {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let database = tests::mongo::TestDatabase::create().await;
                    let backend = tests::Backend::Mongo(database);
                    super::$case(tests::TestApp::spawn_async_nats(backend).await).await;
                }
            )+
        }
    };
}

async_tests!(
    a_post_is_accepted_then_applied_with_the_synchronous_answer,
    a_put_of_an_unknown_payment_is_accepted_then_rejected_404,
    a_conflicting_create_is_rejected_with_the_synchronous_409,
    invalid_writes_are_refused_at_once_and_never_published,
    fifty_puts_sent_back_to_back_apply_in_order,
    a_delete_is_accepted_then_applied_204,
    command_ids_are_checked_and_unknown_ones_are_404,
);
