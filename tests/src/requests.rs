//! Helpers shared by the black-box API tests: raw bodies, conditional updates, paging, and
//! documents that must be refused.

use reqwest::header::{CONTENT_TYPE, IF_MATCH};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::{new_organisation_id, payment_document, Reply, TestApp};

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

/// POSTs `document` and PUTs it (at version 0) over `target`; both must be refused with 400
/// `validation_failed` whose details name exactly `fields` (in any order), and `target` must be
/// unchanged.
pub async fn assert_refused(app: &TestApp, target: &Value, document: &Value, fields: &[&str]) {
    let created = app.post("/v1/payments", document).await;
    let mut update = document.clone();
    if let Some(data) = update.get_mut("data").and_then(Value::as_object_mut) {
        data.entry("version").or_insert(json!(0));
    }
    let updated = app.put(&payment_path(target), &update).await;

    let mut expected = fields.to_vec();
    expected.sort_unstable();
    for (method, reply) in [("POST", created), ("PUT", updated)] {
        let body = reply.assert_error(StatusCode::BAD_REQUEST, "validation_failed");
        let mut refused = detail_fields(body);
        refused.sort_unstable();
        assert_eq!(refused, expected, "{method} {document}: {body}");
        for detail in body["details"].as_array().unwrap() {
            assert!(
                detail["message"].as_str().is_some_and(|m| !m.is_empty()),
                "{body}"
            );
        }
    }
    assert_eq!(app.get(&payment_path(target)).await.body["data"], *target);
}

/// A valid document for a fresh organisation with `change` applied to it.
pub fn document_with(change: impl FnOnce(&mut Value)) -> Value {
    let mut document = payment_document(&new_organisation_id(), "1.00");
    change(&mut document);
    document
}

/// A valid document whose attribute `name` is `value`.
pub fn with_attribute(name: &str, value: Value) -> Value {
    document_with(|document| document["data"]["attributes"][name] = value)
}

/// Removes `key` from the object at JSON pointer `pointer_parent`.
pub fn without(document: &mut Value, pointer_parent: &str, key: &str) {
    let parent = document
        .pointer_mut(pointer_parent)
        .expect("the parent exists");
    parent.as_object_mut().expect("an object").remove(key);
}
