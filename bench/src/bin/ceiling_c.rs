//! Ceiling C: the broker limit. A raw `rdkafka` producer sending the bytes of an asynchronous
//! POST's command, keyed by its organisation as the server keys them, with the server's producer
//! settings, from `--concurrency` tasks for `--seconds`: no HTTP, validation or command records
//! in between.
//!
//! Each organisation in `--organisations` gets one create command, built from the benchmark's
//! payment document and encoded once with `domain::PaymentCommand::encode`; task `i` sends the
//! command of organisation `i mod n` again and again, each send awaiting its delivery report as
//! the server's append does. It prints one `BENCH_RESULT` line in the format of the wrk scripts
//! (latency is send to acknowledgement), with its own CPU time as the "server" CPU.
//!
//! The topic (its own, never the server's) is created with `--partitions` partitions when
//! missing and kept between runs.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bench::stats::{elapsed_us, print_result, Tally};
use clap::Parser;
use domain::{OrganisationId, PaymentAttributes, PaymentCommand};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;

// The payment server's allocator, so its figures are not credited with it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The raw producer sending the server's command bytes: the ceiling for asynchronous writes.
#[derive(Debug, Parser)]
struct Args {
    /// Kafka bootstrap servers, `host:port`.
    #[arg(long)]
    brokers: String,
    /// Topic to send to (created when missing).
    #[arg(long, default_value = "bench-ceiling-c")]
    topic: String,
    /// Partitions the topic is created with (the server's `--kafka-partitions` default).
    #[arg(long, default_value_t = 32)]
    partitions: i32,
    /// A file of organisation ids, one per line: the keys, as the server's load uses them.
    #[arg(long)]
    organisations: PathBuf,
    /// Concurrent tasks, each with one send in flight.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Seconds of load.
    #[arg(long, default_value_t = 3)]
    seconds: u64,
    /// The server's `--broker-timeout-ms` (librdkafka's `message.timeout.ms`, and the bound on
    /// each send).
    #[arg(long, default_value_t = 5_000)]
    append_timeout_ms: u64,
    /// The server's `--kafka-linger-ms`.
    #[arg(long, default_value_t = 0)]
    linger_ms: u64,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let organisations = std::fs::read_to_string(&args.organisations)?
        .lines()
        .filter(|line| !line.is_empty())
        .map(OrganisationId::parse)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: {e}", args.organisations.display()))?;
    if organisations.is_empty() {
        return Err(format!("{} lists no organisation", args.organisations.display()).into());
    }
    let commands: Arc<Vec<(String, Vec<u8>)>> = Arc::new(
        organisations
            .iter()
            .map(|organisation| encoded_command(*organisation))
            .collect::<Result<_, _>>()?,
    );
    create_topic(&args).await?;
    let producer: FutureProducer = producer_config(&args).create()?;
    let bound = Duration::from_millis(args.append_timeout_ms);
    // Metadata, the idempotent producer's id and a connection, as a warmed-up server has them.
    for (key, payload) in commands.iter() {
        send(&producer, &args.topic, key, payload, bound)
            .await
            .map_err(|e| format!("warm-up send: {e}"))?;
    }

    let producer = Arc::new(producer);
    let topic: Arc<str> = Arc::from(args.topic.as_str());
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    let cpu_before = bench::procfs::cpu_time_us(None).unwrap_or(0);
    let mut tasks = Vec::new();
    for task in 0..args.concurrency.max(1) {
        let producer = producer.clone();
        let commands = commands.clone();
        let topic = topic.clone();
        tasks.push(tokio::spawn(async move {
            let (key, payload) = &commands[task % commands.len()];
            let mut tally = Tally::default();
            while Instant::now() < deadline {
                let begun = Instant::now();
                let ok = send(&producer, &topic, key, payload, bound).await.is_ok();
                tally.latencies_us.push(elapsed_us(begun));
                tally.errors += u64::from(!ok);
            }
            tally
        }));
    }
    let mut tallies = Vec::new();
    for task in tasks {
        tallies.push(task.await?);
    }
    print_result(tallies, started, cpu_before);
    Ok(())
}

/// The log key and bytes of the create command an asynchronous POST of the benchmark's payment
/// document for `organisation` becomes.
fn encoded_command(
    organisation: OrganisationId,
) -> Result<(String, Vec<u8>), Box<dyn std::error::Error>> {
    let document = tests::payment_document(&organisation.to_string(), "100.21");
    let attributes = PaymentAttributes::from_value(document["data"]["attributes"].clone())
        .map_err(|e| format!("the benchmark's document: {e}"))?;
    // The benchmark's server runs without authentication, and writes its request id (a
    // hyphenated UUID) into the command.
    let command = PaymentCommand {
        request_id: Some(uuid::Uuid::now_v7().to_string()),
        ..tests::worker_log::create_with(organisation, attributes)
    };
    Ok((command.key(), command.encode()))
}

/// The producer settings of the server's Kafka command log (`KafkaConfig::producer` in
/// `adapters/src/kafka/config.rs`): idempotent, acknowledged by every in-sync replica, the Java
/// client's key placement, the append timeout as `message.timeout.ms`, the same linger.
fn producer_config(args: &Args) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &args.brokers)
        .set("client.id", "ceiling-c")
        .set("reconnect.backoff.max.ms", "1000")
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("partitioner", "murmur2_random")
        .set("message.timeout.ms", args.append_timeout_ms.to_string())
        .set("linger.ms", args.linger_ms.to_string())
        .set("allow.auto.create.topics", "false");
    config
}

/// Creates the topic unless it exists, as the server's log creates its own.
async fn create_topic(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", &args.brokers)
        .create()?;
    let topic = NewTopic::new(&args.topic, args.partitions, TopicReplication::Fixed(-1));
    let options = AdminOptions::new().request_timeout(Some(Duration::from_secs(10)));
    for result in admin.create_topics([&topic], &options).await? {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((name, code)) => return Err(format!("creating topic {name}: {code:?}").into()),
        }
    }
    Ok(())
}

/// One append as the server's log makes it: send, then wait for the delivery report within
/// `bound`.
async fn send(
    producer: &FutureProducer,
    topic: &str,
    key: &str,
    payload: &[u8],
    bound: Duration,
) -> Result<(), String> {
    let record = FutureRecord::to(topic).key(key).payload(payload);
    let delivery = producer
        .send_result(record)
        .map_err(|(error, _)| error.to_string())?;
    match tokio::time::timeout(bound, delivery).await {
        Ok(Ok(Ok(_))) => Ok(()),
        Ok(Ok(Err((error, _)))) => Err(error.to_string()),
        Ok(Err(_canceled)) => Err("the producer was closed".into()),
        Err(_) => Err(format!("no acknowledgement within {bound:?}")),
    }
}
