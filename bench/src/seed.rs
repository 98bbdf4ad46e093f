//! Putting payments into a server before a measurement, over its own HTTP API.

use reqwest::header::{CONTENT_TYPE, LOCATION};
use reqwest::StatusCode;

use crate::BenchError;

/// Creates `count` payments at `url` (`http://127.0.0.1:PORT`) by POSTing `body` from
/// `concurrency` connections; returns their ids, taken from the `Location` headers (for a
/// server with asynchronous writes, which answers 202, the ids of the accepted commands).
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

/// Attempts per payment: a database server under load may answer 503 for a moment.
const ATTEMPTS: u32 = 10;

async fn create_one(
    client: &reqwest::Client,
    endpoint: &str,
    body: Vec<u8>,
) -> Result<String, BenchError> {
    let mut attempt = 1;
    loop {
        match try_create(client, endpoint, body.clone()).await {
            Err(Retry::Later(_)) if attempt < ATTEMPTS => {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
            Err(Retry::Later(error) | Retry::Never(error)) => return Err(error),
            Ok(id) => return Ok(id),
        }
    }
}

/// Why a create failed: worth another try (503), or not.
enum Retry {
    Later(BenchError),
    Never(BenchError),
}

async fn try_create(
    client: &reqwest::Client,
    endpoint: &str,
    body: Vec<u8>,
) -> Result<String, Retry> {
    let response = client
        .post(endpoint)
        .header(CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| Retry::Never(BenchError::Failed(format!("POST {endpoint}: {e}"))))?;
    let status = response.status();
    if status != StatusCode::CREATED && status != StatusCode::ACCEPTED {
        let text = response.text().await.unwrap_or_default();
        let error = BenchError::Failed(format!("POST {endpoint}: {status} {text}"));
        return Err(if status == StatusCode::SERVICE_UNAVAILABLE {
            Retry::Later(error)
        } else {
            Retry::Never(error)
        });
    }
    response
        .headers()
        .get(LOCATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|location| location.rsplit('/').next())
        .map(str::to_owned)
        .ok_or_else(|| {
            Retry::Never(BenchError::Failed(format!(
                "POST {endpoint}: no Location header"
            )))
        })
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
