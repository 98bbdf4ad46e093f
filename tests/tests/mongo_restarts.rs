//! What the API acknowledged is on disk: it survives the payment server restarting, and the
//! database process being killed.

use std::time::Duration;

use app::Config;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tests::mongo::TestDatabase;
use tests::requests::payment_path;
use tests::secantus::PrivateMongoServer;
use tests::{eventually, new_organisation_id, payment_document, TestApp};

fn config_on(database: &TestDatabase) -> Config {
    let mut config = Config::defaults();
    database.configure(&mut config);
    config
}

/// Creates a payment and updates it once; returns the acknowledged resource (version 1).
async fn create_and_update(app: &TestApp) -> Value {
    let organisation = new_organisation_id();
    let created = app.create_payment(&organisation).await;
    let mut update = payment_document(&organisation, "250.00");
    update["data"]["version"] = json!(0);
    update["data"]["attributes"]["note"] = json!({"integer": 7, "float": 7.0});
    let updated = app.put(&payment_path(&created), &update).await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    updated.body["data"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_written_by_one_server_process_is_read_back_unchanged_by_the_next() {
    let database = TestDatabase::create().await;
    let first = TestApp::spawn_config(config_on(&database)).await;
    let payment = create_and_update(&first).await;
    first.stop().await;

    let second = TestApp::spawn_config(config_on(&database)).await;
    let fetched = second.get(&payment_path(&payment)).await;
    let listed = second
        .get(&format!(
            "/v1/payments?filter[organisation_id]={}",
            payment["organisation_id"].as_str().unwrap()
        ))
        .await;

    assert_eq!(fetched.status, StatusCode::OK, "{}", fetched.body);
    assert_eq!(fetched.body["data"], payment);
    assert_eq!(fetched.header("etag"), Some("\"1\""));
    assert_eq!(listed.body["data"], json!([payment]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acknowledged_payment_survives_the_database_process_being_killed() {
    let server = PrivateMongoServer::start().await;
    let database = TestDatabase::on(server.uri());
    let app = TestApp::spawn_config(config_on(&database)).await;
    let payment = create_and_update(&app).await;

    // SIGKILL right after the acknowledgement: no clean shutdown, no chance to flush later.
    server.kill().await;
    server.resume().await;
    app.stop().await;
    let fresh = TestApp::spawn_config(config_on(&database)).await;

    let fetched = eventually(
        "the restarted database answers",
        Duration::from_secs(20),
        || async {
            let reply = fresh.get(&payment_path(&payment)).await;
            (reply.status != StatusCode::SERVICE_UNAVAILABLE).then_some(reply)
        },
    )
    .await;
    assert_eq!(fetched.status, StatusCode::OK, "{}", fetched.body);
    assert_eq!(fetched.body["data"], payment);
}
