//! The `payment-server` binary itself: JSON request logs, `--healthcheck`, and exit 0 on SIGTERM.
#![cfg(unix)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

const BINARY: &str = env!("CARGO_BIN_EXE_payment-server");

/// A running `payment-server` with its JSON log lines arriving on a channel.
struct Server {
    child: Child,
    address: SocketAddr,
    logs: mpsc::Receiver<Value>,
}

impl Server {
    fn start() -> Server {
        Server::start_with(&[])
    }

    fn start_with(extra_args: &[&str]) -> Server {
        Server::start_logging(extra_args, "info")
    }

    fn start_logging(extra_args: &[&str], rust_log: &str) -> Server {
        let mut child = Command::new(BINARY)
            .args(["--listen", "127.0.0.1:0", "--log-format", "json"])
            .args(extra_args)
            .env("RUST_LOG", rust_log)
            .stdout(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let logs = read_json_lines(child.stdout.take().expect("piped stdout"));
        let listening = wait_for(&logs, |line| line["message"] == "payment-server listening");
        let address = listening["address"]
            .as_str()
            .and_then(|text| text.parse().ok())
            .expect("the listening line names the bound address");
        Server {
            child,
            address,
            logs,
        }
    }

    /// Stops the server with SIGTERM and returns every line it logged after starting.
    fn logs_until_stopped(mut self) -> Vec<Value> {
        let logs = std::mem::replace(&mut self.logs, mpsc::channel().1);
        let status = self.terminate();
        assert!(status.success(), "{status:?}");
        // The reader thread ends, and so the iteration, at the end of the server's output.
        logs.iter().collect()
    }

    fn terminate(mut self) -> ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().expect("the child can be waited on") {
                return status;
            }
            assert!(Instant::now() < deadline, "the server ignored SIGTERM");
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_json_lines(stdout: ChildStdout) -> mpsc::Receiver<Value> {
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let value = serde_json::from_str(&line)
                .unwrap_or_else(|_| panic!("a log line is not JSON: {line}"));
            if sender.send(value).is_err() {
                break;
            }
        }
    });
    receiver
}

fn wait_for(logs: &mpsc::Receiver<Value>, matches: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = logs
            .recv_timeout(left)
            .expect("the expected log line arrives");
        if matches(&line) {
            return line;
        }
    }
}

/// Sends a bare HTTP/1.0 GET and returns the raw answer.
fn http_get(address: SocketAddr, path: &str, request_id: &str) -> String {
    let mut stream = TcpStream::connect(address).expect("the server accepts");
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: {address}\r\nx-request-id: {request_id}\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

fn healthcheck(address: SocketAddr) -> ExitStatus {
    Command::new(BINARY)
        .args(["--healthcheck", "--listen", &address.to_string()])
        .stderr(Stdio::null())
        .status()
        .expect("the binary runs")
}

#[test]
fn each_request_is_logged_as_one_json_line_with_route_status_latency_and_request_id() {
    let server = Server::start();

    let answer = http_get(server.address, "/v1/payments", "binary-test-1");

    assert!(answer.starts_with("HTTP/1.0 200"), "{answer}");
    let line = wait_for(&server.logs, |line| {
        line["message"] == "request finished" && line["request_id"] == "binary-test-1"
    });
    assert_eq!(line["method"], "GET");
    assert_eq!(line["route"], "/v1/payments");
    assert_eq!(line["status"], 200);
    assert!(line["latency_ms"].as_f64().is_some(), "{line}");
    assert_eq!(line["level"], "INFO");
}

#[test]
fn a_warning_logged_while_serving_a_request_carries_that_request() {
    // Nothing listens on port 9 of loopback: every storage call fails fast with a warning.
    let server = Server::start_with(&[
        "--storage",
        "mongo",
        "--mongo-uri",
        "mongodb://127.0.0.1:9/?directConnection=true",
        "--mongo-server-selection-timeout-ms",
        "200",
    ]);

    let answer = http_get(
        server.address,
        "/v1/payments/4ee3a8d8-ca7b-4290-a52c-dd5b6165ec43",
        "binary-test-2",
    );

    assert!(answer.starts_with("HTTP/1.0 503"), "{answer}");
    let warning = wait_for(&server.logs, |line| {
        line["message"] == "storage unavailable"
    });
    assert_eq!(warning["level"], "WARN");
    assert_eq!(warning["span"]["request_id"], "binary-test-2", "{warning}");
    assert_eq!(warning["span"]["method"], "GET");
    assert_eq!(warning["span"]["route"], "/v1/payments/{id}");
    let access = wait_for(&server.logs, |line| line["message"] == "request finished");
    assert_eq!(access["request_id"], "binary-test-2");
    assert_eq!(access["status"], 503);
    assert_eq!(
        access["path"],
        "/v1/payments/4ee3a8d8-ca7b-4290-a52c-dd5b6165ec43"
    );
}

#[test]
fn rust_log_can_turn_the_access_line_off_and_keep_the_rest() {
    let server = Server::start_logging(&[], "info,app::http::access=off");
    let answer = http_get(server.address, "/v1/payments", "binary-test-3");
    assert!(answer.starts_with("HTTP/1.0 200"), "{answer}");
    let logs = server.logs_until_stopped();
    assert!(
        logs.iter()
            .any(|line| line["message"] == "payment-server stopped"),
        "{logs:?}"
    );
    assert!(
        !logs
            .iter()
            .any(|line| line["message"] == "request finished"),
        "{logs:?}"
    );
}

#[test]
fn healthcheck_exits_0_for_a_live_server_and_1_when_nothing_answers() {
    let server = Server::start();
    let address = server.address;

    assert_eq!(healthcheck(address).code(), Some(0));
    drop(server);
    assert_eq!(healthcheck(address).code(), Some(1));
}

#[test]
fn sigterm_stops_the_server_with_exit_status_0() {
    let server = Server::start();
    assert!(http_get(server.address, "/health/live", "before-stop").starts_with("HTTP/1.0 200"));

    let status = server.terminate();

    assert_eq!(status.code(), Some(0), "{status:?}");
}
