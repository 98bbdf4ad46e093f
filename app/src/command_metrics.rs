//! Metrics of asynchronous writes: commands published by the API, finished by the worker, the
//! time from acceptance to outcome, and the consumer lag per partition.

use std::sync::Arc;

use domain::{CommandAction, CommandRecord, Timestamp};
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts};

use crate::metrics::Metrics;

/// Seconds from a command's acceptance to its outcome: milliseconds when the worker keeps up,
/// minutes while it drains a peak.
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 60.0, 600.0,
];

/// The command metrics, registered in the application's registry. Cloning shares them.
#[derive(Clone)]
pub struct CommandMetrics(Arc<Families>);

struct Families {
    published: IntCounterVec,
    finished: IntCounterVec,
    latency: HistogramVec,
    lag: IntGaugeVec,
}

impl CommandMetrics {
    /// Registers the command metrics in `metrics`.
    pub fn register(metrics: &Metrics) -> Result<Self, prometheus::Error> {
        let published = IntCounterVec::new(
            Opts::new(
                "payment_commands_published_total",
                "Commands the broker acknowledged (answered 202 or waited for).",
            ),
            &["action"],
        )?;
        let finished = IntCounterVec::new(
            Opts::new(
                "payment_commands_finished_total",
                "Commands this worker finished, by outcome (a command delivered again counts again).",
            ),
            &["action", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "payment_command_latency_seconds",
                "Time from a command's acceptance by the API to its outcome.",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["action"],
        )?;
        let lag = IntGaugeVec::new(
            Opts::new(
                "payment_commands_lag",
                "Commands in the log not committed yet, per partition this worker holds.",
            ),
            &["partition"],
        )?;
        metrics.register(Box::new(published.clone()))?;
        metrics.register(Box::new(finished.clone()))?;
        metrics.register(Box::new(latency.clone()))?;
        metrics.register(Box::new(lag.clone()))?;
        Ok(Self(Arc::new(Families {
            published,
            finished,
            latency,
            lag,
        })))
    }

    /// A command the broker acknowledged.
    pub fn published(&self, action: CommandAction) {
        self.0.published.with_label_values(&[action.as_str()]).inc();
    }

    /// A command the worker finished, with its outcome.
    pub fn finished(&self, record: &CommandRecord) {
        let Some(outcome) = record.outcome() else {
            return;
        };
        let status = if outcome.is_applied() {
            "applied"
        } else {
            "rejected"
        };
        let action = record.action.as_str();
        self.0.finished.with_label_values(&[action, status]).inc();
        let finished = record.finished_at().unwrap_or_else(Timestamp::now);
        let millis = finished
            .as_millis()
            .saturating_sub(record.accepted_at.as_millis());
        self.0
            .latency
            .with_label_values(&[action])
            .observe(millis as f64 / 1000.0);
    }

    /// The lag of each partition held, as the log reports it.
    pub fn set_lag(&self, lag: &[(u32, u64)]) {
        self.0.lag.reset();
        for (partition, behind) in lag {
            self.0
                .lag
                .with_label_values(&[&partition.to_string()])
                .set(i64::try_from(*behind).unwrap_or(i64::MAX));
        }
    }
}
