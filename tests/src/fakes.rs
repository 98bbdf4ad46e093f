//! Repositories that misbehave on purpose, for the failures a real backend cannot produce on
//! demand: slowness, storage outages, panics. Serve one with [`serve_over`].

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use adapters::InMemoryPaymentRepository;
use app::Config;
use async_trait::async_trait;
use domain::{
    InsertOutcome, ListQuery, Page, Payment, PaymentId, PaymentRepository, RepositoryError,
    Version, WriteOutcome,
};

use crate::TestApp;

/// Boots the real router, configured by `adjust`, over `repository`.
pub async fn serve_over(
    repository: Arc<dyn PaymentRepository>,
    adjust: impl FnOnce(&mut Config),
) -> TestApp {
    let mut config = Config::defaults();
    adjust(&mut config);
    let router = app::build_app_with_repository(&config, repository).expect("the app builds");
    TestApp::spawn_router(router).await
}

/// An in-memory repository whose every call first waits `delay`, and which records how many
/// calls ran at once.
pub struct SlowRepository {
    inner: InMemoryPaymentRepository,
    delay: Duration,
    active: AtomicUsize,
    peak: AtomicUsize,
}

impl SlowRepository {
    /// Calls take at least `delay`.
    pub fn new(delay: Duration) -> Arc<Self> {
        Arc::new(Self {
            inner: InMemoryPaymentRepository::new(),
            delay,
            active: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        })
    }

    /// Calls running now.
    pub fn active(&self) -> usize {
        self.active.load(Ordering::SeqCst)
    }

    /// The most calls that ever ran at once.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    async fn stall(&self) -> ActiveCall<'_> {
        let now = self.active.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        let call = ActiveCall(&self.active);
        tokio::time::sleep(self.delay).await;
        call
    }
}

/// Counts a call as active until dropped (also when the request is cancelled mid-call).
struct ActiveCall<'a>(&'a AtomicUsize);

impl Drop for ActiveCall<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[async_trait]
impl PaymentRepository for SlowRepository {
    async fn insert(&self, payment: &Payment) -> Result<InsertOutcome, RepositoryError> {
        let _call = self.stall().await;
        self.inner.insert(payment).await
    }

    async fn find(&self, id: PaymentId) -> Result<Option<Payment>, RepositoryError> {
        let _call = self.stall().await;
        self.inner.find(id).await
    }

    async fn update(
        &self,
        replacement: &Payment,
        expected: Version,
    ) -> Result<WriteOutcome, RepositoryError> {
        let _call = self.stall().await;
        self.inner.update(replacement, expected).await
    }

    async fn delete(
        &self,
        id: PaymentId,
        expected: Option<Version>,
    ) -> Result<WriteOutcome, RepositoryError> {
        let _call = self.stall().await;
        self.inner.delete(id, expected).await
    }

    async fn list(&self, query: &ListQuery) -> Result<Page, RepositoryError> {
        let _call = self.stall().await;
        self.inner.list(query).await
    }

    async fn check_health(&self) -> Result<(), RepositoryError> {
        let _call = self.stall().await;
        self.inner.check_health().await
    }
}
