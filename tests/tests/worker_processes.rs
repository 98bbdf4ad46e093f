//! Asynchronous writes with worker **processes** (the real binary, `--role worker`) sharing one
//! broker's partitions, one of them killed with SIGKILL mid-run: per-organisation order holds
//! and every command is applied exactly once in effect. Each case runs on Kafka and on NATS
//! JetStream.
//!
//! The API runs in this process (`--role api`); storage is MongoDB (shared by every process),
//! the broker the Kafka test broker (`tests::kafka`) or the NATS test server (`tests::nats`).

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use app::config::{BrokerKind, Role, WriteMode};
use app::Config;
use clap::Parser;
use reqwest::StatusCode;
use serde_json::Value;
use tests::mongo::TestDatabase;
use tests::secantus::PrivateMongoServer;
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

/// The longest one command may take to finish: a group that rebalances on a loaded two-core
/// machine (several worker processes, the storage and the broker on it) pauses for seconds.
const FINISH_LIMIT: Duration = Duration::from_secs(60);

/// Partitions of the test topic or stream: fewer than the keys, so workers share them.
const PARTITIONS: u32 = 4;

/// Where the commands go: a topic and group, or a stream, of this test only, on the test
/// broker.
struct Topology {
    database: Arc<TestDatabase>,
    broker: BrokerKind,
    /// The broker options, as command-line flags (the API's configuration is parsed from the
    /// same flags, so both sides agree).
    flags: Vec<String>,
}

impl Topology {
    fn new(database: Arc<TestDatabase>, broker: BrokerKind) -> Topology {
        let unique = domain::PaymentId::generate().as_uuid().simple().to_string();
        let partitions = PARTITIONS.to_string();
        let flags: Vec<String> = match broker {
            BrokerKind::Kafka => vec![
                "--kafka-brokers",
                &tests::kafka::bootstrap_servers(),
                "--kafka-topic",
                &format!("test-commands-{unique}"),
                "--kafka-group",
                &format!("test-workers-{unique}"),
                "--kafka-partitions",
                &partitions,
                "--kafka-session-timeout-ms",
                "2000",
                "--kafka-fetch-wait-ms",
                "50",
            ]
            .into_iter()
            .map(str::to_owned)
            .collect(),
            BrokerKind::Nats => {
                let nats = tests::nats::test_config(&tests::nats::server_url());
                let ack_wait = tests::nats::TEST_ACK_WAIT.as_millis().to_string();
                vec![
                    "--nats-url",
                    &nats.url,
                    "--nats-stream",
                    &nats.stream,
                    "--nats-subject",
                    &nats.subject,
                    "--nats-partitions",
                    &partitions,
                    "--nats-ack-wait-ms",
                    &ack_wait,
                ]
                .into_iter()
                .map(str::to_owned)
                .collect()
            }
            BrokerKind::Memory => panic!("the in-memory broker has no worker processes"),
        };
        Topology {
            database,
            broker,
            flags,
        }
    }

    /// The broker flags of this topology.
    fn broker_args(&self) -> Vec<String> {
        let broker = match self.broker {
            BrokerKind::Kafka => "kafka",
            BrokerKind::Nats => "nats",
            BrokerKind::Memory => "memory",
        };
        let mut args = vec!["--broker".to_owned(), broker.to_owned()];
        args.extend(self.flags.iter().cloned());
        args
    }

    /// The API in this process: asynchronous writes, no worker.
    async fn api(&self) -> TestApp {
        let mut args = vec!["payment-server".to_owned()];
        args.extend(self.broker_args());
        let parsed = Config::try_parse_from(args).expect("the broker flags parse");
        TestApp::spawn_with(Backend::Mongo(self.database.clone()), move |config| {
            config.write_mode = WriteMode::Async;
            config.role = Role::Api;
            config.broker = parsed.broker;
            config.kafka_brokers = parsed.kafka_brokers;
            config.kafka_topic = parsed.kafka_topic;
            config.kafka_group = parsed.kafka_group;
            config.kafka_partitions = parsed.kafka_partitions;
            config.kafka_session_timeout_ms = parsed.kafka_session_timeout_ms;
            config.kafka_fetch_wait_ms = parsed.kafka_fetch_wait_ms;
            config.nats_url = parsed.nats_url;
            config.nats_stream = parsed.nats_stream;
            config.nats_subject = parsed.nats_subject;
            config.nats_partitions = parsed.nats_partitions;
            config.nats_ack_wait_ms = parsed.nats_ack_wait_ms;
        })
        .await
        .without_waiting()
    }

    /// A worker process on the same storage and broker topology.
    fn worker(&self) -> Worker {
        self.worker_with(&[])
    }

    /// A worker process on the same storage and broker topology, with more flags.
    fn worker_with(&self, flags: &[&str]) -> Worker {
        let mut child = Command::new(binary())
            .args(["--listen", "127.0.0.1:0", "--log-format", "json"])
            .args(["--role", "worker", "--write-mode", "async"])
            .args(self.broker_args())
            .args(["--storage", "mongo", "--mongo-uri", self.database.uri()])
            .args(["--mongo-database", self.database.name()])
            .args(flags)
            .env("RUST_LOG", "warn,app::worker=debug")
            .stdout(Stdio::piped())
            .spawn()
            .expect("the worker starts");
        let applied = Arc::new(Mutex::new(HashSet::new()));
        let said = Arc::new(Mutex::new(HashSet::new()));
        let stdout = child.stdout.take().expect("piped stdout");
        let (seen, heard) = (applied.clone(), said.clone());
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
                if let Some(message) = line["message"].as_str() {
                    heard.lock().unwrap().insert(message.to_owned());
                }
            }
        });
        Worker {
            child,
            applied,
            said,
        }
    }
}

/// A worker process, killed when dropped.
struct Worker {
    child: Child,
    /// The commands this worker finished, from its log.
    applied: Arc<Mutex<HashSet<String>>>,
    /// Every message it logged.
    said: Arc<Mutex<HashSet<String>>>,
}

impl Worker {
    fn has_applied(&self, command: &str) -> bool {
        self.applied.lock().unwrap().contains(command)
    }

    fn has_said(&self, message: &str) -> bool {
        self.said.lock().unwrap().contains(message)
    }

    /// SIGTERM, then the time until the process exited (`None` past `limit`) and its status.
    async fn terminate(&mut self, limit: Duration) -> Option<(Duration, ExitStatus)> {
        let signalled = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(signalled.success(), "SIGTERM not delivered");
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(status) = self.child.try_wait().expect("the worker's status") {
                return Some((start.elapsed(), status));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
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
async fn fifty_puts_stay_in_order_across_a_killed_worker(broker: BrokerKind) {
    let topology = Topology::new(TestDatabase::create().await, broker);
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
    api.finished_command_within(created.header("location").unwrap(), FINISH_LIMIT)
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
        let finished = api.finished_command_within(location, FINISH_LIMIT).await;
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
async fn a_thousand_commands_apply_exactly_once_across_a_killed_worker(broker: BrokerKind) {
    const ORGANISATIONS: usize = 20;
    const PAYMENTS: usize = 10; // per organisation
    const UPDATES: usize = 4; // per payment: 200 creates + 800 updates
    let topology = Topology::new(TestDatabase::create().await, broker);
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
        let finished = api.finished_command_within(location, FINISH_LIMIT).await;
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

/// A worker told to stop (SIGTERM) while its storage hangs (the database server stopped with
/// SIGSTOP) in the middle of a command exits within its grace period, with status 0; the
/// command, left unfinished, is applied by the next worker once the storage is back.
async fn a_worker_stopped_while_its_storage_hangs_exits_within_its_grace_period(
    broker: BrokerKind,
) {
    const GRACE: Duration = Duration::from_secs(1);
    let server = PrivateMongoServer::start().await;
    let topology = Topology::new(TestDatabase::on(server.uri()), broker);
    let api = topology.api().await;
    let grace = GRACE.as_millis().to_string();
    let mut worker = topology.worker_with(&["--shutdown-grace-ms", &grace]);
    let organisation = new_organisation_id();
    let before = api
        .post("/v1/payments", &payment_document(&organisation, "1.00"))
        .await;
    assert_eq!(before.status, StatusCode::ACCEPTED, "{}", before.body);
    api.finished_command_within(before.header("location").unwrap(), FINISH_LIMIT)
        .await;

    server.pause().await;
    // The API answers 202 once the broker has the command; the database is not on that path.
    let stuck = api
        .post("/v1/payments", &payment_document(&organisation, "2.00"))
        .await;
    assert_eq!(stuck.status, StatusCode::ACCEPTED, "{}", stuck.body);
    eventually(
        "the worker waits for the storage",
        Duration::from_secs(30),
        || async { worker.has_said("storage failed; retrying").then_some(()) },
    )
    .await;
    let (took, status) = worker
        .terminate(GRACE + Duration::from_secs(10))
        .await
        .expect("the worker exits after its grace period, not when the storage comes back");
    assert!(status.success(), "{status}");
    assert!(
        took >= GRACE,
        "it waited {took:?}, less than its grace period"
    );
    assert!(
        worker.has_said("shutdown grace period expired; the worker stops with commands unfinished, which the next holder of their partitions applies"),
        "no warning that the grace period expired"
    );

    server.unpause().await;
    let _next = topology.worker();
    // The API keeps the accepted record it could not store while the database was stopped,
    // and answers it until it is stored: never 404.
    let finished = api
        .finished_command_within(stuck.header("location").unwrap(), FINISH_LIMIT)
        .await;
    assert_eq!(finished["status"], "applied", "{finished}");
}

/// Each case once per broker that runs in worker processes (modules `kafka` and `nats`).
macro_rules! per_broker {
    ($($case:ident),+ $(,)?) => {
        mod kafka {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(app::config::BrokerKind::Kafka).await;
                }
            )+
        }
        mod nats {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(app::config::BrokerKind::Nats).await;
                }
            )+
        }
    };
}

per_broker!(
    fifty_puts_stay_in_order_across_a_killed_worker,
    a_thousand_commands_apply_exactly_once_across_a_killed_worker,
    a_worker_stopped_while_its_storage_hangs_exits_within_its_grace_period,
);
