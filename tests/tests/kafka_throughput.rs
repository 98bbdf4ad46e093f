//! Measurements of the Kafka command log on the test broker, printed, never asserted (timings
//! depend on the machine): run them by hand with
//!
//! ```text
//! KAFKA_BOOTSTRAP_SERVERS=$(scripts/kafka-test-server.sh start) \
//!   cargo test -p tests --release --test kafka_throughput -- --ignored --nocapture --test-threads 1
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use adapters::KafkaCommandLog;
use domain::CommandLog;
use tests::kafka::{bootstrap_servers, open_log, test_config};

/// A payload the size of a typical command (a PUT with its attributes).
fn payload() -> Vec<u8> {
    vec![b'x'; 1_024]
}

async fn log_with_linger(linger: Duration) -> Arc<KafkaCommandLog> {
    let mut config = test_config(&bootstrap_servers());
    config.linger = linger;
    Arc::new(open_log(&config).await)
}

fn report(what: &str, count: usize, took: Duration) {
    println!(
        "{what}: {count} appends in {:.2} s = {:.0} appends/s ({:.2} ms each)",
        took.as_secs_f64(),
        count as f64 / took.as_secs_f64(),
        took.as_secs_f64() * 1_000.0 / count as f64
    );
}

async fn sequential(log: &KafkaCommandLog, count: usize) -> Duration {
    let payload = payload();
    let started = Instant::now();
    for n in 0..count {
        log.append(
            &n.to_string(),
            format!("organisation-{}", n % 100).as_bytes(),
            &payload,
        )
        .await
        .expect("append");
    }
    started.elapsed()
}

async fn concurrent(log: &Arc<KafkaCommandLog>, tasks: usize, each: usize) -> Duration {
    let started = Instant::now();
    let appenders: Vec<_> = (0..tasks)
        .map(|task| {
            let log = Arc::clone(log);
            tokio::spawn(async move {
                let payload = payload();
                for n in 0..each {
                    let key = format!("organisation-{}", (task * each + n) % 100);
                    log.append(&key, key.as_bytes(), &payload)
                        .await
                        .expect("append");
                }
            })
        })
        .collect();
    for appender in appenders {
        appender.await.expect("an appender finishes");
    }
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run by hand (see the module docs)"]
async fn append_throughput_sequential_and_64_concurrent() {
    for linger in [Duration::ZERO, Duration::from_millis(5)] {
        let log = log_with_linger(linger).await;
        let started = Instant::now();
        log.append("warm-up", b"warm-up", &payload())
            .await
            .expect("append");
        println!("linger {linger:?}: first append {:?}", started.elapsed());

        let count = if linger.is_zero() { 2_000 } else { 200 };
        let took = sequential(&log, count).await;
        report(&format!("linger {linger:?}, sequential"), count, took);

        let (tasks, each) = (64, if linger.is_zero() { 80 } else { 20 });
        let took = concurrent(&log, tasks, each).await;
        report(
            &format!("linger {linger:?}, {tasks} concurrent"),
            tasks * each,
            took,
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run by hand (see the module docs)"]
async fn append_to_delivery_latency() {
    let log = log_with_linger(Duration::ZERO).await;
    let subscription = log.subscribe().await.expect("subscribe");
    // Join the group before measuring.
    log.append("warm-up", b"warm-up", b"0")
        .await
        .expect("append");
    while subscription
        .next(Duration::from_secs(1))
        .await
        .expect("next")
        .is_none()
    {}

    let mut latencies = Vec::new();
    for n in 0..200 {
        let started = Instant::now();
        log.append(&n.to_string(), b"organisation", format!("{n}").as_bytes())
            .await
            .expect("append");
        let record = subscription
            .next(Duration::from_secs(5))
            .await
            .expect("next")
            .expect("the record comes");
        assert_eq!(record.payload, format!("{n}").as_bytes());
        latencies.push(started.elapsed());
    }
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    println!(
        "append → next, 200 records one at a time: p50 {:?}, p90 {:?}, p99 {:?}, max {:?}",
        at(0.5),
        at(0.9),
        at(0.99),
        at(1.0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run by hand (see the module docs)"]
async fn commit_throughput_one_by_one_and_16_concurrent() {
    let log = log_with_linger(Duration::ZERO).await;
    let count = 1_000;
    concurrent(&log, 10, count / 10).await;
    let subscription = log.subscribe().await.expect("subscribe");
    let mut records = Vec::with_capacity(count);
    while records.len() < count {
        if let Some(record) = subscription
            .next(Duration::from_secs(1))
            .await
            .expect("next")
        {
            records.push(record.position);
        }
    }
    let (first_half, second_half) = records.split_at(count / 2);

    let started = Instant::now();
    for position in first_half {
        subscription.commit(*position).await.expect("commit");
    }
    println!(
        "commit one by one: {} commits in {:.2} s",
        first_half.len(),
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let chunks: Vec<Vec<_>> = second_half
        .chunks(count / 2 / 16 + 1)
        .map(<[_]>::to_vec)
        .collect();
    let committers: Vec<_> = chunks
        .into_iter()
        .map(|chunk| {
            let subscription = Arc::clone(&subscription);
            tokio::spawn(async move {
                for position in chunk {
                    subscription.commit(position).await.expect("commit");
                }
            })
        })
        .collect();
    for committer in committers {
        committer.await.expect("a committer finishes");
    }
    println!(
        "commit from 16 tasks: {} commits in {:.2} s",
        second_half.len(),
        started.elapsed().as_secs_f64()
    );
}
