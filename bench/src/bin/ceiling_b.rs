//! Ceiling B: the storage limit. The raw `mongodb` driver doing the storage work of each payment
//! endpoint against the same database server the Mongo-backed payment server uses, from
//! `--concurrency` tasks for `--seconds`, with no HTTP, validation or domain in between.
//!
//! `get` is `find_one` by `_id`; `insert` is `insert_one` of a new payment; `update` is the
//! version-checked `update_one({_id, version}, {$set: …})`; `list` is a `find` sorted by `_id`
//! with a limit of 101 (a 100-item page and the "more" probe). It prints one `BENCH_RESULT`
//! line in the format of the wrk scripts, with its own CPU time as the "server" CPU.
//!
//! The collection is kept between runs (dropped with `--fresh`) and topped up to `--documents`,
//! so it grows as the payment server's does.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bench::stats::{elapsed_us, percentile};
use clap::{Parser, ValueEnum};
use futures_util::TryStreamExt;
use mongodb::bson::{doc, DateTime, Document};
use mongodb::options::{Acknowledgment, WriteConcern};
use mongodb::{Client, Collection, IndexModel};

/// The payment server's default `--mongo-operation-timeout-ms`.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(3);

/// The owner of every payment written here.
const ORGANISATION: &str = "743d5b63-8e6f-432e-a8fa-c5d8d2ee5fcb";

/// The driver operation measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Op {
    Get,
    Insert,
    Update,
    List,
}

/// The raw MongoDB driver doing each endpoint's storage work: the ceiling for the Mongo backend.
#[derive(Debug, Parser)]
struct Args {
    /// MongoDB connection string.
    #[arg(long)]
    uri: String,
    /// Database to work in (its collection is dropped first).
    #[arg(long, default_value = "payment_bench_ceiling")]
    database: String,
    /// Operation.
    #[arg(long, value_enum)]
    op: Op,
    /// Concurrent tasks.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Seconds of load.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Fresh payments stored before measuring (read and updated).
    #[arg(long, default_value_t = 1000)]
    pool: usize,
    /// Payments the collection should hold at least before measuring (the payment server's
    /// count, so that listing works on a collection of the same size).
    #[arg(long, default_value_t = 0)]
    documents: usize,
    /// Drop the collection first (the first measurement of a run).
    #[arg(long)]
    fresh: bool,
}

/// What one task saw.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    errors: u64,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let client = Client::with_uri_str(&args.uri).await?;
    // The payment server's default write concern: majority, journaled.
    let concern = WriteConcern::builder()
        .w(Acknowledgment::Majority)
        .journal(true)
        .build();
    let collection: Collection<Document> = client.database(&args.database).collection_with_options(
        "payments",
        mongodb::options::CollectionOptions::builder()
            .write_concern(concern)
            .build(),
    );
    if args.fresh {
        collection.drop().await?;
    }
    // The index the payment server's adapter keeps, so writes maintain the same indexes.
    collection
        .create_index(
            IndexModel::builder()
                .keys(doc! {"organisation_id": 1, "_id": 1})
                .build(),
        )
        .await?;
    let attributes = payment_attributes()?;
    let ids: Vec<String> = (0..args.pool).map(|_| new_id()).collect();
    insert_all(
        &collection,
        ids.iter().map(|id| payment(id, 0, &attributes)),
    )
    .await?;
    // As many payments as the payment server holds, so a sorted page costs the same to find.
    let stored = usize::try_from(collection.estimated_document_count().await?)?;
    let missing = args.documents.saturating_sub(stored);
    insert_all(
        &collection,
        (0..missing).map(|_| payment(&new_id(), 0, &attributes)),
    )
    .await?;
    let ids = Arc::new(ids);
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    let cpu_before = bench::procfs::cpu_time_us(None).unwrap_or(0);
    let mut tasks = Vec::new();
    for task in 0..args.concurrency.max(1) {
        let collection = collection.clone();
        let attributes = attributes.clone();
        let ids = ids.clone();
        let concurrency = args.concurrency.max(1);
        let op = args.op;
        tasks.push(tokio::spawn(async move {
            // Each task owns the ids at its stride, so update versions are its alone to track.
            let mine: Vec<String> = ids
                .iter()
                .skip(task)
                .step_by(concurrency)
                .cloned()
                .collect();
            let mut versions = vec![0_i64; mine.len()];
            let mut tally = Tally::default();
            let mut turn = 0;
            while Instant::now() < deadline {
                let slot = if mine.is_empty() {
                    0
                } else {
                    turn % mine.len()
                };
                turn += 1;
                let begun = Instant::now();
                let operation = async {
                    match op {
                        Op::Get => get(&collection, &mine[slot]).await,
                        Op::Insert => insert(&collection, &attributes).await,
                        Op::Update => {
                            update(&collection, &mine[slot], &mut versions[slot], &attributes).await
                        }
                        Op::List => list(&collection).await,
                    }
                };
                // Bounded like the server's storage calls: a slower one is a failure there too.
                let ok = tokio::time::timeout(OPERATION_TIMEOUT, operation)
                    .await
                    .unwrap_or(false);
                tally.latencies_us.push(elapsed_us(begun));
                tally.errors += u64::from(!ok);
            }
            tally
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let tally = task.await?;
        latencies.extend(tally.latencies_us);
        errors += tally.errors;
    }
    let duration_us = elapsed_us(started);
    let cpu_us = bench::procfs::cpu_time_us(None)
        .unwrap_or(0)
        .saturating_sub(cpu_before);
    latencies.sort_unstable();
    let pct = |q: f64| percentile(&latencies, q);
    println!(
        "BENCH_RESULT {{\"requests\":{},\"duration_us\":{duration_us},\"bytes\":0,\"connect_errors\":0,\
         \"read_errors\":0,\"write_errors\":0,\"timeouts\":0,\"status_errors\":{errors},\
         \"p50_us\":{},\"p90_us\":{},\"p99_us\":{},\"max_us\":{},\"server_cpu_us\":{cpu_us}}}",
        latencies.len(),
        pct(0.50),
        pct(0.90),
        pct(0.99),
        latencies.last().copied().unwrap_or(0),
    );
    Ok(())
}

/// Inserts `documents` in batches.
async fn insert_all(
    collection: &Collection<Document>,
    documents: impl Iterator<Item = Document>,
) -> Result<(), mongodb::error::Error> {
    let mut documents = documents.peekable();
    while documents.peek().is_some() {
        let batch: Vec<Document> = documents.by_ref().take(1000).collect();
        collection.insert_many(batch).await?;
    }
    Ok(())
}

async fn get(collection: &Collection<Document>, id: &str) -> bool {
    matches!(collection.find_one(doc! {"_id": id}).await, Ok(Some(_)))
}

async fn insert(collection: &Collection<Document>, attributes: &Document) -> bool {
    collection
        .insert_one(payment(&new_id(), 0, attributes))
        .await
        .is_ok()
}

async fn update(
    collection: &Collection<Document>,
    id: &str,
    version: &mut i64,
    attributes: &Document,
) -> bool {
    let filter = doc! {"_id": id, "version": *version};
    let change = doc! {"$set": {
        "version": *version + 1,
        "organisation_id": ORGANISATION,
        "attributes": attributes.clone(),
        "updated_at": DateTime::now(),
    }};
    match collection.update_one(filter, change).await {
        Ok(result) if result.matched_count == 1 => {
            *version += 1;
            true
        }
        _ => false,
    }
}

async fn list(collection: &Collection<Document>) -> bool {
    match collection
        .find(doc! {})
        .sort(doc! {"_id": 1})
        .limit(101)
        .await
    {
        Ok(cursor) => cursor.try_collect::<Vec<Document>>().await.is_ok(),
        Err(_) => false,
    }
}

/// The attributes of the black-box tests' typical payment, as BSON.
fn payment_attributes() -> Result<Document, Box<dyn std::error::Error>> {
    let document = tests::payment_document(&tests::new_organisation_id(), "100.21");
    Ok(mongodb::bson::to_document(&document["data"]["attributes"])?)
}

/// The payment document the server's adapter stores (`adapters/src/mongo/document.rs`).
fn payment(id: &str, version: i64, attributes: &Document) -> Document {
    let now = DateTime::now();
    doc! {
        "_id": id,
        "version": version,
        "organisation_id": ORGANISATION,
        "attributes": attributes.clone(),
        "created_at": now,
        "updated_at": now,
    }
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
