//! [`MongoPaymentRepository`]: payments as documents in one MongoDB collection.

mod commands;
mod config;
mod detached;
mod document;
mod errors;
mod finished;
mod indexes;
mod inserts;
mod pages;

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use domain::{
    InsertOutcome, ListQuery, Page, Payment, PaymentId, PaymentRepository, RepositoryError,
    Version, WriteOutcome,
};
use futures_util::TryStreamExt;
use mongodb::bson::{doc, DateTime, Document};
use mongodb::{Collection, Database};

pub use commands::MongoCommandStore;
pub use config::{MongoConfig, MongoSetupError};
pub use detached::DetachedOperations;
use document::{id_value, PaymentDocument, ID, ORGANISATION_ID, VERSION};
use errors::{is_duplicate_key, repository_error, timed_out, Written};
use indexes::Indexes;
use inserts::Inserts;

/// How often one insert, update or delete re-runs when the payment changes under it each time
/// (a delete and re-create between our write and our read). Reached only under pathological
/// contention; the answer is then a retryable 503.
const MAX_ATTEMPTS: usize = 5;

/// Payments stored in a MongoDB collection, one document per payment (see `ARCHITECTURE.md`
/// for the layout, the indexes and why the version checks are race-free).
///
/// Every method is bounded by [`MongoConfig::operation_timeout`] and answers
/// [`RepositoryError::Unavailable`] when MongoDB cannot be reached, so callers never hang.
/// [`MongoPaymentRepository::open`] does not contact the server: the repository can be built
/// while the database is down and starts working when it comes up. The collection's indexes are
/// created in the background once the server answers, and again after every outage.
///
/// With [`MongoConfig::batch_inserts`], the inserts under way at once are written together
/// (see `inserts.rs`): the asynchronous worker's creates, which otherwise cost the database
/// about three times as much each.
///
/// Clones share the connection pool (and the insert writer).
#[derive(Debug, Clone)]
pub struct MongoPaymentRepository {
    database: Database,
    collection: Collection<Document>,
    operation_timeout: std::time::Duration,
    indexes: Indexes,
    detached: DetachedOperations,
    max_detached: usize,
    inserts: Option<Inserts>,
    /// How many calls found the server gone (see [`Self::bounded`]): the indexes of every
    /// collection on it are checked again after each.
    outages: Arc<AtomicU64>,
}

impl MongoPaymentRepository {
    /// A repository on `config.database`/`config.collection`, without waiting for the server.
    ///
    /// Fails only on a configuration MongoDB can never accept (a malformed URI, an invalid name,
    /// an unacknowledged write concern); an unreachable server is not an error here.
    pub async fn open(config: &MongoConfig) -> Result<Self, MongoSetupError> {
        let client = config.client().await?;
        let database = client.database(&config.database);
        let collection = database.collection::<Document>(&config.collection);
        let repository = Self {
            database,
            collection: collection.clone(),
            operation_timeout: config.operation_timeout,
            indexes: Indexes::payments(),
            detached: DetachedOperations::default(),
            max_detached: config.max_detached_operations,
            outages: Arc::default(),
            inserts: config.batch_inserts.then(|| {
                Inserts::start(
                    collection.clone(),
                    config
                        .operation_timeout
                        .saturating_mul(BACKGROUND_LIMIT_FACTOR),
                )
            }),
        };
        repository
            .indexes
            .request(&repository.collection, config.operation_timeout);
        Ok(repository)
    }

    /// The operations of this repository (and its clones) still running that no caller waits for
    /// any more; a new call is refused as unavailable while there are
    /// [`MongoConfig::max_detached_operations`] of them.
    pub fn detached_operations(&self) -> DetachedOperations {
        self.detached.clone()
    }

    /// Creates the indexes the queries rely on, if they are missing, and waits for it.
    ///
    /// Idempotent. The repository already does this in the background; call it to know the
    /// indexes exist (in a deployment check or a test).
    pub async fn ensure_indexes(&self) -> Result<(), RepositoryError> {
        self.bounded(|this| async move { indexes::create(&this.collection, &this.indexes).await })
            .await
    }

    /// Runs `operation` (given a clone of this repository) within the operation timeout, as a
    /// task of its own. After a failure that means the server went away (the driver could not
    /// reach it), the indexes are checked again on the next call: a server restored from
    /// scratch (or SecantusDB, which keeps no secondary index across restarts) lacks them. A
    /// server that is only slow keeps them: asking again would add an index build to its load,
    /// which on SecantusDB stalled every write behind it for seconds.
    ///
    /// The operation runs to its end even when the caller stops waiting (the timeout here, or a
    /// client that hung up and so dropped its request): a driver operation dropped halfway
    /// leaves its pooled connection mid-command, and after 64 clients hung up at once the pool
    /// answered nothing for about 20 seconds (docs/benchmarks/README.md). The driver's own
    /// server-selection and connection timeouts still end an operation on a server that is gone,
    /// and at the latest it is dropped at [`BACKGROUND_LIMIT_FACTOR`] times the operation timeout.
    /// Operations left running so are counted ([`Self::detached_operations`]); while there are
    /// [`MongoConfig::max_detached_operations`] of them, calls are refused at once as
    /// unavailable instead of adding to them.
    async fn bounded<T, F>(
        &self,
        operation: impl FnOnce(MongoPaymentRepository) -> F,
    ) -> Result<T, RepositoryError>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, RepositoryError>> + Send + 'static,
    {
        let detached = self.detached.count();
        if detached >= self.max_detached {
            return Err(RepositoryError::Unavailable(format!(
                "{detached} MongoDB operations that callers gave up on are still running \
                 (limit {})",
                self.max_detached
            )));
        }
        self.indexes
            .request(&self.collection, self.operation_timeout);
        // Left to run, an operation is still bounded, by a longer deadline: a database that hangs
        // must not gather operations without end (its connections are lost by then anyway).
        let limit = self
            .operation_timeout
            .saturating_mul(BACKGROUND_LIMIT_FACTOR);
        let work = operation(self.clone());
        let (running, awaited) = self.detached.start();
        let task = tokio::spawn(async move {
            let _running = running;
            tokio::time::timeout(limit, work)
                .await
                .unwrap_or_else(|_| Err(timed_out(limit)))
        });
        // Dropped unreceived (the timeout below, or the caller's future dropped while waiting),
        // `awaited` counts the task as detached until it ends.
        let joined = tokio::time::timeout(self.operation_timeout, task).await;
        if joined.is_ok() {
            awaited.received();
        }
        match joined {
            Ok(Ok(result)) => {
                if matches!(result, Err(RepositoryError::Unavailable(_))) {
                    self.indexes.forget();
                    self.outages.fetch_add(1, Ordering::AcqRel);
                }
                result
            }
            Ok(Err(failed)) => Err(RepositoryError::Internal(format!(
                "a MongoDB operation failed to complete: {failed}"
            ))),
            Err(_) => Err(timed_out(self.operation_timeout)),
        }
    }

    /// How many calls so far found the server gone: a server that went away may come back
    /// without the indexes it had (restored from a backup, or rebuilt).
    pub(super) fn outages(&self) -> u64 {
        self.outages.load(Ordering::Acquire)
    }

    /// Inserts one document: with the others under way when inserts are batched, else alone.
    async fn insert_document(&self, document: Document) -> Result<Written, RepositoryError> {
        if let Some(inserts) = &self.inserts {
            return inserts.insert(document).await;
        }
        match self.collection.insert_one(document).await {
            Ok(_) => Ok(Written::Inserted),
            Err(error) if is_duplicate_key(&error) => Ok(Written::Taken),
            Err(error) => Err(repository_error(&error)),
        }
    }

    async fn find_payment(&self, id: PaymentId) -> Result<Option<Payment>, RepositoryError> {
        let found = self
            .collection
            .find_one(doc! {ID: id_value(id)})
            .await
            .map_err(|e| repository_error(&e))?;
        found.map(to_payment).transpose()
    }

    /// The stored version of `id`, `None` when it does not exist.
    async fn read_version(&self, id: PaymentId) -> Result<Option<Version>, RepositoryError> {
        let found = self
            .collection
            .find_one(doc! {ID: id_value(id)})
            .projection(doc! {VERSION: 1})
            .await
            .map_err(|e| repository_error(&e))?;
        found
            .map(|stored| document::version_of(&stored).map_err(|e| unreadable(id, &e)))
            .transpose()
    }

    /// Why a filtered write `{_id, version: expected}` matched nothing, read afterwards.
    ///
    /// `None` means the read found the payment at `expected`: it was deleted and re-created
    /// between the write and the read, so the write must be tried again.
    async fn explain_miss(
        &self,
        id: PaymentId,
        expected: Version,
    ) -> Result<Option<WriteOutcome>, RepositoryError> {
        Ok(match self.read_version(id).await? {
            None => Some(WriteOutcome::NotFound),
            Some(actual) if actual != expected => Some(WriteOutcome::VersionConflict { actual }),
            Some(_) => None,
        })
    }
}

fn to_payment(stored: Document) -> Result<Payment, RepositoryError> {
    let id = stored.get_str(ID).unwrap_or("?").to_owned();
    PaymentDocument::from_document(stored)
        .and_then(PaymentDocument::into_payment)
        .map_err(|e| RepositoryError::Internal(format!("stored payment {id} is unreadable: {e}")))
}

fn unreadable(id: PaymentId, error: &document::ConversionError) -> RepositoryError {
    RepositoryError::Internal(format!("stored payment {id} is unreadable: {error}"))
}

fn unconvertible(payment: &Payment, error: &document::ConversionError) -> RepositoryError {
    RepositoryError::Internal(format!(
        "payment {} cannot be stored as BSON: {error}",
        payment.id()
    ))
}

/// Refuses a document MongoDB would not store, before sending it: the driver's own check comes
/// as an "invalid argument" indistinguishable from a bug.
fn check_size(document: &Document, payment: &Payment) -> Result<(), RepositoryError> {
    match document::encoded_size(document) {
        Some(size) if size <= document::MAX_DOCUMENT_BYTES => Ok(()),
        size => Err(RepositoryError::TooLarge(format!(
            "payment {} is {} bytes as BSON; MongoDB stores at most {}",
            payment.id(),
            size.map_or_else(|| "unencodable".to_owned(), |size| size.to_string()),
            document::MAX_DOCUMENT_BYTES
        ))),
    }
}

/// How many operation timeouts an operation nobody waits for any more may still run.
const BACKGROUND_LIMIT_FACTOR: u32 = 10;

fn contended(id: PaymentId) -> RepositoryError {
    RepositoryError::Unavailable(format!(
        "payment {id} was deleted and re-created on each of {MAX_ATTEMPTS} attempts"
    ))
}

#[async_trait]
impl PaymentRepository for MongoPaymentRepository {
    async fn insert(&self, payment: &Payment) -> Result<InsertOutcome, RepositoryError> {
        let stored =
            PaymentDocument::from_payment(payment).map_err(|e| unconvertible(payment, &e))?;
        check_size(&stored.clone().into_new_document(DateTime::now()), payment)?;
        let id = payment.id();
        self.bounded(move |this| async move {
            for _ in 0..MAX_ATTEMPTS {
                let document = stored.clone().into_new_document(DateTime::now());
                match this.insert_document(document).await? {
                    Written::Inserted => return Ok(InsertOutcome::Inserted),
                    Written::Taken => {
                        if let Some(existing) = this.find_payment(id).await? {
                            return Ok(InsertOutcome::AlreadyExists(existing));
                        }
                        // Deleted between our insert and our read: the id is free again.
                    }
                }
            }
            Err(contended(id))
        })
        .await
    }

    async fn find(&self, id: PaymentId) -> Result<Option<Payment>, RepositoryError> {
        self.bounded(move |this| async move { this.find_payment(id).await })
            .await
    }

    async fn update(
        &self,
        replacement: &Payment,
        expected: Version,
    ) -> Result<WriteOutcome, RepositoryError> {
        let content = PaymentDocument::from_payment(replacement)
            .map_err(|e| unconvertible(replacement, &e))?;
        // The stored document is the content plus `_id` and `created_at`: a few bytes more.
        check_size(
            &content.clone().into_new_document(DateTime::now()),
            replacement,
        )?;
        let id = replacement.id();
        self.bounded(move |this| async move {
            for _ in 0..MAX_ATTEMPTS {
                let set = content.clone().into_content(DateTime::now());
                let written = this
                    .collection
                    .update_one(
                        doc! {ID: id_value(id), VERSION: expected.as_i64()},
                        doc! {"$set": set},
                    )
                    .await
                    .map_err(|e| repository_error(&e))?;
                if written.matched_count == 1 {
                    return Ok(WriteOutcome::Written);
                }
                if let Some(outcome) = this.explain_miss(id, expected).await? {
                    return Ok(outcome);
                }
            }
            Err(contended(id))
        })
        .await
    }

    async fn delete(
        &self,
        id: PaymentId,
        expected: Option<Version>,
    ) -> Result<WriteOutcome, RepositoryError> {
        let mut filter = doc! {ID: id_value(id)};
        if let Some(expected) = expected {
            filter.insert(VERSION, expected.as_i64());
        }
        self.bounded(move |this| async move {
            for _ in 0..MAX_ATTEMPTS {
                let deleted = this
                    .collection
                    .delete_one(filter.clone())
                    .await
                    .map_err(|e| repository_error(&e))?;
                if deleted.deleted_count == 1 {
                    return Ok(WriteOutcome::Written);
                }
                let Some(expected) = expected else {
                    return Ok(WriteOutcome::NotFound);
                };
                if let Some(outcome) = this.explain_miss(id, expected).await? {
                    return Ok(outcome);
                }
            }
            Err(contended(id))
        })
        .await
    }

    async fn list(&self, query: &ListQuery) -> Result<Page, RepositoryError> {
        let mut filter = Document::new();
        if let Some(organisation) = query.organisation_id {
            filter.insert(ORGANISATION_ID, organisation.to_string());
        }
        if let Some(after) = query.after {
            filter.insert(ID, doc! {"$gt": id_value(after)});
        }
        let limit = query.page_size.get();
        // One more than a page, to know whether another page follows.
        let fetch = u32::try_from(limit + 1).unwrap_or(u32::MAX);
        self.bounded(move |this| async move {
            let cursor = this
                .collection
                .find(filter)
                .sort(doc! {ID: 1})
                .limit(i64::from(fetch))
                .batch_size(fetch)
                .await
                .map_err(|e| repository_error(&e))?;
            let documents: Vec<Document> = cursor
                .try_collect()
                .await
                .map_err(|e| repository_error(&e))?;
            let mut items = documents
                .into_iter()
                .map(to_payment)
                .collect::<Result<Vec<_>, _>>()?;
            let has_more = items.len() > limit;
            items.truncate(limit);
            Ok(Page { items, has_more })
        })
        .await
    }

    async fn check_health(&self) -> Result<(), RepositoryError> {
        self.bounded(|this| async move {
            this.database
                .run_command(doc! {"ping": 1})
                .await
                .map(drop)
                .map_err(|e| repository_error(&e))
        })
        .await
    }
}
