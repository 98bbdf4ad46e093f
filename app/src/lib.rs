//! The payment server: the axum inbound adapter and the wiring of the binary.
//!
//! [`build_app`] assembles everything the binary serves from a [`Config`], so tests boot exactly
//! the production wiring on port 0.

pub mod config;
pub mod http;
pub mod storage;
pub mod telemetry;

use std::future::Future;

use axum::Router;
use domain::PaymentService;
use thiserror::Error;
use tokio::net::TcpListener;

pub use config::Config;
use http::links::Links;
use http::AppState;

/// Why the server could not start.
#[derive(Debug, Error)]
pub enum StartupError {
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
    /// Serving failed.
    #[error("server error: {0}")]
    Serve(#[from] std::io::Error),
}

/// The complete application router for `config`, storage included.
pub async fn build_app(config: &Config) -> Result<Router, StartupError> {
    let repository = storage::build_repository(config).await?;
    let state = AppState {
        service: PaymentService::new(repository),
        links: Links::new(config.public_base_url.as_deref()),
    };
    Ok(http::router(state, config.max_body_bytes))
}

/// Serves `app` on `listener` until `shutdown` completes, then finishes in-flight requests.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartupError> {
    axum::serve(listener, app)
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
