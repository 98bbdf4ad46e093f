//! The error catalogue (`app::http::error_code::ErrorCode`) and the served API document agree:
//! every code is documented under its own status, and the document names no other code.

use std::collections::{BTreeMap, BTreeSet};

use app::http::error_code::ErrorCode;
use reqwest::Method;
use tests::openapi::{documented_codes, Document, METHODS};
use tests::{new_organisation_id, payment_document, Backend, Reply, TestApp};

#[tokio::test]
async fn every_catalogued_code_is_documented_under_its_status_and_no_other_code_is() {
    let app = TestApp::spawn(Backend::Memory).await;
    let document = Document::fetch(&app).await;
    let mut documented: BTreeMap<String, BTreeSet<u16>> = BTreeMap::new();

    for item in document.0["paths"].as_object().expect("paths").values() {
        for operation in METHODS.iter().filter_map(|method| item.get(*method)) {
            for (status, response) in operation["responses"].as_object().expect("responses") {
                let status: u16 = status.parse().expect("a numeric status");
                for code in documented_codes(response)
                    .into_iter()
                    .filter(|_| status >= 400)
                {
                    documented.entry(code).or_default().insert(status);
                }
            }
        }
    }
    let components = document.0["components"]["responses"]
        .as_object()
        .expect("component responses");
    for response in components.values() {
        for code in documented_codes(response) {
            // A component has no status of its own: its codes carry theirs.
            let status = ErrorCode::ALL
                .iter()
                .find(|known| known.as_str() == code)
                .map_or(0, |known| known.status().as_u16());
            documented.entry(code).or_default().insert(status);
        }
    }

    let catalogue: BTreeMap<String, BTreeSet<u16>> = ErrorCode::ALL
        .iter()
        .map(|code| (code.as_str().to_owned(), [code.status().as_u16()].into()))
        .collect();
    assert_eq!(documented, catalogue);
}

#[tokio::test]
async fn an_undecoded_transfer_coding_is_answered_as_documented() {
    let app = TestApp::spawn(Backend::Memory).await;
    let document = Document::fetch(&app).await;
    let body = payment_document(&new_organisation_id(), "1.00").to_string();
    let chunked = format!("{:x}\r\n{body}\r\n0\r\n\r\n", body.len());
    let request = format!(
        "POST /v1/payments HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: gzip, chunked\r\n\r\n{chunked}"
    );

    let raw = app.send_raw_http(request.as_bytes()).await;

    raw.assert_error(501, "unsupported_transfer_coding");
    let reply = Reply {
        status: reqwest::StatusCode::from_u16(raw.status).expect("a status"),
        headers: raw
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    reqwest::header::HeaderName::from_bytes(name.as_bytes()).expect("a name"),
                    reqwest::header::HeaderValue::from_str(value).expect("a value"),
                )
            })
            .collect(),
        body: raw.json(),
    };
    document.assert_conforms(
        Method::POST.as_str().to_lowercase().as_str(),
        "/v1/payments",
        &reply,
    );
}
