//! Storage metrics kept out of the adapters: a decorator that times every storage operation,
//! and gauges read from counts an adapter keeps.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use domain::{
    InsertOutcome, ListQuery, Page, Payment, PaymentId, PaymentRepository, RepositoryError,
    Version, WriteOutcome,
};

use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::IntGauge;

use crate::metrics::Metrics;

/// Wraps a repository and records `storage_operation_duration_seconds{operation, outcome}` for
/// every call, delegating the call itself unchanged.
pub struct MeteredRepository {
    inner: Arc<dyn PaymentRepository>,
    metrics: Metrics,
}

impl MeteredRepository {
    /// `inner`, timed into `metrics`.
    pub fn wrap(inner: Arc<dyn PaymentRepository>, metrics: Metrics) -> Arc<dyn PaymentRepository> {
        Arc::new(Self { inner, metrics })
    }

    async fn timed<T>(
        &self,
        operation: &str,
        call: impl Future<Output = Result<T, RepositoryError>>,
        outcome: impl FnOnce(&T) -> &'static str,
    ) -> Result<T, RepositoryError> {
        let started = Instant::now();
        let result = call.await;
        let label = match &result {
            Ok(value) => outcome(value),
            Err(RepositoryError::Unavailable(_)) => "unavailable",
            Err(RepositoryError::Internal(_)) => "internal",
            Err(RepositoryError::TooLarge(_)) => "too_large",
        };
        self.metrics
            .record_storage(operation, label, started.elapsed());
        result
    }
}

/// A gauge whose value is read from `sample` whenever metrics are rendered: for counts an
/// adapter keeps, which must not depend on prometheus (the MongoDB adapter's detached
/// operations).
pub struct SampledGauge {
    gauge: IntGauge,
    sample: Box<dyn Fn() -> i64 + Send + Sync>,
}

impl SampledGauge {
    /// Registers gauge `name` in `metrics`, read from `sample`.
    pub fn register(
        metrics: &Metrics,
        name: &str,
        help: &str,
        sample: impl Fn() -> i64 + Send + Sync + 'static,
    ) -> Result<(), prometheus::Error> {
        let gauge = IntGauge::new(name, help)?;
        let sample = Box::new(sample);
        metrics.register(Box::new(Self { gauge, sample }))
    }
}

impl Collector for SampledGauge {
    fn desc(&self) -> Vec<&Desc> {
        self.gauge.desc()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        self.gauge.set((self.sample)());
        self.gauge.collect()
    }
}

/// The `outcome` label of a version-checked write.
fn write_outcome(outcome: &WriteOutcome) -> &'static str {
    match outcome {
        WriteOutcome::Written => "ok",
        WriteOutcome::NotFound => "not_found",
        WriteOutcome::VersionConflict { .. } => "conflict",
    }
}

#[async_trait]
impl PaymentRepository for MeteredRepository {
    async fn insert(&self, payment: &Payment) -> Result<InsertOutcome, RepositoryError> {
        self.timed(
            "insert",
            self.inner.insert(payment),
            |outcome| match outcome {
                InsertOutcome::Inserted => "ok",
                InsertOutcome::AlreadyExists(_) => "conflict",
            },
        )
        .await
    }

    async fn find(&self, id: PaymentId) -> Result<Option<Payment>, RepositoryError> {
        self.timed("find", self.inner.find(id), |found| {
            if found.is_some() {
                "ok"
            } else {
                "not_found"
            }
        })
        .await
    }

    async fn update(
        &self,
        replacement: &Payment,
        expected: Version,
    ) -> Result<WriteOutcome, RepositoryError> {
        self.timed(
            "update",
            self.inner.update(replacement, expected),
            write_outcome,
        )
        .await
    }

    async fn delete(
        &self,
        id: PaymentId,
        expected: Option<Version>,
    ) -> Result<WriteOutcome, RepositoryError> {
        self.timed("delete", self.inner.delete(id, expected), write_outcome)
            .await
    }

    async fn list(&self, query: &ListQuery) -> Result<Page, RepositoryError> {
        self.timed("list", self.inner.list(query), |_| "ok").await
    }

    async fn check_health(&self) -> Result<(), RepositoryError> {
        self.timed("check_health", self.inner.check_health(), |_| "ok")
            .await
    }
}

#[cfg(test)]
mod tests {
    use adapters::InMemoryPaymentRepository;
    use domain::{MockPaymentRepository, OrganisationId, PaymentAttributes};

    use super::*;

    fn payment() -> Payment {
        let attributes = PaymentAttributes::from_value(serde_json::json!({
            "amount": "1.00", "currency": "GBP"
        }))
        .unwrap();
        Payment::new(
            PaymentId::generate(),
            Version::INITIAL,
            OrganisationId::from_uuid(*PaymentId::generate().as_uuid()),
            attributes,
        )
    }

    #[tokio::test]
    async fn operations_are_delegated_and_timed_by_outcome() {
        let metrics = Metrics::new().unwrap();
        let repository =
            MeteredRepository::wrap(Arc::new(InMemoryPaymentRepository::new()), metrics.clone());
        let payment = payment();

        assert_eq!(
            repository.insert(&payment).await.unwrap(),
            InsertOutcome::Inserted
        );
        assert!(matches!(
            repository.insert(&payment).await.unwrap(),
            InsertOutcome::AlreadyExists(_)
        ));
        assert_eq!(repository.find(payment.id()).await.unwrap(), Some(payment));
        assert_eq!(repository.find(PaymentId::generate()).await.unwrap(), None);

        let text = metrics.render().unwrap();
        for (operation, outcome) in [
            ("insert", "ok"),
            ("insert", "conflict"),
            ("find", "ok"),
            ("find", "not_found"),
        ] {
            let series = format!(
                "storage_operation_duration_seconds_count{{operation=\"{operation}\",outcome=\"{outcome}\"}} 1"
            );
            assert!(text.contains(&series), "missing {series} in\n{text}");
        }
    }

    #[test]
    fn a_sampled_gauge_shows_its_source_at_each_rendering() {
        let metrics = Metrics::new().unwrap();
        let source = Arc::new(std::sync::atomic::AtomicI64::new(3));
        let read = source.clone();
        SampledGauge::register(&metrics, "things_left", "Things.", move || {
            read.load(std::sync::atomic::Ordering::Relaxed)
        })
        .unwrap();
        assert!(metrics.render().unwrap().contains("\nthings_left 3\n"));
        source.store(0, std::sync::atomic::Ordering::Relaxed);
        assert!(metrics.render().unwrap().contains("\nthings_left 0\n"));
    }

    #[tokio::test]
    async fn unavailable_storage_is_recorded_and_still_reported() {
        let mut inner = MockPaymentRepository::new();
        inner
            .expect_check_health()
            .returning(|| Err(RepositoryError::Unavailable("down".into())));
        let metrics = Metrics::new().unwrap();
        let repository = MeteredRepository::wrap(Arc::new(inner), metrics.clone());

        let result = repository.check_health().await;

        assert_eq!(result, Err(RepositoryError::Unavailable("down".into())));
        assert!(metrics.render().unwrap().contains(
            r#"storage_operation_duration_seconds_count{operation="check_health",outcome="unavailable"} 1"#
        ));
    }
}
