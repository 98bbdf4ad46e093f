//! The command log contract, run against NATS JetStream: each case on a fresh stream (see
//! `tests::nats` for where the server comes from). Then what only this log promises: a retried
//! append stored once, a command given up after `max_deliver` deliveries, and a record over the
//! server's `max_payload` refused as too large.

use std::time::Duration;

use domain::{CommandLog, LogSubscription};
use tests::nats::{open_log, server_url, test_config};

adapters::command_log_contract!(
    tests::nats::fresh_log,
    unreachable: tests::nats::unreachable_log,
    within: tests::nats::UNREACHABLE_APPEND_TIMEOUT,
);

async fn next_record(subscription: &dyn LogSubscription) -> domain::LogRecord {
    for _ in 0..100 {
        if let Some(record) = subscription
            .next(Duration::from_millis(200))
            .await
            .expect("next succeeds")
        {
            return record;
        }
    }
    panic!("no record within 20 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_append_retried_with_the_same_id_is_stored_once() {
    let log = open_log(&test_config(&server_url())).await;

    let first = log
        .append("command-1", b"organisation-a", b"one")
        .await
        .unwrap();
    let retried = log
        .append("command-1", b"organisation-a", b"one")
        .await
        .unwrap();
    let other = log
        .append("command-2", b"organisation-a", b"two")
        .await
        .unwrap();

    assert_eq!(retried, first, "the retry reports the stored record");
    assert!(other.offset > first.offset);
    let subscription = log.subscribe().await.unwrap();
    let one = next_record(&*subscription).await;
    subscription.commit(one.position).await.unwrap();
    let two = next_record(&*subscription).await;
    assert_eq!(
        (one.payload, two.payload),
        (b"one".to_vec(), b"two".to_vec())
    );
    subscription.commit(two.position).await.unwrap();
    let more = subscription.next(Duration::from_secs(1)).await.unwrap();
    assert_eq!(more, None, "the retry was stored twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_delivery_after_max_deliver_is_marked_to_be_given_up() {
    let mut config = test_config(&server_url());
    config.max_deliver = 2;
    let log = open_log(&config).await;
    let appended = log
        .append("command-1", b"organisation-a", b"poison")
        .await
        .unwrap();

    let mut marks = Vec::new();
    for _ in 0..3 {
        // Each subscription takes the command and goes away without committing it.
        let subscription = log.subscribe().await.unwrap();
        let record = next_record(&*subscription).await;
        assert_eq!(record.position, appended);
        marks.push(record.delivery_limit_reached);
    }

    assert_eq!(marks, [false, false, true]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_larger_than_the_server_accepts_is_too_large_and_not_stored() {
    let log = open_log(&test_config(&server_url())).await;
    // nats-server's default max_payload is 1 MiB.
    let large = vec![b'x'; 2 << 20];

    let appended = log.append("command-1", b"organisation-a", &large).await;

    assert!(
        matches!(appended, Err(domain::LogError::TooLarge(_))),
        "{appended:?}"
    );
    let subscription = log.subscribe().await.unwrap();
    let stored = subscription.next(Duration::from_secs(1)).await.unwrap();
    assert_eq!(stored, None);
}
