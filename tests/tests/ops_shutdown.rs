//! Graceful shutdown: in-flight requests finish after the signal, within the grace period.
//!
//! The real handlers cannot be slowed down, so these tests serve a router with a deliberately slow
//! route through the same `app::serve_with_grace` the binary uses.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, Notify};
use tokio::task::JoinHandle;

/// A server whose `GET /slow` notifies `started`, then answers after `delay`.
struct SlowServer {
    address: SocketAddr,
    started: Arc<Notify>,
    shutdown: oneshot::Sender<()>,
    server: JoinHandle<Result<(), app::StartupError>>,
}

async fn slow_server(delay: Duration, grace: Duration) -> SlowServer {
    let started = Arc::new(Notify::new());
    let notify = started.clone();
    let router = Router::new().route(
        "/slow",
        get(move || {
            let notify = notify.clone();
            async move {
                notify.notify_one();
                tokio::time::sleep(delay).await;
                "finished"
            }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (shutdown, signal) = oneshot::channel::<()>();
    let server = tokio::spawn(app::serve_with_grace(
        listener,
        router,
        async {
            let _ = signal.await;
        },
        grace,
    ));
    SlowServer {
        address,
        started,
        shutdown,
        server,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_in_flight_request_completes_after_the_shutdown_signal() {
    let server = slow_server(Duration::from_millis(300), Duration::from_secs(10)).await;
    let url = format!("http://{}/slow", server.address);
    let request = tokio::spawn(async move { reqwest::get(url).await?.text().await });
    server.started.notified().await;

    server.shutdown.send(()).unwrap();
    let body = request
        .await
        .unwrap()
        .expect("the in-flight request is answered");
    let stopped = server.server.await.unwrap();

    assert_eq!(body, "finished");
    assert!(stopped.is_ok(), "{stopped:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_connections_are_refused_once_shutdown_begins() {
    let server = slow_server(Duration::from_millis(500), Duration::from_secs(10)).await;
    let url = format!("http://{}/slow", server.address);
    let in_flight = tokio::spawn(reqwest::get(url.clone()));
    server.started.notified().await;

    server.shutdown.send(()).unwrap();
    // Give the server a moment to stop accepting.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let late = reqwest::Client::new().get(&url).send().await;

    assert!(
        late.is_err(),
        "a connection opened after the signal was served"
    );
    assert!(in_flight.await.unwrap().is_ok());
    assert!(server.server.await.unwrap().is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_returns_ok_when_the_grace_period_expires_first() {
    let server = slow_server(Duration::from_secs(60), Duration::from_millis(200)).await;
    let url = format!("http://{}/slow", server.address);
    let abandoned = tokio::spawn(reqwest::get(url));
    server.started.notified().await;

    server.shutdown.send(()).unwrap();
    let stopped = tokio::time::timeout(Duration::from_secs(10), server.server)
        .await
        .expect("serve returns once the grace period is over, not when the request ends");

    assert!(stopped.unwrap().is_ok());
    abandoned.abort();
}
