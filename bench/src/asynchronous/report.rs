//! The asynchronous-write group in `RESULTS.md`: its tables and its targets.

use std::fmt::Write as _;

use crate::asynchronous::backends::BackendCpu;
use crate::asynchronous::model::{AsyncResults, Broker};
use crate::load::RawResult;
use crate::report::{millis, rate, Verdict};

/// The Kafka async POST's share of ceiling C it should reach.
pub const CEILING_C_SHARE: f64 = 0.80;
/// The worker's drain rate, as a share of the sync POST rate, it should reach (on each broker).
pub const DRAIN_SHARE: f64 = 0.90;

/// The group's targets: ceiling C's for Kafka (no raw NATS publisher is measured), the drain's
/// for every broker measured.
pub fn verdicts(results: &AsyncResults) -> Vec<Verdict> {
    let mut verdicts = vec![Verdict {
        target: format!(
            "async `POST` on Kafka accepted/s ≥ {:.0} % of ceiling C (raw producer) at {} connections",
            CEILING_C_SHARE * 100.0,
            results.connections
        ),
        measured: format!("{:.1} %", results.ceiling_share() * 100.0),
        met: results.ceiling_share() >= CEILING_C_SHARE,
    }];
    for broker in results.brokers() {
        let share = results.drain_share(broker);
        verdicts.push(Verdict {
            target: format!(
                "worker drain rate on {} ≥ {:.0} % of the sync `POST` rate at {} connections",
                broker.label(),
                DRAIN_SHARE * 100.0,
                results.connections
            ),
            measured: format!("{:.1} %", share * 100.0),
            met: share >= DRAIN_SHARE,
        });
    }
    verdicts
}

/// What the report says of where each broker keeps its log, when NATS is compared with Kafka.
const STORAGE_NOTE: &str = "**The brokers do not store alike.** NATS JetStream keeps the \
    stream in files (the test server's store is on this machine's disk, under `target/`; \
    nats-server writes each message to its file before acknowledging it and leaves the flush to \
    disk to the operating system and its 2-minute sync interval), while the tansu broker \
    standing in for Kafka keeps everything in memory and loses it on a restart. The NATS \
    figures include the writes to its store; the Kafka ones include no storage at all.";

/// The group's section.
pub fn render(out: &mut String, results: &AsyncResults) {
    let brokers = results.brokers();
    let title = brokers
        .iter()
        .map(|broker| broker.label())
        .collect::<Vec<_>>()
        .join(" and ");
    let _ = write!(
        out,
        "\n## Asynchronous writes: MongoDB storage, {title} broker{}\n\n\
         `POST /v1/payments` at {} connections, spread round-robin over {} organisations (the \
         log keys; {} partitions). Async answers are 202 after the broker's acknowledgement \
         (`--role api`); sync answers are 201 after MongoDB's write, on the same database \
         server.\n\n\
         | side | req/s | p50 | p99 | CPU µs/req | errors |\n|---|--:|--:|--:|--:|--:|\n",
        if brokers.len() > 1 { "s" } else { "" },
        results.connections,
        results.organisations,
        results.partitions
    );
    let mut sides = vec![("sync `POST` (201)".to_owned(), results.sync_post)];
    for broker in &brokers {
        if let Some(sides_of) = results.broker(*broker) {
            sides.push((
                format!("async `POST` (202), {}", broker.label()),
                sides_of.async_post,
            ));
        }
    }
    sides.push((
        "ceiling C: raw Kafka producer, same bytes and keys".to_owned(),
        results.ceiling_c,
    ));
    for (name, side) in &sides {
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
    out.push('\n');
    for broker in &brokers {
        let Some(sides_of) = results.broker(*broker) else {
            continue;
        };
        let _ = write!(
            out,
            "On {}, async accepted/s is **{:.2} ×** the sync rate (a peak taken that much \
             faster than written)",
            broker.label(),
            results.absorbed_ratio(*broker),
        );
        match broker {
            Broker::Kafka => {
                let _ = write!(
                    out,
                    " and {:.1} % of ceiling C; its p99 is {} against the sync {} and ceiling \
                     C's {}.",
                    results.ceiling_share() * 100.0,
                    millis(sides_of.async_post.p99_us),
                    millis(results.sync_post.p99_us),
                    millis(results.ceiling_c.p99_us),
                );
            }
            Broker::Nats => {
                let _ = write!(
                    out,
                    "; its p99 is {} against the sync {} (no raw NATS publisher is measured: \
                     ceiling C is Kafka's).",
                    millis(sides_of.async_post.p99_us),
                    millis(results.sync_post.p99_us),
                );
            }
        }
        out.push('\n');
    }
    if brokers.contains(&Broker::Nats) {
        let _ = writeln!(out, "\n{STORAGE_NOTE}");
    }
    if !results.rounds.is_empty() {
        rounds_table(out, results);
    }
    backends_table(out, results);
    drain_section(out, results);
    latency_section(out, results);
}

fn drain_section(out: &mut String, results: &AsyncResults) {
    let drains: Vec<_> = results
        .brokers()
        .into_iter()
        .filter_map(|broker| Some((broker, results.broker(broker)?.drain)))
        .collect();
    let window = drains.first().map_or(0, |(_, drain)| drain.window_seconds);
    let _ = write!(
        out,
        "\n### The worker's drain\n\n\
         A `--role worker` process started on the backlog of the async round with the median \
         drain rate, its `payment_commands_finished_total` read every 50 ms until it reached \
         the backlog or {window} s had passed since the first reading that showed a finished \
         command; the steady rate counts from that reading.\n\n\
         | broker | backlog | finished | start-up to first | steady drain | overall | sync `POST` | drain / sync | worker CPU µs/command | rejected |\n\
         |---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n",
    );
    for (broker, drain) in drains {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.1} s | {}/s | {}/s | {}/s | {:.1} % | {:.0} | {} |",
            broker.label(),
            drain.backlog,
            drain.finished,
            drain.startup_us as f64 / 1e6,
            rate(drain.steady_per_second()),
            rate(drain.overall_per_second()),
            rate(results.sync_post.per_second()),
            results.drain_share(broker) * 100.0,
            drain.cpu_per_command_us(),
            drain.rejected,
        );
    }
}

fn latency_section(out: &mut String, results: &AsyncResults) {
    let brokers = results.brokers();
    let latency = results.latency;
    let _ = write!(
        out,
        "\n### Acceptance to outcome\n\n\
         An API-and-worker process (`--role all`) on each broker under a steady load of {} \
         connections, each pausing between requests so that the load is about half the rate \
         the worker sustains, read from the command resources' `accepted_at` and \
         `finished_at` (millisecond precision).\n\n\
         | broker | pause | accepted/s | commands | p50 | p99 | max | not applied |\n\
         |---|--:|--:|--:|--:|--:|--:|--:|\n",
        latency.connections,
    );
    for broker in brokers {
        let Some(sides_of) = results.broker(broker) else {
            continue;
        };
        let latency = sides_of.latency;
        let _ = writeln!(
            out,
            "| {} | {} ms | {} | {} | {} | {} | {} | {} |",
            broker.label(),
            latency.pause_ms,
            rate(latency.accepted_per_second),
            latency.commands,
            millis(latency.p50_us),
            millis(latency.p99_us),
            millis(latency.max_us),
            latency.not_applied,
        );
    }
}

/// Every round's rates and the ratios within it; the ratios above are their medians.
fn rounds_table(out: &mut String, results: &AsyncResults) {
    let brokers = results.brokers();
    let mut header = "| round | sync `POST`/s |".to_owned();
    for broker in &brokers {
        let _ = write!(header, " {0} async/s | {0} drain/s |", broker.label());
    }
    header.push_str(" ceiling C/s |");
    for broker in &brokers {
        let _ = write!(header, " {0} async / sync |", broker.label());
        if *broker == Broker::Kafka {
            header.push_str(" Kafka async / ceiling C |");
        }
        let _ = write!(header, " {0} drain / sync |", broker.label());
    }
    let columns = header.matches('|').count() - 1;
    let _ = write!(
        out,
        "\nThe database server slows down as the rounds fill it, so each ratio is taken within \
         a round and the median of the rounds is reported:\n\n{header}\n|{}\n",
        "--:|".repeat(columns)
    );
    let share = |part: f64, whole: f64| if whole > 0.0 { part / whole } else { 0.0 };
    for (index, round) in results.rounds.iter().enumerate() {
        let mut row = format!("| {} | {} |", index + 1, rate(round.sync_post));
        let rates: Vec<_> = brokers
            .iter()
            .map(|broker| round.of(*broker).unwrap_or_default())
            .collect();
        for broker_rates in &rates {
            let _ = write!(
                row,
                " {} | {} |",
                rate(broker_rates.async_post),
                rate(broker_rates.drain)
            );
        }
        let _ = write!(row, " {} |", rate(round.ceiling_c));
        for (broker, broker_rates) in brokers.iter().zip(&rates) {
            let _ = write!(
                row,
                " {:.2} × |",
                share(broker_rates.async_post, round.sync_post)
            );
            if *broker == Broker::Kafka {
                let _ = write!(
                    row,
                    " {:.1} % |",
                    share(broker_rates.async_post, round.ceiling_c) * 100.0
                );
            }
            let _ = write!(
                row,
                " {:.1} % |",
                share(broker_rates.drain, round.sync_post) * 100.0
            );
        }
        let _ = writeln!(out, "{row}");
    }
}

/// The backends' CPU time per request and their share of a CPU, side by side, when known.
fn backends_table(out: &mut String, results: &AsyncResults) {
    let cpu = &results.backends;
    let mut rows = vec![(
        "sync `POST`".to_owned(),
        cpu.sync_post,
        results.sync_post.requests,
    )];
    for broker in results.brokers() {
        let Some(sides_of) = results.broker(broker) else {
            continue;
        };
        let label = broker.label();
        rows.push((
            format!("async `POST`, {label}"),
            sides_of.backends.async_post,
            sides_of.async_post.requests,
        ));
        rows.push((
            format!("worker drain, {label} (per command)"),
            sides_of.backends.drain,
            sides_of.drain.steady_commands,
        ));
    }
    rows.push((
        "ceiling C".to_owned(),
        cpu.ceiling_c,
        results.ceiling_c.requests,
    ));
    if rows
        .iter()
        .all(|(_, cpu, _)| cpu.database_us.is_none() && cpu.broker_us.is_none())
    {
        return;
    }
    out.push_str(
        "\nWhat each side cost the database server and its broker (their CPU time, all \
         threads, during the reported round; all run on the server CPU; the sync `POST` and \
         ceiling C count the Kafka broker):\n\n\
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
            "async group {name:<12} c={:<3} {:>8.1} req/s p50 {:>7}us p99 {:>7}us cpu/req {:.1}us errors {}",
            results.connections,
            side.per_second(),
            side.p50_us,
            side.p99_us,
            side.cpu_per_request_us(),
            side.errors()
        );
    };
    let busy = |cpu: &BackendCpu| {
        format!(
            "database {:.0}% broker {:.0}%",
            cpu.database_busy().unwrap_or(0.0),
            cpu.broker_busy().unwrap_or(0.0)
        )
    };
    line("sync", &results.sync_post);
    line("ceiling C", &results.ceiling_c);
    let cpu = &results.backends;
    eprintln!(
        "async group busy: sync [{}] ceiling C [{}]",
        busy(&cpu.sync_post),
        busy(&cpu.ceiling_c),
    );
    for broker in results.brokers() {
        let Some(sides_of) = results.broker(broker) else {
            continue;
        };
        let label = broker.label();
        line(&format!("async {label}"), &sides_of.async_post);
        eprintln!(
            "async group {label}: busy: async [{}] drain [{}]; async/sync {:.2}x, drain {:.1}/s = {:.1}% of sync, latency p50 {}us p99 {}us ({} commands, {} not applied)",
            busy(&sides_of.backends.async_post),
            busy(&sides_of.backends.drain),
            results.absorbed_ratio(broker),
            sides_of.drain.steady_per_second(),
            results.drain_share(broker) * 100.0,
            sides_of.latency.p50_us,
            sides_of.latency.p99_us,
            sides_of.latency.commands,
            sides_of.latency.not_applied,
        );
    }
    eprintln!(
        "async group: Kafka async/ceiling C {:.1}%",
        results.ceiling_share() * 100.0
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asynchronous::model::{
        BrokerBackends, BrokerRates, BrokerResults, DrainResult, LatencyResult, RoundRates,
        SideBackends,
    };

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

    /// A worker applying `drained` commands of a backlog of 5,000 in one second.
    fn drain(drained: u64) -> DrainResult {
        DrainResult {
            backlog: 5_000,
            finished: drained,
            steady_commands: drained,
            steady_us: 1_000_000,
            ..DrainResult::default()
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
            drain: drain(drained),
            latency: LatencyResult::default(),
            backends: SideBackends::default(),
            rounds: Vec::new(),
            nats: None,
        }
    }

    /// [`results`] with NATS beside Kafka: async POSTs at `accepted`/s, `drained` a second.
    fn with_nats(accepted: u64, drained: u64) -> AsyncResults {
        let mut results = results(800, 180);
        results.nats = Some(BrokerResults {
            async_post: side(accepted),
            drain: drain(drained),
            latency: LatencyResult {
                p50_us: 12_000,
                p99_us: 34_000,
                ..LatencyResult::default()
            },
            backends: BrokerBackends::default(),
        });
        results
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
            nats: None,
        };
        // The median round of each side alone would pair a drain of 100/s with sync POSTs of
        // 100/s; within the rounds the drain is at half the sync rate.
        measured.rounds = vec![round(300.0, 150.0), round(100.0, 50.0), round(200.0, 100.0)];
        assert!((measured.drain_share(Broker::Kafka) - 0.5).abs() < 1e-9);
        assert_eq!(met(&measured), [true, false]);
    }

    #[test]
    fn nats_has_a_drain_verdict_of_its_own_and_no_ceiling() {
        assert_eq!(met(&with_nats(600, 180)), [true, true, true]);
        assert_eq!(met(&with_nats(600, 179)), [true, true, false]);
        let targets: Vec<String> = verdicts(&with_nats(600, 180))
            .into_iter()
            .map(|verdict| verdict.target)
            .collect();
        assert!(targets[2].contains("on NATS"), "{targets:?}");
    }

    #[test]
    fn the_section_puts_nats_beside_kafka_and_says_how_they_store() {
        let mut out = String::new();
        render(&mut out, &with_nats(600, 150));
        assert!(out.contains("| async `POST` (202), NATS | 600 |"), "{out}");
        assert!(
            out.contains("On NATS, async accepted/s is **3.00 ×**"),
            "{out}"
        );
        assert!(out.contains("| NATS | 5000 | 150 |"), "{out}");
        assert!(
            out.contains("| NATS | 0 ms | 0.0 | 0 | 12.00 ms | 34.00 ms |"),
            "{out}"
        );
        assert!(out.contains("files"), "{out}");

        let mut kafka_only = String::new();
        render(&mut kafka_only, &results(800, 180));
        assert!(!kafka_only.contains("NATS"), "{kafka_only}");
    }

    #[test]
    fn nats_ratios_are_taken_within_the_rounds_that_measured_it() {
        let mut measured = with_nats(600, 150);
        measured.rounds = vec![RoundRates {
            sync_post: 200.0,
            async_post: 800.0,
            ceiling_c: 1_000.0,
            drain: 180.0,
            nats: Some(BrokerRates {
                async_post: 400.0,
                drain: 100.0,
            }),
        }];
        assert!((measured.absorbed_ratio(Broker::Nats) - 2.0).abs() < 1e-9);
        assert!((measured.drain_share(Broker::Nats) - 0.5).abs() < 1e-9);
        measured.rounds[0].nats = None;
        assert!((measured.absorbed_ratio(Broker::Nats) - 3.0).abs() < 1e-9);
    }
}
