//! Storage operations that outlive their request (the request timed out, or its client hung up)
//! are counted in the `storage_detached_operations` gauge and limited by
//! `--mongo-max-detached-operations`: a hanging database cannot gather them unseen.
//!
//! Runs a private SecantusDB (see `tests::secantus`), which the test freezes.

use std::time::{Duration, Instant};

use app::Config;
use reqwest::StatusCode;
use tests::mongo::TestDatabase;
use tests::requests::payment_path;
use tests::secantus::PrivateMongoServer;
use tests::{eventually, new_organisation_id, TestApp};

/// Every request gives up on its storage operation after this long.
const OPERATION_TIMEOUT: Duration = Duration::from_millis(1_000);
/// The limit of the test.
const MAX_DETACHED: usize = 2;

/// The value of the `storage_detached_operations` gauge.
async fn detached(app: &TestApp) -> u64 {
    let text = app.fetch("/metrics").await.text().await.expect("metrics");
    text.lines()
        .find_map(|line| line.strip_prefix("storage_detached_operations "))
        .unwrap_or_else(|| panic!("no detached-operations gauge in\n{text}"))
        .parse()
        .expect("a count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_a_hanging_database_keeps_are_counted_and_beyond_the_limit_refused_at_once() {
    let server = PrivateMongoServer::start().await;
    let database = TestDatabase::on(server.uri());
    let mut config = Config::defaults();
    database.configure(&mut config);
    config.mongo_operation_timeout_ms = OPERATION_TIMEOUT.as_millis() as u64;
    // Longer than the operation timeout: a frozen server keeps the operations waiting.
    config.mongo_server_selection_timeout_ms = 5_000;
    config.mongo_max_detached_operations = MAX_DETACHED;
    let app = TestApp::spawn_config(config).await;
    let path = payment_path(&app.create_payment(&new_organisation_id()).await);
    assert_eq!(detached(&app).await, 0);

    server.pause().await;
    for _ in 0..MAX_DETACHED {
        app.get(&path)
            .await
            .assert_error(StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable");
    }
    let at_the_limit = detached(&app).await;
    let started = Instant::now();
    let refused = app.get(&path).await;
    let refused_after = started.elapsed();
    let still = detached(&app).await;
    server.unpause().await;

    assert_eq!(at_the_limit, MAX_DETACHED as u64);
    refused.assert_error(StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable");
    assert!(refused.header("retry-after").is_some());
    // Refused without starting an operation: not waited for, not counted.
    assert!(
        refused_after < OPERATION_TIMEOUT,
        "refused after {refused_after:?}"
    );
    assert_eq!(still, MAX_DETACHED as u64);
    eventually(
        "the detached operations end",
        Duration::from_secs(20),
        || async { (detached(&app).await == 0).then_some(()) },
    )
    .await;
    assert_eq!(app.get(&path).await.status, StatusCode::OK);
}
