//! The payment server: the inbound adapters (HTTP, the worker) and the wiring of the binary.
//!
//! [`compose::compose`] assembles everything the binary runs from a [`Config`], so tests boot
//! exactly the production wiring on port 0.

pub mod auth;
pub mod command_metrics;
pub mod commands;
pub mod compose;
pub mod config;
pub mod healthcheck;
pub mod http;
pub mod metrics;
pub mod storage;
pub mod storage_metrics;
pub mod telemetry;
pub mod worker;

use std::future::{Future, IntoFuture};
use std::sync::Arc;
use std::time::Duration;

use axum::ServiceExt as _;
use domain::{PaymentRepository, PaymentService};
use thiserror::Error;
use tokio::net::TcpListener;

pub use config::Config;
use http::links::Links;
pub use http::App;
use http::{AppState, Limits};
use metrics::Metrics;
use storage_metrics::MeteredRepository;

/// Why the server could not start.
#[derive(Debug, Error)]
pub enum StartupError {
    /// The configuration asks for something that can never work.
    #[error("configuration: {0}")]
    Config(String),
    /// The storage backend could not be set up.
    #[error("storage: {0}")]
    Storage(String),
    /// The listen address could not be bound.
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The address.
        address: std::net::SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The metrics registry could not be set up.
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    /// Serving failed.
    #[error("server error: {0}")]
    Serve(#[from] std::io::Error),
}

/// The complete HTTP service for `config`, storage included (without the worker: see
/// [`compose::compose`] for everything a process runs).
pub async fn build_app(config: &Config) -> Result<App, StartupError> {
    Ok(compose::compose(config).await?.http)
}

/// The application router for `config` over `repository` instead of the configured backend
/// (tests serve repositories that stall or fail on purpose through it).
pub fn build_app_with_repository(
    config: &Config,
    repository: Arc<dyn PaymentRepository>,
) -> Result<App, StartupError> {
    build_app_with(config, repository, Metrics::new()?)
}

fn build_app_with(
    config: &Config,
    repository: Arc<dyn PaymentRepository>,
    metrics: Metrics,
) -> Result<App, StartupError> {
    let repository = MeteredRepository::wrap(repository, metrics.clone());
    let state = AppState {
        service: PaymentService::new(repository),
        auth: auth::Authentication::none(),
        writes: None,
        links: Links::new(config.public_base_url.as_deref()),
        metrics,
        limits: http_limits(config),
    };
    Ok(http::router(state))
}

/// The HTTP limits `config` asks for.
pub fn http_limits(config: &Config) -> Limits {
    Limits {
        max_body_bytes: config.max_body_bytes,
        request_timeout: config.request_timeout(),
        max_concurrent_requests: config.max_concurrent_requests,
    }
}

/// What [`serve`] and [`serve_with_grace`] serve: an [`App`], or any other HTTP service (tests
/// serve routers of their own through the same shutdown logic).
pub trait HttpService:
    tower::Service<
        axum::extract::Request,
        Response = axum::response::Response,
        Error = std::convert::Infallible,
        Future: Send,
    > + Clone
    + Send
    + 'static
{
}

impl<S> HttpService for S where
    S: tower::Service<
            axum::extract::Request,
            Response = axum::response::Response,
            Error = std::convert::Infallible,
            Future: Send,
        > + Clone
        + Send
        + 'static
{
}

/// Serves `app` on `listener` until `shutdown` completes, then waits for every in-flight request
/// however long it takes (tests use this; the binary uses [`serve_with_grace`]).
pub async fn serve<S: HttpService>(
    listener: TcpListener,
    app: S,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartupError> {
    axum::serve(listener, app.into_make_service())
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(StartupError::Serve)
}

/// Binds `config.listen`.
pub async fn bind(config: &Config) -> Result<TcpListener, StartupError> {
    TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartupError::Bind {
            address: config.listen,
            source,
        })
}

/// Serves `app` on `listener` until `shutdown` completes; then stops accepting connections and
/// lets in-flight requests finish for up to `grace`. Requests still running after `grace` are no
/// longer waited for (the binary then exits, which closes their connections) and this returns
/// `Ok` all the same: the shutdown that was asked for has happened.
pub async fn serve_with_grace<S: HttpService>(
    listener: TcpListener,
    app: S,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> Result<(), StartupError> {
    let (signalled, signal_seen) = tokio::sync::oneshot::channel::<()>();
    let server =
        axum::serve(listener, app.into_make_service()).with_graceful_shutdown(async move {
            shutdown.await;
            let _ = signalled.send(());
        });
    let grace_expired = async move {
        match signal_seen.await {
            Ok(()) => tokio::time::sleep(grace).await,
            // The server stopped without a signal; the other branch has finished.
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        result = server.into_future() => result.map_err(StartupError::Serve),
        () = grace_expired => {
            tracing::warn!(
                grace_ms = grace.as_millis(),
                "shutdown grace period expired; abandoning the requests still in flight"
            );
            Ok(())
        }
    }
}
