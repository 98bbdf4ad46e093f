//! Resident memory of the in-memory server holding many typical payments.

use std::time::Duration;

use crate::model::MemoryResult;
use crate::seed::{create_many, get_body};
use crate::suite::start_payment_server;
use crate::{BenchError, Settings};

/// Connections loading the payments.
const LOAD_CONCURRENCY: usize = 16;

/// Starts a fresh in-memory server, reads its `VmRSS`, loads `settings.memory_payments` payments
/// of the POST document over HTTP, and reads `VmRSS` again.
pub async fn measure(
    settings: &Settings,
    client: &reqwest::Client,
    document: &[u8],
) -> Result<MemoryResult, BenchError> {
    let server = start_payment_server(
        settings,
        "memory-footprint-server",
        &[],
        &[],
        settings.server_cpus.as_deref(),
    )?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rss_before = server.resident_bytes()?;
    let ids = create_many(
        client,
        &server.url,
        document,
        settings.memory_payments,
        LOAD_CONCURRENCY,
    )
    .await?;
    let first = ids
        .first()
        .ok_or_else(|| BenchError::Failed("no payment was loaded".into()))?;
    let body = get_body(client, &server.url, &format!("/v1/payments/{first}")).await?;
    // Let freed request buffers settle before the second reading.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_after = server.resident_bytes()?;
    let json_bytes = stored_json_size(&body)?;
    let result = MemoryResult {
        payments: ids.len(),
        rss_before,
        rss_after,
        json_bytes,
    };
    eprintln!(
        "memory: {} payments, RSS {} -> {} bytes: {:.0} bytes per payment, JSON {} bytes, overhead {:.0}",
        result.payments,
        rss_before,
        rss_after,
        result.per_payment(),
        json_bytes,
        result.overhead_per_payment()
    );
    Ok(result)
}

/// Compact JSON size of the stored payment: the `data` member of a GET response.
fn stored_json_size(body: &[u8]) -> Result<usize, BenchError> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| BenchError::Failed(format!("the GET body is not JSON: {e}")))?;
    serde_json::to_vec(&value["data"])
        .map(|bytes| bytes.len())
        .map_err(|e| BenchError::Failed(format!("cannot serialize a payment: {e}")))
}
