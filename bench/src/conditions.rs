//! The machine and settings a run happened under, for the report.

use std::path::Path;
use std::process::Command;

use crate::load::wrk_version;
use crate::model::Conditions;
use crate::{Args, Settings};

/// CPUs this process may run on.
pub fn cpu_count() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Reads the machine facts and records the settings.
pub fn detect(settings: &Settings, args: &Args, root: &Path) -> Conditions {
    let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    let dirty = command_output(
        root,
        "git",
        &["status", "--porcelain", "--untracked-files=no"],
    );
    let mut commit = command_output(root, "git", &["rev-parse", "--short", "HEAD"]);
    if !dirty.is_empty() {
        commit.push_str(" (with uncommitted changes)");
    }
    let command = std::env::var("BENCH_COMMAND")
        .unwrap_or_else(|_| std::env::args().collect::<Vec<_>>().join(" "));
    let mongo_note = match (&args.mongo_uri, &args.mongo_note) {
        (Some(_), _) => None,
        (None, Some(note)) => Some(note.clone()),
        (None, None) => Some("not measured: no --mongo-uri / MONGODB_URI was given".into()),
    };
    let kafka_note = match (&args.mongo_uri, &args.kafka_brokers, &args.kafka_note) {
        (Some(_), Some(_), _) => None,
        (_, None, Some(note)) => Some(note.clone()),
        (None, _, _) => {
            Some("not measured: it needs MongoDB (no --mongo-uri / MONGODB_URI)".into())
        }
        (Some(_), None, None) => {
            Some("not measured: no --kafka-brokers / KAFKA_BOOTSTRAP_SERVERS was given".into())
        }
    };
    Conditions {
        date: command_output(root, "date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        commit,
        cpus: cpu_count(),
        cpu_model,
        kernel: command_output(root, "uname", &["-sr"]),
        load_generator: wrk_version(),
        seconds: settings.seconds,
        rounds: settings.rounds,
        server_cpus: settings.server_cpus.clone(),
        load_cpus: settings.load_cpus.clone(),
        server_log: settings.server_log.clone(),
        command,
        mongo_note,
        kafka_note,
        load_average: vec![load_average()],
    }
}

/// `/proc/loadavg`'s three load averages.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".into())
}

fn command_output(dir: &Path, program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .ok()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".into())
}
