//! The asynchronous-write group in `RESULTS.md`: its tables and its targets.

use std::fmt::Write as _;

use crate::asynchronous::model::AsyncResults;
use crate::load::RawResult;
use crate::report::{millis, rate, Verdict};

/// The async POST's share of ceiling C it should reach.
pub const CEILING_C_SHARE: f64 = 0.80;
/// The worker's drain rate, as a share of the sync POST rate, it should reach.
pub const DRAIN_SHARE: f64 = 0.90;

/// The group's targets.
pub fn verdicts(results: &AsyncResults) -> Vec<Verdict> {
    vec![
        Verdict {
            target: format!(
                "async `POST` accepted/s ≥ {:.0} % of ceiling C (raw producer) at {} connections",
                CEILING_C_SHARE * 100.0,
                results.connections
            ),
            measured: format!("{:.1} %", results.ceiling_share() * 100.0),
            met: results.ceiling_share() >= CEILING_C_SHARE,
        },
        Verdict {
            target: format!(
                "worker drain rate ≥ {:.0} % of the sync `POST` rate at {} connections",
                DRAIN_SHARE * 100.0,
                results.connections
            ),
            measured: format!("{:.1} %", results.drain_share() * 100.0),
            met: results.drain_share() >= DRAIN_SHARE,
        },
    ]
}

/// The group's section.
pub fn render(out: &mut String, results: &AsyncResults) {
    let _ = write!(
        out,
        "\n## Asynchronous writes: MongoDB storage, Kafka broker\n\n\
         `POST /v1/payments` at {} connections, spread round-robin over {} organisations (the \
         log keys; {} partitions). Async answers are 202 after the broker's acknowledgement \
         (`--role api`); sync answers are 201 after MongoDB's write, on the same database \
         server.\n\n\
         | side | req/s | p50 | p99 | CPU µs/req | errors |\n|---|--:|--:|--:|--:|--:|\n",
        results.connections, results.organisations, results.partitions
    );
    let sides = [
        ("sync `POST` (201)", &results.sync_post),
        ("async `POST` (202)", &results.async_post),
        (
            "ceiling C: raw producer, same bytes and keys",
            &results.ceiling_c,
        ),
    ];
    for (name, side) in sides {
        let _ = writeln!(
            out,
            "| {name} | {} | {} | {} | {:.1} | {} |",
            rate(side.per_second()),
            millis(side.p50_us),
            millis(side.p99_us),
            side.cpu_per_request_us(),
            side.errors()
        );
    }
    let _ = writeln!(
        out,
        "\nAsync accepted/s is **{:.2} ×** the sync rate (a peak taken that much faster than \
         written) and {:.1} % of ceiling C; its p99 is {} against the sync {} and ceiling C's {}.",
        results.absorbed_ratio(),
        results.ceiling_share() * 100.0,
        millis(results.async_post.p99_us),
        millis(results.sync_post.p99_us),
        millis(results.ceiling_c.p99_us),
    );
    if !results.rounds.is_empty() {
        rounds_table(out, results);
    }
    backends_table(out, results);
    let drain = &results.drain;
    let _ = write!(
        out,
        "\n### The worker's drain\n\n\
         A `--role worker` process started on the backlog of the async round with the median \
         drain rate, its `payment_commands_finished_total` read every 50 ms until it reached \
         the backlog or {} s had passed since the first reading that showed a finished command; \
         the steady rate counts from that reading.\n\n\
         | backlog | finished | start-up to first | steady drain | overall | sync `POST` | drain / sync | worker CPU µs/command | rejected |\n\
         |--:|--:|--:|--:|--:|--:|--:|--:|--:|\n\
         | {} | {} | {:.1} s | {}/s | {}/s | {}/s | {:.1} % | {:.0} | {} |\n",
        drain.window_seconds,
        drain.backlog,
        drain.finished,
        drain.startup_us as f64 / 1e6,
        rate(drain.steady_per_second()),
        rate(drain.overall_per_second()),
        rate(results.sync_post.per_second()),
        results.drain_share() * 100.0,
        drain.cpu_per_command_us(),
        drain.rejected,
    );
    let latency = &results.latency;
    let _ = write!(
        out,
        "\n### Acceptance to outcome\n\n\
         An API-and-worker process (`--role all`) under a steady load of {} connections, each \
         pausing {} ms between requests (about half the rate the worker sustains), read from the \
         command resources' `accepted_at` and `finished_at` (millisecond precision).\n\n\
         | accepted/s | commands | p50 | p99 | max | not applied |\n|--:|--:|--:|--:|--:|--:|\n\
         | {} | {} | {} | {} | {} | {} |\n",
        latency.connections,
        latency.pause_ms,
        rate(latency.accepted_per_second),
        latency.commands,
        millis(latency.p50_us),
        millis(latency.p99_us),
        millis(latency.max_us),
        latency.not_applied,
    );
}

/// Every round's rates and the ratios within it; the ratios above are their medians.
fn rounds_table(out: &mut String, results: &AsyncResults) {
    out.push_str(
        "\nThe database server slows down as the rounds fill it, so each ratio is taken within \
         a round and the median of the rounds is reported:\n\n\
         | round | sync `POST`/s | async `POST`/s | ceiling C/s | drain/s | async / sync | async / ceiling C | drain / sync |\n\
         |--:|--:|--:|--:|--:|--:|--:|--:|\n",
    );
    for (index, round) in results.rounds.iter().enumerate() {
        let share = |part: f64, whole: f64| {
            if whole > 0.0 {
                part / whole
            } else {
                0.0
            }
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {:.2} × | {:.1} % | {:.1} % |",
            index + 1,
            rate(round.sync_post),
            rate(round.async_post),
            rate(round.ceiling_c),
            rate(round.drain),
            share(round.async_post, round.sync_post),
            share(round.async_post, round.ceiling_c) * 100.0,
            share(round.drain, round.sync_post) * 100.0,
        );
    }
}

/// The backends' CPU time per request and their share of a CPU, side by side, when known.
fn backends_table(out: &mut String, results: &AsyncResults) {
    let cpu = &results.backends;
    let rows = [
        ("sync `POST`", &cpu.sync_post, results.sync_post.requests),
        ("async `POST`", &cpu.async_post, results.async_post.requests),
        ("ceiling C", &cpu.ceiling_c, results.ceiling_c.requests),
        (
            "worker drain (per command)",
            &cpu.drain,
            results.drain.steady_commands,
        ),
    ];
    if rows
        .iter()
        .all(|(_, cpu, _)| cpu.database_us.is_none() && cpu.broker_us.is_none())
    {
        return;
    }
    out.push_str(
        "\nWhat each side cost the database server and the broker (their CPU time, all threads, \
         during the reported round; both run on the server CPU):\n\n\
         | side | database CPU µs / request | database busy | broker CPU µs / request | broker busy |\n\
         |---|--:|--:|--:|--:|\n",
    );
    let micros = |value: Option<f64>| value.map_or("–".to_owned(), |us| format!("{us:.0}"));
    let percent = |value: Option<f64>| value.map_or("–".to_owned(), |p| format!("{p:.0} %"));
    for (name, cpu, count) in rows {
        let _ = writeln!(
            out,
            "| {name} | {} | {} | {} | {} |",
            micros(cpu.database_per(count)),
            percent(cpu.database_busy()),
            micros(cpu.broker_per(count)),
            percent(cpu.broker_busy()),
        );
    }
}

/// One line per figure on standard error, as the other groups print theirs.
pub fn print(results: &AsyncResults) {
    let line = |name: &str, side: &RawResult| {
        eprintln!(
            "async group {name:<10} c={:<3} {:>8.1} req/s p50 {:>7}us p99 {:>7}us cpu/req {:.1}us errors {}",
            results.connections,
            side.per_second(),
            side.p50_us,
            side.p99_us,
            side.cpu_per_request_us(),
            side.errors()
        );
    };
    line("sync", &results.sync_post);
    line("async", &results.async_post);
    line("ceiling C", &results.ceiling_c);
    let busy = |cpu: &crate::asynchronous::backends::BackendCpu| {
        format!(
            "database {:.0}% broker {:.0}%",
            cpu.database_busy().unwrap_or(0.0),
            cpu.broker_busy().unwrap_or(0.0)
        )
    };
    let cpu = &results.backends;
    eprintln!(
        "async group busy: sync [{}] async [{}] ceiling C [{}] drain [{}]",
        busy(&cpu.sync_post),
        busy(&cpu.async_post),
        busy(&cpu.ceiling_c),
        busy(&cpu.drain)
    );
    eprintln!(
        "async group: async/sync {:.2}x, async/ceiling C {:.1}%, drain {:.1}/s = {:.1}% of sync, latency p50 {}us p99 {}us",
        results.absorbed_ratio(),
        results.ceiling_share() * 100.0,
        results.drain.steady_per_second(),
        results.drain_share() * 100.0,
        results.latency.p50_us,
        results.latency.p99_us
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asynchronous::model::{DrainResult, LatencyResult, RoundRates, SideBackends};

    fn side(requests: u64) -> RawResult {
        RawResult {
            requests,
            duration_us: 1_000_000,
            connect_errors: 0,
            read_errors: 0,
            write_errors: 0,
            timeouts: 0,
            status_errors: 0,
            p50_us: 1_000,
            p90_us: 2_000,
            p99_us: 3_000,
            max_us: 4_000,
            server_cpu_us: 0,
        }
    }

    /// Sync POSTs at 200/s, async at `accepted`/s against ceiling C at 1,000/s, a worker
    /// applying `drained` commands in one second.
    fn results(accepted: u64, drained: u64) -> AsyncResults {
        AsyncResults {
            connections: 64,
            organisations: 64,
            partitions: 32,
            sync_post: side(200),
            async_post: side(accepted),
            ceiling_c: side(1_000),
            drain: DrainResult {
                backlog: 5_000,
                finished: drained,
                steady_commands: drained,
                steady_us: 1_000_000,
                ..DrainResult::default()
            },
            latency: LatencyResult::default(),
            backends: SideBackends::default(),
            rounds: Vec::new(),
        }
    }

    fn met(results: &AsyncResults) -> Vec<bool> {
        verdicts(results)
            .iter()
            .map(|verdict| verdict.met)
            .collect()
    }

    #[test]
    fn async_posts_at_four_fifths_of_ceiling_c_and_a_drain_at_nine_tenths_meet_the_targets() {
        assert_eq!(met(&results(800, 180)), [true, true]);
    }

    #[test]
    fn async_posts_below_four_fifths_of_ceiling_c_miss_their_target() {
        assert_eq!(met(&results(799, 180)), [false, true]);
    }

    #[test]
    fn a_drain_below_nine_tenths_of_the_sync_rate_misses_its_target() {
        assert_eq!(met(&results(800, 179)), [true, false]);
    }

    #[test]
    fn the_section_reports_the_ratio_of_async_to_sync() {
        let mut out = String::new();
        render(&mut out, &results(800, 180));
        assert!(out.contains("**4.00 ×** the sync rate"), "{out}");
        assert!(out.contains("| 5000 | 180 |"), "{out}");
    }

    #[test]
    fn the_backends_table_shows_cost_per_request_only_when_measured() {
        let mut unmeasured = String::new();
        render(&mut unmeasured, &results(800, 180));
        assert!(!unmeasured.contains("database busy"), "{unmeasured}");

        let mut measured = results(800, 180);
        measured.backends.sync_post = crate::asynchronous::backends::BackendCpu {
            database_us: Some(900_000),
            broker_us: None,
            wall_us: 1_000_000,
        };
        let mut out = String::new();
        render(&mut out, &measured);
        assert!(
            out.contains("| sync `POST` | 4500 | 90 % | – | – |"),
            "{out}"
        );
    }

    #[test]
    fn ratios_are_taken_within_rounds_and_their_median_is_the_verdict() {
        let mut measured = results(800, 180);
        let round = |sync_post, drain| RoundRates {
            sync_post,
            async_post: 800.0,
            ceiling_c: 1_000.0,
            drain,
        };
        // The median round of each side alone would pair a drain of 100/s with sync POSTs of
        // 100/s; within the rounds the drain is at half the sync rate.
        measured.rounds = vec![round(300.0, 150.0), round(100.0, 50.0), round(200.0, 100.0)];
        assert!((measured.drain_share() - 0.5).abs() < 1e-9);
        assert_eq!(met(&measured), [true, false]);
    }
}
