//! CPU time of the database server and the broker during a measurement, when their processes
//! are known (`scripts/bench.sh` passes the pids of the servers it started): which of them a
//! side keeps busy, and how much of its work each request costs them.

use std::time::Instant;

use bench::procfs::cpu_time_us;
use bench::stats::elapsed_us;
use serde::{Deserialize, Serialize};

/// The backend processes, where known.
#[derive(Debug, Clone, Copy, Default)]
pub struct Backends {
    /// The database server's pid.
    pub database: Option<u32>,
    /// The broker's pid.
    pub broker: Option<u32>,
}

/// The backends' CPU time over one measurement.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct BackendCpu {
    /// The database server's CPU time (user + system, all threads), in microseconds.
    pub database_us: Option<u64>,
    /// The broker's CPU time, in microseconds.
    pub broker_us: Option<u64>,
    /// Wall time the measurement took, in microseconds.
    pub wall_us: u64,
}

impl BackendCpu {
    /// The database server's share of one CPU over the measurement, in percent.
    pub fn database_busy(&self) -> Option<f64> {
        self.database_us.map(|us| share(us, self.wall_us))
    }

    /// The broker's share of one CPU over the measurement, in percent.
    pub fn broker_busy(&self) -> Option<f64> {
        self.broker_us.map(|us| share(us, self.wall_us))
    }

    /// The database server's CPU time per one of `count` requests, in microseconds.
    pub fn database_per(&self, count: u64) -> Option<f64> {
        self.database_us.map(|us| us as f64 / count.max(1) as f64)
    }

    /// The broker's CPU time per one of `count` requests, in microseconds.
    pub fn broker_per(&self, count: u64) -> Option<f64> {
        self.broker_us.map(|us| us as f64 / count.max(1) as f64)
    }
}

fn share(us: u64, wall_us: u64) -> f64 {
    if wall_us == 0 {
        0.0
    } else {
        us as f64 * 100.0 / wall_us as f64
    }
}

/// The backends' CPU times at the start of a measurement.
pub struct Snapshot {
    backends: Backends,
    database_us: Option<u64>,
    broker_us: Option<u64>,
    at: Instant,
}

impl Backends {
    /// Reads the backends' CPU times now.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            backends: *self,
            database_us: read(self.database),
            broker_us: read(self.broker),
            at: Instant::now(),
        }
    }
}

impl Snapshot {
    /// The CPU time each backend used since the snapshot.
    pub fn since(&self) -> BackendCpu {
        let delta = |before: Option<u64>, pid| Some(read(pid)?.saturating_sub(before?));
        BackendCpu {
            database_us: delta(self.database_us, self.backends.database),
            broker_us: delta(self.broker_us, self.backends.broker),
            wall_us: elapsed_us(self.at),
        }
    }
}

/// A process's CPU time; `None` when there is no pid or it cannot be read (a remote server).
fn read(pid: Option<u32>) -> Option<u64> {
    cpu_time_us(Some(pid?)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_and_costs_follow_the_cpu_time() {
        let cpu = BackendCpu {
            database_us: Some(1_500_000),
            broker_us: None,
            wall_us: 3_000_000,
        };
        assert_eq!(cpu.database_busy(), Some(50.0));
        assert_eq!(cpu.database_per(300), Some(5_000.0));
        assert_eq!(cpu.broker_busy(), None);
    }

    #[test]
    fn this_process_is_measured_and_an_unknown_one_is_not() {
        let backends = Backends {
            database: Some(std::process::id()),
            broker: None,
        };
        let cpu = backends.snapshot().since();
        assert!(cpu.database_us.is_some());
        assert_eq!(cpu.broker_us, None);
    }
}
