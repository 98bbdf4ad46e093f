//! Reading a JWKS URL: one bounded GET over hyper's client (already in the tree through axum)
//! and rustls with the ring provider and the Mozilla roots (already in the tree through the
//! MongoDB driver), rather than a second HTTP stack.

use std::time::Duration;

use axum::body::Bytes;
use axum::http::header::ACCEPT;
use axum::http::{Request, StatusCode, Uri};
use http_body_util::{BodyExt, Empty, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// The longest one read of the document may take, connection included.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest document read (a JWKS of a few keys is a few KiB).
const MAX_DOCUMENT_BYTES: usize = 1 << 20;

/// GETs one URL.
pub(crate) struct Fetcher {
    url: String,
    uri: Uri,
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
}

impl Fetcher {
    /// A fetcher of `url` (`https://`, or `http://` for a provider on a trusted network).
    pub(crate) fn new(url: &str) -> Result<Self, String> {
        let uri: Uri = url
            .parse()
            .map_err(|e| format!("--jwt-jwks-url {url:?}: {e}"))?;
        if !matches!(uri.scheme_str(), Some("https" | "http")) || uri.host().is_none() {
            return Err(format!("--jwt-jwks-url {url:?}: not an http(s) URL"));
        }
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
            .map_err(|e| format!("TLS for --jwt-jwks-url: {e}"))?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Self {
            url: url.to_owned(),
            uri,
            client: Client::builder(TokioExecutor::new()).build(connector),
        })
    }

    /// The URL.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// The body of a `200` answer, within [`FETCH_TIMEOUT`] and [`MAX_DOCUMENT_BYTES`].
    pub(crate) async fn get(&self) -> Result<Vec<u8>, String> {
        let fetch = async {
            let request = Request::get(self.uri.clone())
                .header(ACCEPT, "application/json")
                .body(Empty::new())
                .map_err(|e| e.to_string())?;
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| e.to_string())?;
            if response.status() != StatusCode::OK {
                return Err(format!("answered {}", response.status()));
            }
            let body = Limited::new(response.into_body(), MAX_DOCUMENT_BYTES)
                .collect()
                .await
                .map_err(|e| e.to_string())?;
            Ok(body.to_bytes().to_vec())
        };
        tokio::time::timeout(FETCH_TIMEOUT, fetch)
            .await
            .map_err(|_| format!("no answer within {} s", FETCH_TIMEOUT.as_secs()))?
    }
}
