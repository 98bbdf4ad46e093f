//! Reading a process's CPU time and resident memory from `/proc`.

use std::path::PathBuf;
use std::process::Command;

/// CPU time process `pid` (or this process, for `None`) has used so far, user plus system, all
/// threads, in microseconds.
pub fn cpu_time_us(pid: Option<u32>) -> std::io::Result<u64> {
    let stat = std::fs::read_to_string(proc_file(pid, "stat"))?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let ticks = stat
        .rsplit_once(')')
        .map(|(_, rest)| {
            rest.split_whitespace()
                .skip(11)
                .take(2)
                .filter_map(|field| field.parse::<u64>().ok())
                .sum::<u64>()
        })
        .ok_or_else(|| unreadable("stat"))?;
    Ok(ticks * 1_000_000 / clock_ticks_per_second())
}

/// Resident memory of process `pid` (`VmRSS`), in bytes.
pub fn resident_bytes(pid: u32) -> std::io::Result<u64> {
    let status = std::fs::read_to_string(proc_file(Some(pid), "status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().strip_suffix("kB"))
        .and_then(|kib| kib.trim().parse::<u64>().ok())
        .map(|kib| kib * 1024)
        .ok_or_else(|| unreadable("status (VmRSS)"))
}

fn proc_file(pid: Option<u32>, name: &str) -> PathBuf {
    match pid {
        Some(pid) => PathBuf::from(format!("/proc/{pid}/{name}")),
        None => PathBuf::from(format!("/proc/self/{name}")),
    }
}

fn unreadable(what: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("unreadable /proc {what}"),
    )
}

/// `getconf CLK_TCK` (100 on Linux unless told otherwise).
fn clock_ticks_per_second() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8_lossy(&out.stdout).trim().parse().ok())
        .filter(|ticks| *ticks > 0)
        .unwrap_or(100)
}
