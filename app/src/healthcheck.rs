//! `payment-server --healthcheck`: asks a running server's `GET /health/live` and reports by exit
//! status, so a container image without curl or a shell (distroless) can have a `HEALTHCHECK`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long the whole probe may take.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// The address to probe for a server listening on `listen`: a wildcard address is reached
/// through the loopback interface of the same family.
pub fn probe_address(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}

/// `Ok` when `GET /health/live` at `address` answers 200 within [`PROBE_TIMEOUT`].
pub async fn probe(address: SocketAddr) -> Result<(), String> {
    tokio::time::timeout(PROBE_TIMEOUT, get_live(address))
        .await
        .map_err(|_| format!("no answer from {address} within {PROBE_TIMEOUT:?}"))?
}

async fn get_live(address: SocketAddr) -> Result<(), String> {
    let mut stream = TcpStream::connect(address)
        .await
        .map_err(|e| format!("cannot connect to {address}: {e}"))?;
    // HTTP/1.0 with `Connection: close`: the server closes after answering, so reading to the
    // end needs no chunked or content-length handling.
    let request =
        format!("GET /health/live HTTP/1.0\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("cannot send the request: {e}"))?;
    let mut reply = Vec::new();
    stream
        .read_to_end(&mut reply)
        .await
        .map_err(|e| format!("cannot read the answer: {e}"))?;
    let status_line = reply.split(|&b| b == b'\n').next().unwrap_or_default();
    let status_line = String::from_utf8_lossy(status_line);
    match status_line.split_whitespace().nth(1) {
        Some("200") => Ok(()),
        _ => Err(format!("unhealthy answer: {}", status_line.trim())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_listen_addresses_are_probed_on_loopback() {
        let v4: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        let v6: SocketAddr = "[::]:8080".parse().unwrap();
        let specific: SocketAddr = "10.1.2.3:9000".parse().unwrap();
        assert_eq!(probe_address(v4), "127.0.0.1:8080".parse().unwrap());
        assert_eq!(probe_address(v6), "[::1]:8080".parse().unwrap());
        assert_eq!(probe_address(specific), specific);
    }
}
