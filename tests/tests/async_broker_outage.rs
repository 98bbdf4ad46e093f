//! The broker stopped under a running server in the asynchronous write mode: writes answer 503
//! `broker_unavailable` within the bound (never 202), reads are still served, readiness says
//! why; the broker back, writes are accepted and applied again without restarting the server.
//!
//! The broker is a private tansu (see `tests::tansu`), killed with SIGKILL. tansu keeps nothing
//! across a restart, so the commands accepted before the kill are applied before it (a Kafka
//! cluster keeps them; the NATS broker's crash test covers a log that persists).

use std::time::{Duration, Instant};

use app::config::WriteMode;
use reqwest::StatusCode;
use tests::tansu::PrivateKafkaServer;
use tests::{eventually, new_organisation_id, payment_document, Backend, TestApp};

/// The broker bound of the server under test.
const BROKER_TIMEOUT_MS: u64 = 1_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_broker_gives_503_then_writes_resume_without_a_restart() {
    let broker = PrivateKafkaServer::start().await;
    let log = tests::kafka::test_config(broker.bootstrap());
    let app = TestApp::spawn_with(Backend::Memory, move |config| {
        tests::kafka::configure(config, log);
        config.write_mode = WriteMode::Async;
        config.broker_timeout_ms = BROKER_TIMEOUT_MS;
    })
    .await
    .without_waiting();
    let organisation = new_organisation_id();
    let mut accepted = Vec::new();
    for _ in 0..20 {
        let reply = app
            .post("/v1/payments", &payment_document(&organisation, "7.00"))
            .await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
        accepted.push(reply.header("location").unwrap().to_owned());
    }
    let mut stored = Vec::new();
    for location in &accepted {
        let finished = app.finished_command(location).await;
        assert_eq!(finished["status"], "applied", "{finished}");
        stored.push(finished["payment_id"].as_str().unwrap().to_owned());
    }

    broker.kill().await;

    let started = Instant::now();
    let refused = app
        .post("/v1/payments", &payment_document(&organisation, "8.00"))
        .await;
    let took = started.elapsed();
    refused.assert_error(StatusCode::SERVICE_UNAVAILABLE, "broker_unavailable");
    assert!(refused.header("retry-after").is_some());
    // Bounded by the broker timeout (plus scheduling slack on a loaded machine), never a hang.
    assert!(
        took < Duration::from_millis(BROKER_TIMEOUT_MS + 4_000),
        "{took:?}"
    );
    let read = app.get(&format!("/v1/payments/{}", stored[0])).await;
    assert_eq!(
        read.status,
        StatusCode::OK,
        "reads are served: {}",
        read.body
    );
    app.get("/health/ready")
        .await
        .assert_error(StatusCode::SERVICE_UNAVAILABLE, "broker_unavailable");

    broker.resume().await;

    let location = eventually(
        "writes are accepted again",
        Duration::from_secs(60),
        || async {
            let reply = app
                .post("/v1/payments", &payment_document(&organisation, "9.00"))
                .await;
            match reply.status {
                StatusCode::ACCEPTED => Some(reply.header("location").unwrap().to_owned()),
                StatusCode::SERVICE_UNAVAILABLE => {
                    reply.assert_error(StatusCode::SERVICE_UNAVAILABLE, "broker_unavailable");
                    None
                }
                other => panic!("neither 202 nor 503: {other} {}", reply.body),
            }
        },
    )
    .await;
    let finished = app.finished_command(&location).await;
    assert_eq!(finished["status"], "applied", "{finished}");
    assert_eq!(app.get("/health/ready").await.status, StatusCode::OK);
}

/// A client that hangs up while its command waits for the broker's acknowledgement: the broker
/// takes the command all the same and the worker applies it, so the server counts it as
/// published too (published and finished agree, as an operator comparing them expects).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_whose_client_hung_up_before_the_acknowledgement_is_counted_as_published() {
    let broker = PrivateKafkaServer::start().await;
    let log = tests::kafka::test_config(broker.bootstrap());
    let app = TestApp::spawn_with(Backend::Memory, move |config| {
        tests::kafka::configure(config, log);
        config.write_mode = WriteMode::Async;
    })
    .await
    .without_waiting();
    let organisation = new_organisation_id();
    // A first command: the topic exists and the worker holds the partitions.
    let first = app
        .post("/v1/payments", &payment_document(&organisation, "1.00"))
        .await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.body);
    let finished = app
        .finished_command(first.header("location").unwrap())
        .await;
    assert_eq!(finished["status"], "applied", "{finished}");

    broker.pause().await;
    let hung_up = app
        .request(reqwest::Method::POST, "/v1/payments")
        .timeout(Duration::from_millis(500))
        .json(&payment_document(&organisation, "2.00"))
        .send()
        .await;
    assert!(
        hung_up.as_ref().is_err_and(reqwest::Error::is_timeout),
        "{hung_up:?}"
    );
    broker.unpause().await;

    app.metrics_with(
        &[
            "payment_commands_published_total{action=\"create\"} 2",
            "payment_commands_finished_total{action=\"create\",status=\"applied\"} 2",
        ],
        Duration::from_secs(20),
    )
    .await;
    let listed = app
        .get(&format!(
            "/v1/payments?filter[organisation_id]={organisation}"
        ))
        .await;
    assert_eq!(listed.body["data"].as_array().map(Vec::len), Some(2));
}
