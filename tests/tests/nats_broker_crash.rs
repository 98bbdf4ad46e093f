//! The broker itself killed under load: a stream of asynchronous writes, the NATS server killed
//! with SIGKILL, then started again on the same store. Every command answered 202 before the
//! kill ends applied (none lost), writes while the server is down answer 503
//! `broker_unavailable` (never 202), and the same server process recovers by itself.
//!
//! The server is a private nats-server (`tests::nats::PrivateNatsServer`), so the tests beside
//! this one keep theirs; the payment server runs API and worker in this process, on memory
//! storage (only the broker is killed).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app::config::WriteMode;
use reqwest::StatusCode;
use tests::nats::{test_config, PrivateNatsServer};
use tests::{new_organisation_id, payment_document, Backend, TestApp};

/// Concurrent writers: enough to have commands in flight at the kill.
const WRITERS: usize = 4;
/// The broker timeout of the server under test: short, so outage answers come quickly.
const BROKER_TIMEOUT_MS: u64 = 1_000;

/// One write: when it was sent and answered, and the answer.
#[derive(Debug, Clone)]
struct Write {
    sent: Instant,
    answered: Instant,
    status: StatusCode,
    error_code: Option<String>,
    location: Option<String>,
}

/// Writes one payment after another until `stop` says so.
async fn write_until(app: Arc<TestApp>, stop: Arc<Mutex<bool>>, log: Arc<Mutex<Vec<Write>>>) {
    let organisation = new_organisation_id();
    while !*stop.lock().unwrap() {
        let sent = Instant::now();
        let reply = app
            .post("/v1/payments", &payment_document(&organisation, "1.00"))
            .await;
        let write = Write {
            sent,
            answered: Instant::now(),
            status: reply.status,
            error_code: reply.body["error_code"].as_str().map(str::to_owned),
            location: reply.header("location").map(str::to_owned),
        };
        log.lock().unwrap().push(write);
    }
}

fn accepted(writes: &[Write]) -> impl Iterator<Item = &Write> {
    writes.iter().filter(|w| w.status == StatusCode::ACCEPTED)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_accepted_before_a_broker_crash_is_applied_and_none_is_accepted_during_it() {
    let server = PrivateNatsServer::start();
    let nats = test_config(server.url());
    let app = TestApp::spawn_with(Backend::Memory, |config| {
        tests::nats::configure(config, nats);
        config.write_mode = WriteMode::Async;
        config.broker_timeout_ms = BROKER_TIMEOUT_MS;
    })
    .await
    .without_waiting();
    let app = Arc::new(app);
    let (stop, log) = (
        Arc::new(Mutex::new(false)),
        Arc::new(Mutex::new(Vec::new())),
    );
    let writers: Vec<_> = (0..WRITERS)
        .map(|_| tokio::spawn(write_until(app.clone(), stop.clone(), log.clone())))
        .collect();

    // Under load: wait for a steady stream of 202s, then kill the broker mid-stream.
    tests::eventually("100 writes accepted", Duration::from_secs(30), || async {
        (accepted(&log.lock().unwrap()).count() >= 100).then_some(())
    })
    .await;
    server.kill();
    let killed = Instant::now();
    tokio::time::sleep(Duration::from_millis(3 * BROKER_TIMEOUT_MS)).await;
    let resuming = Instant::now();
    server.resume();
    let resumed = Instant::now();
    // The same payment server recovers: new writes are accepted again.
    tests::eventually(
        "a write sent after the restart is accepted",
        Duration::from_secs(30),
        || async {
            accepted(&log.lock().unwrap())
                .any(|w| w.sent > resumed)
                .then_some(())
        },
    )
    .await;
    *stop.lock().unwrap() = true;
    for writer in writers {
        writer.await.expect("a writer finishes");
    }

    let writes = log.lock().unwrap().clone();
    for write in &writes {
        let refused_for_the_broker = write.status == StatusCode::SERVICE_UNAVAILABLE
            && write.error_code.as_deref() == Some("broker_unavailable");
        assert!(
            write.status == StatusCode::ACCEPTED || refused_for_the_broker,
            "{write:?}"
        );
    }
    let during_outage: Vec<&Write> = writes
        .iter()
        .filter(|w| w.sent > killed && w.answered < resuming)
        .collect();
    assert!(
        !during_outage.is_empty(),
        "no write was sent during the outage"
    );
    for write in &during_outage {
        assert_eq!(write.status, StatusCode::SERVICE_UNAVAILABLE, "{write:?}");
    }
    let before_kill: Vec<&Write> = accepted(&writes).filter(|w| w.answered < killed).collect();
    let mut applied = 0;
    for write in accepted(&writes) {
        let location = write.location.as_deref().expect("a 202 has a location");
        let finished = app.finished_command(location).await;
        assert_eq!(finished["status"], "applied", "{location}: {finished}");
        assert_eq!(finished["result"]["status"], 201, "{location}: {finished}");
        applied += 1;
    }
    eprintln!(
        "{} writes: {} accepted before the kill, {} refused during the outage, {applied} \
         accepted in all and applied",
        writes.len(),
        before_kill.len(),
        during_outage.len()
    );
}
