//! Test support for black-box tests: boots the real application wiring on port 0 for a chosen
//! backend and talks HTTP to it.

pub mod fakes;
pub mod openapi;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use app::config::{StorageKind, WriteMode};
use app::Config;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub mod arbitrary;
pub mod auth;
pub mod hostile;
pub mod kafka;
pub mod mongo;
pub mod nats;
pub mod raw;
pub mod requests;
pub mod rules;
pub mod scripted;
pub mod secantus;
pub mod tansu;
pub mod worker_log;

use mongo::TestDatabase;

/// Which storage backend a test server runs on.
#[derive(Debug, Clone)]
pub enum Backend {
    /// The in-memory repository.
    Memory,
    /// MongoDB, on this test's own database.
    Mongo(Arc<TestDatabase>),
}

/// A running server on a loopback port, stopped when dropped.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// The address the server listens on.
    pub address: SocketAddr,
    /// A client for it.
    pub client: reqwest::Client,
    /// The configuration it was booted from (`None` for [`TestApp::spawn_router`]).
    config: Option<Config>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    /// Keeps the test's database (and a container serving it) alive as long as the app.
    database: Option<Arc<TestDatabase>>,
}

impl TestApp {
    /// Boots the server on `backend` with otherwise default configuration.
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Boots the server on `backend` after `adjust` has changed the configuration.
    pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> TestApp {
        let mut config = Config::defaults();
        config.listen = SocketAddr::from(([127, 0, 0, 1], 0));
        let database = match backend {
            Backend::Memory => {
                config.storage = StorageKind::Memory;
                None
            }
            Backend::Mongo(database) => {
                database.configure(&mut config);
                Some(database)
            }
        };
        adjust(&mut config);
        let mut app = Self::spawn_config(config).await;
        app.database = database;
        app
    }

    /// Boots the server exactly as `config` says (its listen port is replaced by a free one).
    pub async fn spawn_config(mut config: Config) -> TestApp {
        config.listen = SocketAddr::from(([127, 0, 0, 1], 0));
        let composed = app::compose::compose(&config)
            .await
            .expect("the app builds");
        let mut app = Self::spawn_composed(composed).await;
        if config.write_mode == WriteMode::Async {
            app.client = waiting_client();
        }
        app.config = Some(config);
        app
    }

    /// Boots the server on `backend` in the asynchronous write mode (in-memory broker, API and
    /// worker in this process). Its client asks every write to wait for its outcome
    /// (`Prefer: wait`), so the answers are the synchronous API's: the black-box suite runs
    /// unchanged on it and so proves that both modes answer alike.
    pub async fn spawn_async(backend: Backend) -> TestApp {
        Self::spawn_with(backend, |config| config.write_mode = WriteMode::Async).await
    }

    /// Like [`TestApp::spawn_async`], on NATS JetStream instead of the in-memory broker: a
    /// stream of this server's own on the NATS test server (see [`nats`]), with 4 partitions.
    pub async fn spawn_async_nats(backend: Backend) -> TestApp {
        let nats = nats::test_config(&nats::server_url());
        Self::spawn_with(backend, |config| {
            nats::configure(config, nats);
            config.write_mode = WriteMode::Async;
        })
        .await
    }

    /// [`TestApp::spawn_async`] with the Kafka test broker (a topic and group of its own, see
    /// [`kafka`]) instead of the in-memory one.
    pub async fn spawn_async_kafka(backend: Backend) -> TestApp {
        let log = kafka::test_config(&kafka::bootstrap_servers());
        Self::spawn_with(backend, move |config| {
            kafka::configure(config, log);
            config.write_mode = WriteMode::Async;
        })
        .await
    }

    /// Serves `router` (e.g. the real router over a test repository) on a free loopback port.
    pub async fn spawn_router(router: app::App) -> TestApp {
        Self::spawn_serving(|listener, signal| async move {
            app::serve(listener, router, signal)
                .await
                .expect("the server runs");
        })
        .await
    }

    /// Runs everything `composed` holds (HTTP, and the worker when there is one) on a free
    /// loopback port.
    pub async fn spawn_composed(composed: app::compose::Composed) -> TestApp {
        Self::spawn_serving(|listener, signal| async move {
            composed
                .serve(listener, signal, Duration::from_secs(3600))
                .await
                .expect("the server runs");
        })
        .await
    }

    /// Serves whatever `serve` serves on a free loopback port until the app is dropped.
    pub async fn spawn_serving<F>(
        serve: impl FnOnce(TcpListener, std::pin::Pin<Box<dyn Future<Output = ()> + Send>>) -> F,
    ) -> TestApp
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("a free port");
        let address = listener.local_addr().expect("a bound address");
        let (shutdown, stopped) = oneshot::channel::<()>();
        let signal = Box::pin(async {
            let _ = stopped.await;
        });
        let task = tokio::spawn(serve(listener, signal));
        TestApp {
            base_url: format!("http://{address}"),
            address,
            client: reqwest::Client::new(),
            config: None,
            shutdown: Some(shutdown),
            task: Some(task),
            database: None,
        }
    }

    /// Boots a second server on the same storage as this one, after `adjust` has changed a copy
    /// of this one's configuration: for options tested on every backend.
    pub async fn spawn_like(&self, adjust: impl FnOnce(&mut Config)) -> TestApp {
        let mut config = self
            .config
            .clone()
            .expect("spawn_like needs a server booted from a Config");
        adjust(&mut config);
        let mut app = Self::spawn_config(config).await;
        app.database = self.database.clone();
        app
    }

    /// Stops accepting, waits for in-flight requests to finish, then returns.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// A request to `path` (e.g. `/v1/payments`).
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base_url))
    }

    /// POSTs `body` as JSON to `path`.
    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        Reply::send(self.request(Method::POST, path).json(body)).await
    }

    /// PUTs `body` as JSON to `path`.
    pub async fn put(&self, path: &str, body: &Value) -> Reply {
        Reply::send(self.request(Method::PUT, path).json(body)).await
    }

    /// GETs `path`.
    pub async fn get(&self, path: &str) -> Reply {
        Reply::send(self.request(Method::GET, path)).await
    }

    /// DELETEs `path`.
    pub async fn delete(&self, path: &str) -> Reply {
        Reply::send(self.request(Method::DELETE, path)).await
    }

    /// GETs `path` without reading the body, for answers that are not JSON (metrics, the UI).
    pub async fn fetch(&self, path: &str) -> reqwest::Response {
        self.request(Method::GET, path)
            .send()
            .await
            .expect("the server answers")
    }

    /// Waits up to `limit` until `/metrics` holds every one of `lines` (a series and its
    /// value), failing the test otherwise: the worker counts a command right after storing its
    /// outcome, so the count can come just after the outcome is read.
    pub async fn metrics_with(&self, lines: &[&str], limit: Duration) {
        let what = format!("/metrics holds {lines:?}");
        eventually(&what, limit, || async {
            let metrics = self.fetch("/metrics").await.text().await.ok()?;
            lines
                .iter()
                .all(|line| metrics.contains(line))
                .then_some(())
        })
        .await;
    }

    /// Stops asking writes to wait (`Prefer: wait`): asynchronous writes answer 202.
    pub fn without_waiting(mut self) -> TestApp {
        self.client = reqwest::Client::new();
        self
    }

    /// Reads the command status at `location` until it is finished; its `data`.
    pub async fn finished_command(&self, location: &str) -> Value {
        self.finished_command_within(location, Duration::from_secs(60))
            .await
    }

    /// Reads the command status at `location` until it is finished, for at most `limit`; its
    /// `data`.
    pub async fn finished_command_within(&self, location: &str, limit: Duration) -> Value {
        self.finished_command_as(location, None, limit).await
    }

    /// [`TestApp::finished_command_within`], read with `token` as the bearer token when given.
    pub async fn finished_command_as(
        &self,
        location: &str,
        token: Option<&str>,
        limit: Duration,
    ) -> Value {
        let path = location.to_owned();
        eventually("the command finishes", limit, || async {
            let mut request = self.request(Method::GET, &path);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let reply = Reply::send(request).await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
            let data = reply.body["data"].clone();
            (data["status"] != "accepted").then_some(data)
        })
        .await
    }

    /// Creates a payment for `organisation_id` and returns its JSON resource (`data`).
    pub async fn create_payment(&self, organisation_id: &str) -> Value {
        let reply = self
            .post("/v1/payments", &payment_document(organisation_id, "100.21"))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body["data"].clone()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// A finished response: status, headers and the body parsed as JSON (`Null` when empty).
#[derive(Debug)]
pub struct Reply {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body as JSON.
    pub body: Value,
}

impl Reply {
    /// Reads a whole response.
    pub async fn read(response: reqwest::Response) -> Reply {
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("a readable body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                panic!("the body is not JSON: {}", String::from_utf8_lossy(&bytes))
            })
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    /// Sends `request` and reads the reply.
    pub async fn send(request: RequestBuilder) -> Reply {
        Reply::read(request.send().await.expect("the server answers")).await
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// Asserts our error shape with `status` and `error_code`, returning the body.
    pub fn assert_error(&self, status: StatusCode, error_code: &str) -> &Value {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.body["error_code"], error_code, "{}", self.body);
        assert!(
            self.body["error_message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{}",
            self.body
        );
        assert_eq!(self.header("content-type"), Some("application/json"));
        &self.body
    }
}

/// Calls `attempt` every 100 ms until it returns `Some`, and returns that; panics with `what`
/// after `limit`.
pub async fn eventually<T, F: Future<Output = Option<T>>>(
    what: &str,
    limit: Duration,
    mut attempt: impl FnMut() -> F,
) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(done) = attempt().await {
            return done;
        }
        assert!(Instant::now() < deadline, "not within {limit:?}: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A fresh random organisation id.
pub fn new_organisation_id() -> String {
    domain::PaymentId::generate().to_string()
}

/// A valid request document for `organisation_id` with `amount`.
pub fn payment_document(organisation_id: &str, amount: &str) -> Value {
    json!({
        "data": {
            "type": "payments",
            "organisation_id": organisation_id,
            "attributes": {
                "amount": amount,
                "currency": "GBP",
                "payment_scheme": "FPS",
                "processing_date": "2026-11-26",
                "reference": "Payment for Em's piano lessons",
                "beneficiary_party": {"account_name": "W Owens", "account_number": "31926819"},
                "debtor_party": {"account_name": "EJ Brown Black", "account_number": "GB29XABC10161234567801"},
                "charges_information": {"bearer_code": "SHAR", "sender_charges": [{"amount": "5.00", "currency": "GBP"}]}
            }
        }
    })
}

/// A client whose every request asks to wait for the outcome of an asynchronous write.
pub fn waiting_client() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "prefer",
        reqwest::header::HeaderValue::from_static("wait=8"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("a client with default headers")
}

/// Generates one `#[tokio::test]` per listed async test function and per backend and write mode
/// (modules `memory`, `mongo`, `memory_async` and `mongo_async` with the in-memory broker,
/// `mongo_kafka` with the Kafka test broker and `mongo_nats` with NATS JetStream, both on
/// MongoDB); each function takes the [`TestApp`] to test. On MongoDB each test gets a database
/// of its own (see [`mongo`]), on Kafka a topic and group (see [`kafka`]), on NATS a stream (see
/// [`nats`]); a second server a test starts with [`TestApp::spawn_like`] shares them, and its
/// worker shares the log's partitions.
#[macro_export]
macro_rules! backend_tests {
    ($($case:ident),+ $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case($crate::TestApp::spawn($crate::Backend::Memory).await).await;
                }
            )+
        }

        mod mongo {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let database = $crate::mongo::TestDatabase::create().await;
                    super::$case($crate::TestApp::spawn($crate::Backend::Mongo(database)).await)
                        .await;
                }
            )+
        }

        mod memory_async {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case($crate::TestApp::spawn_async($crate::Backend::Memory).await)
                        .await;
                }
            )+
        }

        mod mongo_async {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let database = $crate::mongo::TestDatabase::create().await;
                    super::$case(
                        $crate::TestApp::spawn_async($crate::Backend::Mongo(database)).await,
                    )
                    .await;
                }
            )+
        }

        mod mongo_kafka {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let database = $crate::mongo::TestDatabase::create().await;
                    super::$case(
                        $crate::TestApp::spawn_async_kafka($crate::Backend::Mongo(database)).await,
                    )
                    .await;
                }
            )+
        }

        mod mongo_nats {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let database = $crate::mongo::TestDatabase::create().await;
                    super::$case(
                        $crate::TestApp::spawn_async_nats($crate::Backend::Mongo(database)).await,
                    )
                    .await;
                }
            )+
        }
    };
}
