//! `payment-server`: load config, build storage and service, serve until a shutdown signal.

use std::process::ExitCode;

use app::{bind, compose, healthcheck, telemetry, Config};
use clap::Parser;

// Requests allocate many small short-lived values (the parsed document, the response) beside
// long-lived stored payments; glibc's malloc spent a fifth of the server's CPU on POST in the
// benchmarks (docs/benchmarks/README.md), mimalloc a fraction of that.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    if config.healthcheck {
        return check_health(&config).await;
    }
    let _log_writer = match telemetry::init(config.log_format) {
        Ok(guard) => guard,
        Err(error) => {
            eprintln!("payment-server cannot start its log writer: {error}");
            return ExitCode::FAILURE;
        }
    };
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "payment-server stopped");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> Result<(), app::StartupError> {
    let composed = compose::compose(&config).await?;
    let listener = bind(&config).await?;
    let address = listener.local_addr()?;
    tracing::info!(%address, storage = ?config.storage, write_mode = ?config.write_mode,
        role = ?config.role, broker = ?config.broker, "payment-server listening");
    composed
        .serve(listener, shutdown_signal(), config.shutdown_grace())
        .await?;
    tracing::info!("payment-server stopped");
    Ok(())
}

/// `--healthcheck`: exit 0 when the configured server is live.
async fn check_health(config: &Config) -> ExitCode {
    match healthcheck::probe(healthcheck::probe_address(config.listen)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(reason) => {
            eprintln!("payment-server is not healthy: {reason}");
            ExitCode::FAILURE
        }
    }
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}
