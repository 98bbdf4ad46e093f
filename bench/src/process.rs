//! Starting the servers under test: pinned to a CPU, logs to a file, killed when dropped.

use std::fs::File;
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::BenchError;

/// How long a server may take to accept connections after it was started.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// A server process listening on a loopback port; killed on drop.
pub struct Server {
    /// What it is, for messages.
    pub name: String,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    child: Child,
}

impl Server {
    /// Starts `program args…` pinned to `cpus` (a `taskset -c` list, or `None` for no pinning),
    /// logging to `log`, and waits until `address` accepts connections.
    pub fn start(
        name: &str,
        program: &Path,
        args: &[String],
        envs: &[(&str, String)],
        cpus: Option<&str>,
        address: SocketAddr,
        log: &Path,
    ) -> Result<Server, BenchError> {
        let log_file = File::create(log).map_err(|e| BenchError::io(log, e))?;
        let err_file = log_file.try_clone().map_err(|e| BenchError::io(log, e))?;
        let mut command = pinned(cpus, program);
        command
            .args(args)
            .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(err_file);
        let child = command.spawn().map_err(|e| BenchError::io(program, e))?;
        let mut server = Server {
            name: name.to_owned(),
            url: format!("http://{address}"),
            child,
        };
        server.wait_ready(address, log)?;
        Ok(server)
    }

    /// The operating-system process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory of the process, in bytes (`VmRSS` in `/proc/PID/status`).
    pub fn resident_bytes(&self) -> Result<u64, BenchError> {
        bench::procfs::resident_bytes(self.pid())
            .map_err(|e| BenchError::Failed(format!("memory of {}: {e}", self.name)))
    }

    /// CPU time the process has used so far (user + system, all threads), in microseconds.
    pub fn cpu_time_us(&self) -> Result<u64, BenchError> {
        bench::procfs::cpu_time_us(Some(self.pid()))
            .map_err(|e| BenchError::Failed(format!("CPU time of {}: {e}", self.name)))
    }

    fn wait_ready(&mut self, address: SocketAddr, log: &Path) -> Result<(), BenchError> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(BenchError::Failed(format!(
                    "{} exited with {status} before listening; see {}",
                    self.name,
                    log.display()
                )));
            }
            if Instant::now() > deadline {
                return Err(BenchError::Failed(format!(
                    "{} did not listen on {address} within {READY_TIMEOUT:?}; see {}",
                    self.name,
                    log.display()
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Killing a process that already exited fails harmlessly; nothing else to do then.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A command running `program` on `cpus` through `taskset`, or unpinned for `None`.
pub fn pinned(cpus: Option<&str>, program: &Path) -> Command {
    match cpus {
        Some(cpus) => {
            let mut command = Command::new("taskset");
            command.arg("-c").arg(cpus).arg(program);
            command
        }
        None => Command::new(program),
    }
}

/// A free loopback port (the kernel picks it; the race until the server binds is harmless here).
pub fn free_address() -> Result<SocketAddr, BenchError> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| BenchError::Failed(format!("no free port: {e}")))?;
    listener
        .local_addr()
        .map_err(|e| BenchError::Failed(format!("no free port: {e}")))
}
