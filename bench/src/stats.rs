//! Small figures every measuring program computes alike.

use std::time::Instant;

/// The `q` quantile of sorted `values` (nearest rank); 0 for none.
pub fn percentile(values: &[u64], q: f64) -> u64 {
    if values.is_empty() {
        return 0;
    }
    let rank = (q * values.len() as f64).ceil() as usize;
    values[rank.clamp(1, values.len()) - 1]
}

/// Microseconds since `since`.
pub fn elapsed_us(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// What one task of a ceiling program saw.
#[derive(Debug, Default)]
pub struct Tally {
    /// Each operation's latency, in microseconds.
    pub latencies_us: Vec<u64>,
    /// Operations that failed.
    pub errors: u64,
}

/// Prints the `BENCH_RESULT` line the harness reads (`load::parse_result`) for the tasks'
/// `tallies`, timed from `started`, with this process's CPU time since `cpu_before`
/// (microseconds, from `procfs::cpu_time_us`).
pub fn print_result(tallies: Vec<Tally>, started: Instant, cpu_before: u64) {
    let mut latencies = Vec::new();
    let mut errors = 0;
    for tally in tallies {
        latencies.extend(tally.latencies_us);
        errors += tally.errors;
    }
    let duration_us = elapsed_us(started);
    let cpu_us = crate::procfs::cpu_time_us(None)
        .unwrap_or(0)
        .saturating_sub(cpu_before);
    latencies.sort_unstable();
    let pct = |q: f64| percentile(&latencies, q);
    println!(
        "BENCH_RESULT {{\"requests\":{},\"duration_us\":{duration_us},\"bytes\":0,\"connect_errors\":0,\
         \"read_errors\":0,\"write_errors\":0,\"timeouts\":0,\"status_errors\":{errors},\
         \"p50_us\":{},\"p90_us\":{},\"p99_us\":{},\"max_us\":{},\"server_cpu_us\":{cpu_us}}}",
        latencies.len(),
        pct(0.50),
        pct(0.90),
        pct(0.99),
        latencies.last().copied().unwrap_or(0),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_is_the_nearest_rank() {
        let values: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&values, 0.50), 50);
        assert_eq!(percentile(&values, 0.99), 99);
        assert_eq!(percentile(&values, 1.0), 100);
        assert_eq!(percentile(&[7], 0.99), 7);
    }

    #[test]
    fn percentile_of_nothing_is_zero() {
        assert_eq!(percentile(&[], 0.5), 0);
    }
}
