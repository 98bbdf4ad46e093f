//! Putting payments into a server before a measurement, over its own HTTP API.

use reqwest::header::{CONTENT_TYPE, LOCATION};
use reqwest::StatusCode;

use crate::BenchError;

/// Creates `count` payments at `url` (`http://127.0.0.1:PORT`) by POSTing `body` from
/// `concurrency` connections; returns their ids, taken from the `Location` headers.
pub async fn create_many(
    client: &reqwest::Client,
    url: &str,
    body: &[u8],
    count: usize,
    concurrency: usize,
) -> Result<Vec<String>, BenchError> {
    let concurrency = concurrency.clamp(1, count.max(1));
    let mut tasks = Vec::with_capacity(concurrency);
    for worker in 0..concurrency {
        let share = count / concurrency + usize::from(worker < count % concurrency);
        let client = client.clone();
        let endpoint = format!("{url}/v1/payments");
        let body = body.to_vec();
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::with_capacity(share);
            for _ in 0..share {
                ids.push(create_one(&client, &endpoint, body.clone()).await?);
            }
            Ok::<_, BenchError>(ids)
        }));
    }
    let mut ids = Vec::with_capacity(count);
    for task in tasks {
        let created = task
            .await
            .map_err(|e| BenchError::Failed(format!("a seeding task failed: {e}")))??;
        ids.extend(created);
    }
    Ok(ids)
}

async fn create_one(
    client: &reqwest::Client,
    endpoint: &str,
    body: Vec<u8>,
) -> Result<String, BenchError> {
    let response = client
        .post(endpoint)
        .header(CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| BenchError::Failed(format!("POST {endpoint}: {e}")))?;
    if response.status() != StatusCode::CREATED {
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        return Err(BenchError::Failed(format!(
            "POST {endpoint}: {status} {text}"
        )));
    }
    response
        .headers()
        .get(LOCATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|location| location.rsplit('/').next())
        .map(str::to_owned)
        .ok_or_else(|| BenchError::Failed(format!("POST {endpoint}: no Location header")))
}

/// The body of `GET url+path`, which must answer 200.
pub async fn get_body(
    client: &reqwest::Client,
    url: &str,
    path: &str,
) -> Result<Vec<u8>, BenchError> {
    let endpoint = format!("{url}{path}");
    let response = client
        .get(&endpoint)
        .send()
        .await
        .map_err(|e| BenchError::Failed(format!("GET {endpoint}: {e}")))?;
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| BenchError::Failed(format!("GET {endpoint}: {e}")))?;
    if status != StatusCode::OK {
        return Err(BenchError::Failed(format!(
            "GET {endpoint}: {status} {}",
            String::from_utf8_lossy(&bytes)
        )));
    }
    Ok(bytes.to_vec())
}
