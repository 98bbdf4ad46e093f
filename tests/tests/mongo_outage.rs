//! MongoDB going away under a running server, and the server starting while MongoDB is down:
//! every request answers 503 with our JSON body and `Retry-After` within the configured
//! timeout, and service resumes by itself when the database is back.
//!
//! Each test runs a private SecantusDB (see `tests::secantus`) so that stopping it disturbs no
//! other test.

use std::time::{Duration, Instant};

use adapters::MongoPaymentRepository;
use app::Config;
use domain::{PaymentRepository, RepositoryError};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tests::mongo::TestDatabase;
use tests::requests::payment_path;
use tests::secantus::PrivateMongoServer;
use tests::{eventually, nats, new_organisation_id, payment_document, Reply, TestApp};

/// The MongoDB operation timeout of these tests: every request must be answered within it.
const OPERATION_TIMEOUT: Duration = Duration::from_millis(1_000);
/// Scheduling slack on a loaded two-core machine.
const SLACK: Duration = Duration::from_millis(1_500);
/// How long the database may take to be usable again after it comes back.
const RECOVERY: Duration = Duration::from_secs(20);

fn short_timeouts(database: &TestDatabase) -> Config {
    let mut config = Config::defaults();
    database.configure(&mut config);
    config.mongo_connect_timeout_ms = 500;
    config.mongo_server_selection_timeout_ms = 500;
    config.mongo_operation_timeout_ms = OPERATION_TIMEOUT.as_millis() as u64;
    config
}

/// Sends `request`, failing the test if no answer comes in ten seconds (a hung request).
async fn timed(request: impl std::future::Future<Output = Reply>) -> (Reply, Duration) {
    let started = Instant::now();
    let reply = tokio::time::timeout(Duration::from_secs(10), request)
        .await
        .expect("the server answers instead of hanging");
    (reply, started.elapsed())
}

/// The reply is 503 `storage_unavailable` with `Retry-After`, and came in time.
fn assert_unavailable_in_time(route: &str, (reply, took): (Reply, Duration)) {
    reply.assert_error(StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable");
    assert!(
        reply.header("retry-after").is_some(),
        "{route}: no Retry-After"
    );
    assert!(
        took <= OPERATION_TIMEOUT + SLACK,
        "{route} took {took:?}, the timeout is {OPERATION_TIMEOUT:?}"
    );
}

fn list_path(payment: &Value) -> String {
    format!(
        "/v1/payments?filter[organisation_id]={}",
        payment["organisation_id"].as_str().unwrap()
    )
}

/// A creation document with a client-chosen id, so that sending it again is a safe retry.
fn document_with_id(organisation: &str) -> Value {
    let mut document = payment_document(organisation, "3.00");
    document["data"]["id"] = json!(new_organisation_id());
    document
}

/// Waits until `path` answers 200 again and returns that reply.
async fn recovered(app: &TestApp, path: &str) -> Reply {
    eventually("the payment is served again", RECOVERY, || async {
        let reply = app.get(path).await;
        (reply.status == StatusCode::OK).then_some(reply)
    })
    .await
}

async fn assert_writes_work(app: &TestApp, payment: &Value) {
    let mut update = payment_document(payment["organisation_id"].as_str().unwrap(), "4.00");
    update["data"]["version"] = json!(0);
    let updated = app.put(&payment_path(payment), &update).await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(updated.body["data"]["version"], 1);
}

/// GET, list and a create (`create`) all answer 503 in time.
async fn assert_reads_and_create_are_unavailable(app: &TestApp, payment: &Value, create: &Value) {
    let path = payment_path(payment);
    assert_unavailable_in_time("get", timed(app.get(&path)).await);
    assert_unavailable_in_time("list", timed(app.get(&list_path(payment))).await);
    assert_unavailable_in_time("create", timed(app.post("/v1/payments", create)).await);
}

/// An app with short timeouts on a fresh database of `server`, holding one payment.
async fn app_with_a_payment(server: &PrivateMongoServer) -> (TestApp, Value, String) {
    let database = TestDatabase::on(server.uri());
    let app = TestApp::spawn_config(short_timeouts(&database)).await;
    let payment = app.create_payment(&new_organisation_id()).await;
    let organisation = payment["organisation_id"].as_str().unwrap().to_owned();
    (app, payment, organisation)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_database_gets_503_within_the_timeout_and_service_resumes_without_restart() {
    let server = PrivateMongoServer::start().await;
    let (app, payment, organisation) = app_with_a_payment(&server).await;

    server.kill().await;
    app.get("/health/ready")
        .await
        .assert_error(StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable");
    let path = payment_path(&payment);
    let mut update = payment_document(&organisation, "2.00");
    update["data"]["version"] = json!(0);
    assert_reads_and_create_are_unavailable(&app, &payment, &document_with_id(&organisation)).await;
    assert_unavailable_in_time("update", timed(app.put(&path, &update)).await);
    assert_unavailable_in_time("delete", timed(app.delete(&path)).await);
    server.resume().await;

    let reply = recovered(&app, &payment_path(&payment)).await;
    assert_eq!(reply.body["data"], payment);
    assert_writes_work(&app, &payment).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_database_gets_503_within_the_timeout_and_service_resumes_without_restart() {
    let server = PrivateMongoServer::start().await;
    let (app, payment, organisation) = app_with_a_payment(&server).await;

    server.pause().await;
    let path = payment_path(&payment);
    let create = document_with_id(&organisation);
    // The create that times out may still be applied once the database wakes up: the client
    // cannot know, which is why creates with a client id are safe to send again.
    assert_reads_and_create_are_unavailable(&app, &payment, &create).await;
    server.unpause().await;

    let reply = recovered(&app, &path).await;
    assert_eq!(reply.body["data"], payment);
    let retried = app.post("/v1/payments", &create).await;
    assert!(
        [StatusCode::CREATED, StatusCode::OK].contains(&retried.status),
        "{}",
        retried.body
    );
    assert_eq!(
        retried.body["data"]["attributes"],
        create["data"]["attributes"]
    );
    let listed = app.get(&list_path(&payment)).await;
    assert_eq!(listed.body["data"].as_array().unwrap().len(), 2);
    assert_writes_work(&app, &payment).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_starts_while_the_database_is_down_and_serves_once_it_is_up() {
    let server = PrivateMongoServer::start().await;
    server.kill().await;
    let database = TestDatabase::on(server.uri());
    let config = short_timeouts(&database);
    let probe = MongoPaymentRepository::open(&app::storage::mongo_config(&config))
        .await
        .expect("the repository opens while the database is down");

    let app = TestApp::spawn_config(config).await;
    let organisation = new_organisation_id();
    let list = format!("/v1/payments?filter[organisation_id]={organisation}");
    assert_unavailable_in_time("list", timed(app.get(&list)).await);
    assert_unavailable_in_time(
        "create",
        timed(app.post("/v1/payments", &document_with_id(&organisation))).await,
    );
    assert!(matches!(
        probe.check_health().await,
        Err(RepositoryError::Unavailable(_))
    ));
    app.get("/health/ready")
        .await
        .assert_error(StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable");
    assert_eq!(app.get("/health/live").await.status, StatusCode::OK);

    server.resume().await;
    let created = eventually("a payment can be created", RECOVERY, || async {
        let reply = app
            .post("/v1/payments", &payment_document(&organisation, "1.00"))
            .await;
        (reply.status == StatusCode::CREATED).then_some(reply)
    })
    .await;
    assert_eq!(probe.check_health().await, Ok(()));
    let ready = app.get("/health/ready").await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);
    assert_eq!(
        app.get(&payment_path(&created.body["data"])).await.body,
        created.body
    );
    let payments = database.payments().await;
    eventually("the listing index exists", RECOVERY, || async {
        // Any call lets the server notice that the index is still missing.
        app.get(&list).await;
        let names = payments.list_index_names().await.ok()?;
        names
            .contains(&"organisation_id_1__id_1".to_owned())
            .then_some(())
    })
    .await;
}

/// An API instance of the asynchronous mode (no worker) on `database`, its commands on a NATS
/// stream of `stream`'s.
async fn async_api(database: &TestDatabase, stream: &adapters::NatsConfig) -> TestApp {
    let mut config = short_timeouts(database);
    nats::configure(&mut config, stream.clone());
    config.write_mode = app::config::WriteMode::Async;
    config.role = app::config::Role::Api;
    TestApp::spawn_config(config).await.without_waiting()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_accepted_while_the_database_is_down_is_recorded_accepted_once_it_is_back() {
    let server = PrivateMongoServer::start().await;
    let database = TestDatabase::on(server.uri());
    let stream = nats::test_config(&nats::server_url());
    let accepting = async_api(&database, &stream).await;
    let other = async_api(&database, &stream).await;

    server.kill().await;
    let organisation = new_organisation_id();
    let accepted = accepting
        .post("/v1/payments", &payment_document(&organisation, "5.00"))
        .await;
    assert_eq!(accepted.status, StatusCode::ACCEPTED, "{}", accepted.body);
    let location = accepted.header("location").expect("a Location").to_owned();
    // The instance that accepted it answers from memory while the store cannot be read.
    let (status, _) = timed(accepting.get(&location)).await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.body);
    assert_eq!(status.body["data"]["status"], "accepted");
    // Past the failed attempt to store the record (the server selection timeout is 500 ms).
    tokio::time::sleep(OPERATION_TIMEOUT + SLACK).await;
    assert_eq!(
        accepting.get(&location).await.body["data"]["status"],
        "accepted"
    );

    server.resume().await;
    // No worker runs: only the accepted record, stored now, lets another instance know it.
    let seen = eventually("another instance reads the command", RECOVERY, || async {
        let reply = other.get(&location).await;
        (reply.status == StatusCode::OK).then_some(reply)
    })
    .await;
    assert_eq!(seen.body["data"]["status"], "accepted");
    assert_eq!(seen.body["data"]["id"], accepted.body["data"]["id"]);
    assert_eq!(
        seen.body["data"]["organisation_id"].as_str(),
        Some(organisation.as_str())
    );
}

/// "First outcome wins" rests on the unique index of the finished pages: a database that comes
/// back from an outage without it (restored from a backup without indexes, say) gets it again
/// before the next page is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_finished_pages_unique_index_is_created_again_after_an_outage() {
    use domain::{CommandOutcome, CommandStore, Timestamp, Version};

    let server = PrivateMongoServer::start().await;
    let database = TestDatabase::on(server.uri());
    let repository =
        MongoPaymentRepository::open(&app::storage::mongo_config(&short_timeouts(&database)))
            .await
            .expect("the repository opens");
    let store = repository.command_store("payment_commands", Duration::from_secs(3600));
    let record = adapters::command_store_contract::sample_record();
    let outcome = |version: u64, kind: fn(Version) -> CommandOutcome| {
        record
            .clone()
            .finished(kind(Version::new(version).unwrap()), Timestamp::now())
    };
    let first = outcome(1, |version| CommandOutcome::Created { version });
    let stored = store
        .record_finished_many(std::slice::from_ref(&first))
        .await;
    assert_eq!(stored, vec![Ok(first.clone())]);

    let pages = database.collection("payment_commands_finished").await;
    server.kill().await;
    assert!(matches!(
        store.find(record.id).await,
        Err(RepositoryError::Unavailable(_))
    ));
    server.resume().await;
    eventually("the store answers again", RECOVERY, || async {
        store.find(record.id).await.ok()
    })
    .await;
    // Back without the index.
    pages.drop_index("ids_1").await.expect("the index drops");

    let later = outcome(2, |version| CommandOutcome::Updated { version });
    let answer = store.record_finished_many(&[later]).await.remove(0);
    assert_eq!(answer, Ok(first.clone()), "the first outcome stays");
    assert_eq!(store.find(record.id).await, Ok(Some(first)));
    let names = pages.list_index_names().await.expect("the indexes list");
    assert!(names.contains(&"ids_1".to_owned()), "{names:?}");
}
