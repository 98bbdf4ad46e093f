//! Request helpers shared by the black-box API tests: raw bodies, conditional updates, paging.

use reqwest::header::{CONTENT_TYPE, IF_MATCH};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::{Reply, TestApp};

/// A walk over more pages than this is a server that never stops answering `next`.
const MAX_PAGES: usize = 10_000;

impl TestApp {
    /// Sends `body` byte for byte with `content_type` (no `Content-Type` header when `None`).
    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> Reply {
        let mut request = self.request(method, path).body(body);
        if let Some(content_type) = content_type {
            request = request.header(CONTENT_TYPE, content_type);
        }
        Reply::send(request).await
    }

    /// PUTs `body` as JSON to `path` with one `If-Match: <if_match>` header.
    pub async fn put_if_match(&self, path: &str, if_match: &str, body: &Value) -> Reply {
        Reply::send(
            self.request(Method::PUT, path)
                .header(IF_MATCH, if_match)
                .json(body),
        )
        .await
    }

    /// GETs `first_path` and follows `links.next` until it is absent, asserting 200 on every
    /// page; returns the page bodies in order. Links must be path-absolute.
    pub async fn walk_pages(&self, first_path: &str) -> Vec<Value> {
        let mut pages = Vec::new();
        let mut path = Some(first_path.to_owned());
        while let Some(current) = path.take() {
            assert!(pages.len() < MAX_PAGES, "the walk never ends at {current}");
            let reply = self.get(&current).await;
            assert_eq!(reply.status, StatusCode::OK, "{current}: {}", reply.body);
            path = reply.body["links"]["next"].as_str().map(str::to_owned);
            pages.push(reply.body);
        }
        pages
    }
}

/// The ids of the payments on `pages`, in order.
pub fn ids_on_pages(pages: &[Value]) -> Vec<String> {
    pages
        .iter()
        .flat_map(|page| page["data"].as_array().cloned().unwrap_or_default())
        .map(|payment| payment["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// `/v1/payments/{id}` for a payment resource (`data`) as returned by the server.
pub fn payment_path(payment: &Value) -> String {
    let id = payment["id"].as_str().unwrap_or_default();
    format!("/v1/payments/{id}")
}

/// The `field` of every entry of an error body's `details`.
pub fn detail_fields(body: &Value) -> Vec<String> {
    body["details"]
        .as_array()
        .map(|details| {
            details
                .iter()
                .map(|detail| detail["field"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}
