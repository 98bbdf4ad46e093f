//! Helpers of the hostile-input tests: raw bodies built from a valid document, and the check
//! that a refused write stored nothing.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::requests::payment_path;
use crate::{new_organisation_id, payment_document, TestApp};

/// The JSON media type, for [`TestApp::send_raw`].
pub const JSON: Option<&str> = Some("application/json");

/// POSTs `body` (which carries client id `id`) and PUTs it over `target`; both must be refused
/// with `status` and `code`, nothing may be stored under `id`, and `target` must be unchanged.
pub async fn assert_write_refused(
    app: &TestApp,
    target: &Value,
    id: &str,
    body: &[u8],
    status: StatusCode,
    code: &str,
) {
    let created = app
        .send_raw(Method::POST, "/v1/payments", JSON, body.to_vec())
        .await;
    let updated = app
        .send_raw(Method::PUT, &payment_path(target), JSON, body.to_vec())
        .await;

    let shown: String = String::from_utf8_lossy(body).chars().take(200).collect();
    for reply in [created, updated] {
        assert_eq!(reply.status, status, "{shown}: {}", reply.body);
        reply.assert_error(status, code);
    }
    assert_eq!(
        app.get(&format!("/v1/payments/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get(&payment_path(target)).await.body["data"], *target);
}

/// [`assert_write_refused`] with 400 `invalid_json`.
pub async fn assert_invalid_json(app: &TestApp, target: &Value, id: &str, body: &[u8]) {
    assert_write_refused(
        app,
        target,
        id,
        body,
        StatusCode::BAD_REQUEST,
        "invalid_json",
    )
    .await;
}

/// A valid document with a fresh client id and version 0, as JSON text, and that id.
pub fn valid_text() -> (String, String) {
    let id = domain::PaymentId::generate().to_string();
    let mut document = payment_document(&new_organisation_id(), "1.00");
    document["data"]["id"] = json!(id);
    document["data"]["version"] = json!(0);
    (document.to_string(), id)
}

/// `text` with `replacement` in place of the first `"reference":"..."` member.
pub fn with_reference(text: &str, replacement: &str) -> String {
    let reference = r#""reference":"Payment for Em's piano lessons""#;
    assert!(text.contains(reference));
    text.replacen(reference, replacement, 1)
}
