//! Asynchronous writes through Kafka with worker **processes** (the real binary, `--role
//! worker`) on one consumer group, one of them killed with SIGKILL mid-run: per-organisation
//! order holds and every command is applied exactly once in effect.
//!
//! The API runs in this process (`--role api`); storage is MongoDB (shared by every process),
//! the broker the Kafka test broker (`tests::kafka`).

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use app::config::{BrokerKind, Role, WriteMode};
use reqwest::StatusCode;
use serde_json::Value;
use tests::mongo::TestDatabase;
use tests::{eventually, new_organisation_id, payment_document, Backend, TestApp};

/// The `payment-server` binary of this build (built beside the test executables).
fn binary() -> PathBuf {
    let test = std::env::current_exe().expect("the test executable's path");
    // target/<profile>/deps/<test> → target/<profile>/payment-server
    let dir = test
        .parent()
        .and_then(|deps| deps.parent())
        .expect("a target directory");
    let binary = dir.join("payment-server");
    assert!(
        binary.exists(),
        "{} is missing: build the workspace (scripts/test.sh does)",
        binary.display()
    );
    binary
}

/// Where the commands go: a topic and group of this test only, on the test broker.
struct Topology {
    database: Arc<TestDatabase>,
    brokers: String,
    topic: String,
    group: String,
}

impl Topology {
    fn new(database: Arc<TestDatabase>) -> Topology {
        let unique = domain::PaymentId::generate().as_uuid().simple().to_string();
        Topology {
            database,
            brokers: tests::kafka::bootstrap_servers(),
            topic: format!("test-commands-{unique}"),
            group: format!("test-workers-{unique}"),
        }
    }

    /// The API in this process: asynchronous writes, no worker.
    async fn api(&self) -> TestApp {
        let (brokers, topic, group) =
            (self.brokers.clone(), self.topic.clone(), self.group.clone());
        TestApp::spawn_with(Backend::Mongo(self.database.clone()), move |config| {
            config.write_mode = WriteMode::Async;
            config.role = Role::Api;
            config.broker = BrokerKind::Kafka;
            config.kafka_brokers = brokers;
            config.kafka_topic = topic;
            config.kafka_group = group;
            config.kafka_partitions = 4;
            config.kafka_session_timeout_ms = 2_000;
            config.kafka_fetch_wait_ms = 50;
        })
        .await
        .without_waiting()
    }

    /// A worker process on the same storage, topic and group.
    fn worker(&self) -> Worker {
        let mut child = Command::new(binary())
            .args(["--listen", "127.0.0.1:0", "--log-format", "json"])
            .args([
                "--role",
                "worker",
                "--write-mode",
                "async",
                "--broker",
                "kafka",
            ])
            .args(["--storage", "mongo", "--mongo-uri", self.database.uri()])
            .args(["--mongo-database", self.database.name()])
            .args([
                "--kafka-brokers",
                &self.brokers,
                "--kafka-topic",
                &self.topic,
            ])
            .args(["--kafka-group", &self.group, "--kafka-partitions", "4"])
            .args([
                "--kafka-session-timeout-ms",
                "2000",
                "--kafka-fetch-wait-ms",
                "50",
            ])
            .env("RUST_LOG", "warn,app::worker=debug")
            .stdout(Stdio::piped())
            .spawn()
            .expect("the worker starts");
        let applied = Arc::new(Mutex::new(HashSet::new()));
        let stdout = child.stdout.take().expect("piped stdout");
        let seen = applied.clone();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let Ok(line) = serde_json::from_str::<Value>(&line) else {
                    continue;
                };
                if line["message"] == "command finished" {
                    if let Some(id) = line["command_id"].as_str() {
                        seen.lock().unwrap().insert(id.to_owned());
                    }
                }
            }
        });
        Worker { child, applied }
    }
}

/// A worker process, killed when dropped.
struct Worker {
    child: Child,
    /// The commands this worker finished, from its log.
    applied: Arc<Mutex<HashSet<String>>>,
}

impl Worker {
    fn has_applied(&self, command: &str) -> bool {
        self.applied.lock().unwrap().contains(command)
    }

    /// SIGKILL: no shutdown, no commit, no goodbye to the group.
    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn command_id(location: &str) -> String {
    location.rsplit('/').next().unwrap_or_default().to_owned()
}

/// 50 PUTs of one payment sent back to back (each after the previous 202, naming the version
/// the previous one produces), two workers on the group, the one applying them killed halfway:
/// all 50 end applied, in order, and the payment ends at version 50.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_puts_stay_in_order_across_a_killed_worker() {
    let topology = Topology::new(TestDatabase::create().await);
    let api = topology.api().await;
    let first = topology.worker();
    let second = topology.worker();
    let organisation = new_organisation_id();
    let created = api
        .post("/v1/payments", &payment_document(&organisation, "1.00"))
        .await;
    assert_eq!(created.status, StatusCode::ACCEPTED, "{}", created.body);
    let id = created.body["data"]["payment_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let create = command_id(created.header("location").unwrap());
    api.finished_command(created.header("location").unwrap())
        .await;
    let holder_is_first = eventually(
        "a worker logs the create",
        Duration::from_secs(20),
        || async {
            match (first.has_applied(&create), second.has_applied(&create)) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            }
        },
    )
    .await;
    let (holder, survivor) = if holder_is_first {
        (first, second)
    } else {
        (second, first)
    };

    let mut locations = Vec::new();
    let mut holder = Some(holder);
    for version in 0..50 {
        let mut document = payment_document(&organisation, &format!("{}.00", version + 2));
        document["data"]["version"] = version.into();
        let reply = api.put(&format!("/v1/payments/{id}"), &document).await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
        locations.push(reply.header("location").unwrap().to_owned());
        if version == 24 {
            // Halfway, once the holder has applied something of this run: kill it mid-stream.
            let started = command_id(&locations[0]);
            let worker = holder.take().unwrap();
            eventually(
                "the holder applies the first PUT",
                Duration::from_secs(20),
                || async { worker.has_applied(&started).then_some(()) },
            )
            .await;
            worker.kill();
        }
    }

    for (n, location) in locations.iter().enumerate() {
        let finished = api.finished_command(location).await;
        assert_eq!(finished["status"], "applied", "PUT {n}: {finished}");
        assert_eq!(finished["result"]["version"], n + 1, "PUT {n}: {finished}");
    }
    let stored = api.get(&format!("/v1/payments/{id}")).await;
    assert_eq!(stored.body["data"]["version"], 50);
    assert_eq!(stored.body["data"]["attributes"]["amount"], "51.00");
    assert!(
        !survivor.applied.lock().unwrap().is_empty(),
        "the surviving worker took the partition over"
    );
}

/// 1,000 creates and updates over 20 organisations, a worker killed in the middle and a new one
/// started: every command finishes, every payment's version equals its applied updates, and no
/// outcome read during the run changes afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_commands_apply_exactly_once_across_a_killed_worker() {
    const ORGANISATIONS: usize = 20;
    const PAYMENTS: usize = 10; // per organisation
    const UPDATES: usize = 4; // per payment: 200 creates + 800 updates
    let topology = Topology::new(TestDatabase::create().await);
    let api = topology.api().await;
    let doomed = topology.worker();
    let _other = topology.worker();

    let organisations: Vec<String> = (0..ORGANISATIONS).map(|_| new_organisation_id()).collect();
    let mut payments = Vec::new(); // (organisation, payment id)
    let mut locations = Vec::new();
    for organisation in &organisations {
        for _ in 0..PAYMENTS {
            let id = new_organisation_id();
            let mut document = payment_document(organisation, "1.00");
            document["data"]["id"] = Value::String(id.clone());
            let reply = api.post("/v1/payments", &document).await;
            assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
            locations.push(reply.header("location").unwrap().to_owned());
            payments.push((organisation.clone(), id));
        }
    }
    let mut doomed = Some(doomed);
    for update in 0..UPDATES {
        for (organisation, id) in &payments {
            let mut document = payment_document(organisation, &format!("{}.00", update + 2));
            document["data"]["version"] = update.into();
            let reply = api.put(&format!("/v1/payments/{id}"), &document).await;
            assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
            locations.push(reply.header("location").unwrap().to_owned());
        }
        if update == 1 {
            // About half the commands are in the log: kill a worker while it applies them.
            if let Some(worker) = doomed.take() {
                eventually(
                    "the doomed worker applies something",
                    Duration::from_secs(30),
                    || async { (!worker.applied.lock().unwrap().is_empty()).then_some(()) },
                )
                .await;
                worker.kill();
            }
        }
    }
    let _replacement = topology.worker();

    let mut first_seen = BTreeMap::new();
    for location in &locations {
        let finished = api.finished_command(location).await;
        assert_eq!(finished["status"], "applied", "{finished}");
        first_seen.insert(location.clone(), finished);
    }
    for (organisation, id) in &payments {
        let stored = api.get(&format!("/v1/payments/{id}")).await;
        assert_eq!(stored.status, StatusCode::OK, "{}", stored.body);
        assert_eq!(stored.body["data"]["version"], UPDATES, "{id}");
        assert_eq!(
            stored.body["data"]["organisation_id"],
            organisation.as_str()
        );
    }
    for (location, seen) in &first_seen {
        let again = api.get(location).await;
        assert_eq!(&again.body["data"], seen, "an outcome changed: {location}");
    }
}
