//! A raw HTTP/1.1 exchange over TCP, for requests an HTTP client would refuse to send or would
//! normalise first: undecoded paths with `..` and `%00`, malformed headers, header floods and
//! conflicting framing.

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::TestApp;

/// How long a raw exchange may take before the test fails instead of hanging.
const RAW_TIMEOUT: Duration = Duration::from_secs(30);

/// A response read off the wire.
#[derive(Debug)]
pub struct RawReply {
    /// The status code.
    pub status: u16,
    /// Header lines as `(lower-case name, value)`.
    pub headers: Vec<(String, String)>,
    /// The body bytes (de-chunked is not needed: the server sends `Content-Length`).
    pub body: Vec<u8>,
}

impl RawReply {
    /// The first header named `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The body as JSON, or `Null` when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// Asserts the answer is our JSON error body with `status` and `error_code`.
    pub fn assert_error(&self, status: u16, error_code: &str) {
        let body = self.json();
        assert_eq!(
            self.status,
            status,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        assert_eq!(body["error_code"], error_code, "{body}");
        assert!(body["error_message"].is_string(), "{body}");
        assert_eq!(self.header("content-type"), Some("application/json"));
    }
}

impl TestApp {
    /// Writes `request` byte for byte on a new connection and reads the first response: up to
    /// its `Content-Length`, or until the server closes the connection. (No half-close: hyper
    /// drops a connection whose client stops sending mid-request.)
    pub async fn send_raw_http(&self, request: &[u8]) -> RawReply {
        tokio::time::timeout(RAW_TIMEOUT, self.exchange(request))
            .await
            .expect("the server answers a raw request in time")
    }

    async fn exchange(&self, request: &[u8]) -> RawReply {
        let mut stream = TcpStream::connect(self.address)
            .await
            .expect("a connection");
        // The server may answer and close before reading everything (e.g. 431): a failed write
        // is then expected, and the answer is still there to read.
        let _ = stream.write_all(request).await;
        let mut received = Vec::new();
        let mut buffer = [0u8; 64 * 1024];
        loop {
            if let Some(reply) = complete_response(&received) {
                return reply;
            }
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return parse_response(&received),
                Ok(read) => received.extend_from_slice(&buffer[..read]),
            }
        }
    }

    /// `METHOD target` with `Host`, `Connection: close` and the `extra` header lines, no body.
    pub async fn send_raw_line(&self, method: &str, target: &str, extra: &str) -> RawReply {
        let request = format!(
            "{method} {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{extra}\r\n"
        );
        self.send_raw_http(request.as_bytes()).await
    }
}

/// The response in `received` if its head and its `Content-Length` bytes of body are all there.
fn complete_response(received: &[u8]) -> Option<RawReply> {
    let split = received
        .windows(4)
        .position(|window| window == b"\r\n\r\n")?;
    let reply = parse_response(received);
    let length: usize = reply.header("content-length")?.parse().ok()?;
    (received.len() >= split + 4 + length).then(|| RawReply {
        body: reply.body[..length].to_vec(),
        ..reply
    })
}

fn parse_response(received: &[u8]) -> RawReply {
    let split = received
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .unwrap_or_else(|| {
            panic!(
                "no response head in {:?}",
                String::from_utf8_lossy(received)
            )
        });
    let head = String::from_utf8_lossy(&received[..split]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status in {status_line:?}"));
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    RawReply {
        status,
        headers,
        body: received[split + 4..].to_vec(),
    }
}
