//! The processes of the cluster: API instances, workers and nginx, started as real processes on
//! loopback ports, killed with SIGKILL or stopped with SIGTERM, and killed when dropped.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Where the backing servers are and how the payment servers are configured.
#[derive(Debug, Clone)]
pub struct Backing {
    /// The `payment-server` binary.
    pub binary: PathBuf,
    /// MongoDB connection string.
    pub mongo_uri: String,
    /// Kafka bootstrap servers.
    pub kafka_brokers: String,
    /// Partitions of the command topic.
    pub partitions: u32,
    /// Kafka consumer session timeout of the workers, in milliseconds.
    pub session_timeout_ms: u64,
    /// Logs, pid list and the nginx prefix.
    pub dir: PathBuf,
}

/// What a payment-server process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `--role api --write-mode async`: publishes commands.
    AsyncApi,
    /// `--role api --write-mode sync`: writes to storage before answering.
    SyncApi,
    /// `--role worker`: applies commands.
    Worker,
}

/// One process, restartable with the same command line; killed when dropped.
pub struct Process {
    /// A name for messages and log files (`api-1`, `worker-2`, `nginx`).
    pub name: String,
    /// The loopback port it serves HTTP on.
    pub port: u16,
    program: PathBuf,
    args: Vec<String>,
    envs: Vec<(String, String)>,
    child: Option<Child>,
    dir: PathBuf,
}

impl Process {
    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The operating-system pid while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Starts (or starts again) the process; its output is appended to `DIR/NAME.log` and its
    /// pid to `DIR/pids`, which `scripts/cluster.sh` kills on exit should this driver die.
    pub fn start(&mut self) -> std::io::Result<()> {
        let log = self.dir.join(format!("{}.log", self.name));
        let out = OpenOptions::new().create(true).append(true).open(&log)?;
        let err = out.try_clone()?;
        let child = Command::new(&self.program)
            .args(&self.args)
            .envs(self.envs.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()?;
        let mut pids = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("pids"))?;
        writeln!(pids, "{} {}", child.id(), self.name)?;
        self.child = Some(child);
        Ok(())
    }

    /// SIGKILL: a crash, no goodbye to anyone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM (a graceful stop), SIGKILL after `grace`. Whether it exited by itself.
    pub fn terminate(&mut self, grace: Duration) -> bool {
        let Some(mut child) = self.child.take() else {
            return true;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        false
    }

    /// Whether it exited on its own (a crash at start, a failed bind).
    pub fn exited(&mut self) -> bool {
        match self.child.as_mut() {
            Some(child) => !matches!(child.try_wait(), Ok(None)),
            None => true,
        }
    }

    /// The last lines of its log, for messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.dir.join(format!("{}.log", self.name)))
            .unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if self.name == "nginx" {
            // The master stops its workers on SIGTERM; SIGKILL would orphan them.
            self.terminate(Duration::from_secs(5));
        } else {
            self.kill();
        }
    }
}

/// Ports are taken below the kernel's ephemeral range (32768 and up by default), so that no
/// outgoing connection takes a killed instance's port before it is started again on it.
const PORTS: std::ops::Range<u32> = 20_000..32_000;

/// Ports handed out so far by this run (each one once).
static HANDED_OUT: AtomicU32 = AtomicU32::new(0);

/// A loopback port below the ephemeral range that is free now.
pub fn free_port() -> std::io::Result<u16> {
    let span = PORTS.end - PORTS.start;
    // Runs side by side start at different places.
    let offset = std::process::id().wrapping_mul(7_919);
    for _ in 0..span {
        let n = HANDED_OUT.fetch_add(1, Ordering::Relaxed);
        let port = PORTS.start + offset.wrapping_add(n) % span;
        let port = u16::try_from(port).map_err(std::io::Error::other)?;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    Err(std::io::Error::other(
        "no free port between 20000 and 32000",
    ))
}

impl Backing {
    /// A payment-server process of `role` (not started), named `name`, on a free port.
    pub fn payment_server(&self, name: &str, role: Role) -> std::io::Result<Process> {
        let port = free_port()?;
        let (role_flag, mode) = match role {
            Role::AsyncApi => ("api", "async"),
            Role::SyncApi => ("api", "sync"),
            Role::Worker => ("worker", "async"),
        };
        let args: Vec<String> = [
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--role",
            role_flag,
            "--write-mode",
            mode,
            "--broker",
            "kafka",
            "--storage",
            "mongo",
            "--mongo-uri",
            &self.mongo_uri,
            "--mongo-database",
            "cluster",
            "--kafka-brokers",
            &self.kafka_brokers,
            "--kafka-partitions",
            &self.partitions.to_string(),
            "--kafka-session-timeout-ms",
            &self.session_timeout_ms.to_string(),
            // The tansu test broker holds every fetch for the whole wait (README).
            "--kafka-fetch-wait-ms",
            "50",
            "--log-format",
            "json",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        Ok(Process {
            name: name.to_owned(),
            port,
            program: self.binary.clone(),
            args,
            envs: vec![("RUST_LOG".into(), "info".into())],
            child: None,
            dir: self.dir.clone(),
        })
    }

    /// `count` payment-server processes of `role`, started, named `NAME-1`, `NAME-2`, ...
    pub fn start_many(
        &self,
        name: &str,
        role: Role,
        count: usize,
    ) -> std::io::Result<Vec<Process>> {
        (1..=count)
            .map(|n| {
                let mut process = self.payment_server(&format!("{name}-{n}"), role)?;
                process.start()?;
                Ok(process)
            })
            .collect()
    }

    /// nginx (not started) in front of `upstreams`, on a free port, with its prefix in `DIR/nginx`.
    pub fn nginx(&self, program: &Path, upstreams: &[u16]) -> std::io::Result<Process> {
        let port = free_port()?;
        let prefix = self.dir.join("nginx");
        for temp in ["body", "proxy", "fastcgi", "uwsgi", "scgi"] {
            std::fs::create_dir_all(prefix.join("temp").join(temp))?;
        }
        write_nginx_conf(&prefix, port, upstreams)?;
        let conf = prefix.join("nginx.conf");
        Ok(Process {
            name: "nginx".into(),
            port,
            program: program.to_owned(),
            args: vec![
                "-p".into(),
                prefix.display().to_string(),
                "-c".into(),
                conf.display().to_string(),
            ],
            envs: Vec::new(),
            child: None,
            dir: self.dir.clone(),
        })
    }
}

/// Points the running nginx at `upstreams` (a new configuration, then `nginx -s reload`, which
/// lets old workers finish their requests).
pub fn reload_nginx(nginx: &Process, program: &Path, upstreams: &[u16]) -> std::io::Result<()> {
    let prefix = nginx.dir.join("nginx");
    write_nginx_conf(&prefix, nginx.port, upstreams)?;
    let status = Command::new(program)
        .arg("-p")
        .arg(&prefix)
        .arg("-c")
        .arg(prefix.join("nginx.conf"))
        .args(["-s", "reload"])
        .output()?;
    if !status.status.success() {
        return Err(std::io::Error::other(format!(
            "nginx -s reload: {}: {}",
            status.status,
            String::from_utf8_lossy(&status.stderr)
        )));
    }
    Ok(())
}

fn write_nginx_conf(prefix: &Path, port: u16, upstreams: &[u16]) -> std::io::Result<()> {
    let servers: String = upstreams
        .iter()
        .map(|p| format!("        server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;\n"))
        .collect();
    let template = include_str!("nginx.conf");
    let text = template
        .replace("@USER@", &user_line())
        .replace("@PREFIX@", &prefix.display().to_string())
        .replace("@PORT@", &port.to_string())
        .replace("@SERVERS@\n", &servers);
    let mut file = File::create(prefix.join("nginx.conf"))?;
    file.write_all(text.as_bytes())
}

/// As root, nginx would run its workers as `nobody`, who cannot write the prefix: keep root.
fn user_line() -> String {
    let root = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .map(|l| l.split_whitespace().next() == Some("0"))
        })
        .unwrap_or(false);
    if root {
        "user root;".into()
    } else {
        String::new()
    }
}

/// The pids of `pid`'s children (nginx's workers).
pub fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}
