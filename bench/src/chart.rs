//! `chart.svg`: throughput and latency percentiles per scenario, server beside its ceiling.
//! Plain SVG text, so the report needs no plotting library.

use std::fmt::Write as _;

use crate::asynchronous::model::AsyncResults;
use crate::model::{Backend, Cell, Results};

const WIDTH: f64 = 1200.0;
const PANEL_HEIGHT: f64 = 260.0;
/// Vertical room per panel: the plot, its title and its group labels.
const PANEL_STEP: f64 = 360.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 20.0;
const SERVER: &str = "#1f77b4";
const SERVER_LIGHT: &str = "#9ecae1";
const CEILING: &str = "#ff7f0e";
const CEILING_LIGHT: &str = "#fdd0a2";

/// One bar series: a legend name, a colour and one value per group.
struct Series {
    name: String,
    colour: &'static str,
    values: Vec<f64>,
}

/// The chart for every backend measured.
pub fn render(results: &Results) -> String {
    let backends: Vec<Backend> = [Backend::Memory, Backend::Mongo]
        .into_iter()
        .filter(|b| results.cells.iter().any(|c| c.backend == *b))
        .collect();
    let groups = backends.len() + usize::from(results.asynchronous.is_some());
    let height = 30.0 + PANEL_STEP * 2.0 * groups as f64;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let mut top = 30.0;
    for backend in backends {
        let cells: Vec<&Cell> = results
            .cells
            .iter()
            .filter(|c| c.backend == backend)
            .collect();
        let groups: Vec<String> = cells
            .iter()
            .map(|c| format!("{} c{}", c.endpoint.short(), c.connections))
            .collect();
        let server = backend.server_label();
        let ceiling = backend.ceiling_label();
        let throughput = [
            series(server, SERVER, &cells, |c| c.server.per_second()),
            series(ceiling, CEILING, &cells, |c| c.ceiling.per_second()),
        ];
        let title = format!("Throughput (requests/s, higher is better): {server} vs {ceiling}");
        panel(&mut svg, top, &title, &groups, &throughput, false);
        top += PANEL_STEP;
        let latency = [
            series(&format!("{server} p50"), SERVER_LIGHT, &cells, |c| {
                c.server.p50_us as f64
            }),
            series(&format!("{server} p99"), SERVER, &cells, |c| {
                c.server.p99_us as f64
            }),
            series(&format!("{ceiling} p50"), CEILING_LIGHT, &cells, |c| {
                c.ceiling.p50_us as f64
            }),
            series(&format!("{ceiling} p99"), CEILING, &cells, |c| {
                c.ceiling.p99_us as f64
            }),
        ];
        let title =
            format!("Latency p50 and p99 (ms, log scale, lower is better): {server} vs {ceiling}");
        panel(&mut svg, top, &title, &groups, &latency, true);
        top += PANEL_STEP;
    }
    if let Some(asynchronous) = &results.asynchronous {
        async_panels(&mut svg, top, asynchronous);
    }
    svg.push_str("</svg>\n");
    svg
}

/// The asynchronous-write group: rates, then latencies, of its sides.
fn async_panels(svg: &mut String, top: f64, results: &AsyncResults) {
    let c = results.connections;
    let groups = [
        format!("sync POST c{c}"),
        format!("async POST c{c}"),
        format!("ceiling C c{c}"),
        "worker drain / accepted to applied".to_owned(),
    ];
    let sides = [&results.sync_post, &results.async_post, &results.ceiling_c];
    let mut rates: Vec<f64> = sides.iter().map(|side| side.per_second()).collect();
    rates.push(results.drain.steady_per_second());
    let rates = [Series {
        name: "requests (or commands applied) per second".into(),
        colour: SERVER,
        values: rates,
    }];
    let title =
        "Asynchronous writes on MongoDB and Kafka: throughput (per second, higher is better)";
    panel(svg, top, title, &groups, &rates, false);
    let mut p50: Vec<f64> = sides.iter().map(|side| side.p50_us as f64).collect();
    let mut p99: Vec<f64> = sides.iter().map(|side| side.p99_us as f64).collect();
    p50.push(results.latency.p50_us as f64);
    p99.push(results.latency.p99_us as f64);
    let latency = [
        Series {
            name: "p50".into(),
            colour: SERVER_LIGHT,
            values: p50,
        },
        Series {
            name: "p99".into(),
            colour: SERVER,
            values: p99,
        },
    ];
    let title = "Asynchronous writes: latency p50 and p99 (ms, log scale, lower is better)";
    panel(svg, top + PANEL_STEP, title, &groups, &latency, true);
}

fn series(
    name: &str,
    colour: &'static str,
    cells: &[&Cell],
    value: impl Fn(&Cell) -> f64,
) -> Series {
    Series {
        name: name.to_owned(),
        colour,
        values: cells.iter().map(|c| value(c)).collect(),
    }
}

/// One bar panel whose top edge is at `top`; `log` plots microseconds on a log scale as ms.
fn panel(svg: &mut String, top: f64, title: &str, groups: &[String], series: &[Series], log: bool) {
    let plot_top = top + 40.0;
    let bottom = plot_top + PANEL_HEIGHT;
    let plot_width = WIDTH - LEFT - RIGHT;
    let _ = writeln!(
        svg,
        r#"<text x="{LEFT}" y="{}" font-size="14" font-weight="bold">{}</text>"#,
        top + 5.0,
        escape(title)
    );
    let mut legend_x = LEFT;
    for s in series {
        let _ = writeln!(
            svg,
            r#"<rect x="{legend_x}" y="{}" width="12" height="12" fill="{}"/><text x="{}" y="{}">{}</text>"#,
            top + 16.0,
            s.colour,
            legend_x + 16.0,
            top + 26.0,
            escape(&s.name)
        );
        legend_x += 24.0 + 6.5 * s.name.len() as f64;
    }
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .fold(0.0, f64::max);
    let scale = Scale::new(max, log, series);
    for (value, label) in scale.ticks() {
        let y = bottom - scale.fraction(value) * PANEL_HEIGHT;
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{label}</text>"##,
            WIDTH - RIGHT,
            LEFT - 6.0,
            y + 4.0
        );
    }
    let group_width = plot_width / groups.len().max(1) as f64;
    let bar_width = group_width * 0.8 / series.len().max(1) as f64;
    for (g, group) in groups.iter().enumerate() {
        let group_left = LEFT + g as f64 * group_width + group_width * 0.1;
        for (i, s) in series.iter().enumerate() {
            let value = s.values.get(g).copied().unwrap_or(0.0);
            let bar_height = scale.fraction(value) * PANEL_HEIGHT;
            let x = group_left + i as f64 * bar_width;
            let shown = if log {
                format!("{:.2} ms", value / 1000.0)
            } else {
                format!("{value:.0} req/s")
            };
            let _ = writeln!(
                svg,
                r#"<rect x="{x:.1}" y="{:.1}" width="{:.1}" height="{bar_height:.1}" fill="{}"><title>{}: {}</title></rect>"#,
                bottom - bar_height,
                bar_width * 0.95,
                s.colour,
                escape(&s.name),
                shown
            );
        }
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            group_left + group_width * 0.4,
            bottom + 16.0,
            escape(group)
        );
    }
    let _ = writeln!(
        svg,
        r##"<line x1="{LEFT}" x2="{}" y1="{bottom}" y2="{bottom}" stroke="#333"/>"##,
        WIDTH - RIGHT
    );
}

/// A vertical axis: linear from zero, or log over whole decades.
struct Scale {
    log: bool,
    low: f64,
    high: f64,
}

impl Scale {
    fn new(max: f64, log: bool, series: &[Series]) -> Scale {
        if log {
            let min = series
                .iter()
                .flat_map(|s| s.values.iter().copied())
                .filter(|v| *v > 0.0)
                .fold(f64::INFINITY, f64::min);
            let low = if min.is_finite() {
                min.log10().floor()
            } else {
                1.0
            };
            let high = max.max(10.0).log10().ceil().max(low + 1.0);
            Scale { log, low, high }
        } else {
            Scale {
                log,
                low: 0.0,
                high: nice_ceiling(max),
            }
        }
    }

    /// Where `value` sits between the bottom (0) and the top (1).
    fn fraction(&self, value: f64) -> f64 {
        let position = if self.log {
            if value <= 0.0 {
                return 0.0;
            }
            (value.log10() - self.low) / (self.high - self.low)
        } else {
            (value - self.low) / (self.high - self.low)
        };
        position.clamp(0.0, 1.0)
    }

    fn ticks(&self) -> Vec<(f64, String)> {
        if self.log {
            // Whole decades; `low..=high` spans a handful of them at most.
            (self.low as i32..=self.high as i32)
                .map(|exponent| {
                    let us = 10f64.powi(exponent);
                    (us, format!("{} ms", trim(us / 1000.0)))
                })
                .collect()
        } else {
            (0..=5)
                .map(|step| {
                    let value = self.high * f64::from(step) / 5.0;
                    (value, format!("{value:.0}"))
                })
                .collect()
        }
    }
}

/// The smallest 1, 2 or 5 times a power of ten at or above `value`.
fn nice_ceiling(value: f64) -> f64 {
    if value <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(value.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|step| step * magnitude)
        .find(|candidate| *candidate >= value)
        .unwrap_or(10.0 * magnitude)
}

fn trim(value: f64) -> String {
    let text = format!("{value:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
