//! The collection's indexes: created in the background, never on a request's path.
//!
//! `_id` (MongoDB's own unique index) serves lookups by id and the unfiltered list in id order;
//! `{organisation_id: 1, _id: 1}` serves the filtered list: equality on the organisation, then
//! the `_id > cursor` range already in sort order, so a page reads only the documents it returns.
//!
//! The background creation touches only a collection that exists: on a new database the first
//! insert creates the collection and the next call creates the index. Creating a collection from
//! two sides at once (an insert, and `createIndexes` or `create`) deadlocks SecantusDB, the
//! test server; MongoDB does not mind, and an empty collection needs no index.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use domain::RepositoryError;
use mongodb::bson::{doc, Document};
use mongodb::{Collection, IndexModel};

use super::document::{ID, ORGANISATION_ID};
use super::errors::{is_namespace_exists, repository_error, timed_out};

const MISSING: u8 = 0;
const CREATING: u8 = 1;
/// Created, or given up on after a permanent error (logged); checked again after an outage.
const SETTLED: u8 = 2;

/// Whether a collection's indexes still need creating; shared by a repository's clones.
#[derive(Debug, Clone)]
pub(super) struct Indexes {
    state: Arc<AtomicU8>,
    models: Arc<[IndexModel]>,
}

impl Indexes {
    /// The payments collection's indexes (see the module docs).
    pub(super) fn payments() -> Self {
        Self::of(vec![IndexModel::builder()
            .keys(doc! {ORGANISATION_ID: 1, ID: 1})
            .build()])
    }

    /// `models`, not created yet.
    pub(super) fn of(models: Vec<IndexModel>) -> Self {
        Self {
            state: Arc::default(),
            models: models.into(),
        }
    }

    /// Starts creating the indexes in the background unless they are settled or being created.
    /// Never waits: a request must not pay for an index build, nor hang on a database that is
    /// down (the attempt then fails and the next call tries again).
    pub(super) fn request(&self, collection: &Collection<Document>, limit: Duration) {
        if self.state.load(Ordering::Acquire) != MISSING
            || self
                .state
                .compare_exchange(MISSING, CREATING, Ordering::AcqRel, Ordering::Acquire)
                .is_err()
        {
            return;
        }
        let (state, collection, models) =
            (self.state.clone(), collection.clone(), self.models.clone());
        tokio::spawn(async move {
            let outcome = tokio::time::timeout(limit, create_on_existing(&collection, &models))
                .await
                .unwrap_or_else(|_| Err(timed_out(limit)));
            let next = match outcome {
                Ok(true) => SETTLED,
                Ok(false) => MISSING,
                Err(RepositoryError::Unavailable(cause)) => {
                    tracing::debug!(%cause, "MongoDB indexes not created yet; will retry");
                    MISSING
                }
                Err(RepositoryError::Internal(cause) | RepositoryError::TooLarge(cause)) => {
                    // A conflicting index or missing privileges: retrying per request would not
                    // help. Queries still answer correctly, only slower, so keep serving.
                    tracing::error!(%cause, "MongoDB indexes could not be created");
                    SETTLED
                }
            };
            state.store(next, Ordering::Release);
        });
    }

    /// The server went away: check the indexes again once it is back.
    pub(super) fn forget(&self) {
        let _ = self
            .state
            .compare_exchange(SETTLED, MISSING, Ordering::AcqRel, Ordering::Acquire);
    }
}

/// Creates the indexes if the collection exists; `false` when it does not exist (yet).
async fn create_on_existing(
    collection: &Collection<Document>,
    models: &[IndexModel],
) -> Result<bool, RepositoryError> {
    if !exists(collection).await? {
        return Ok(false);
    }
    create_indexes(collection, models).await.map(|()| true)
}

/// Creates the collection and its indexes if missing. Not for use beside concurrent writes to
/// a collection that may not exist yet (see the module docs).
pub(super) async fn create(
    collection: &Collection<Document>,
    indexes: &Indexes,
) -> Result<(), RepositoryError> {
    if !exists(collection).await? {
        let created = collection
            .client()
            .database(collection.namespace().db.as_str())
            .create_collection(collection.name())
            .await;
        match created {
            Err(error) if !is_namespace_exists(&error) => return Err(repository_error(&error)),
            _ => {}
        }
    }
    create_indexes(collection, &indexes.models).await
}

async fn exists(collection: &Collection<Document>) -> Result<bool, RepositoryError> {
    let names = collection
        .client()
        .database(collection.namespace().db.as_str())
        .list_collection_names()
        .filter(doc! {"name": collection.name()})
        .await
        .map_err(|e| repository_error(&e))?;
    Ok(!names.is_empty())
}

/// MongoDB's `createIndexes` is idempotent for an identical index.
async fn create_indexes(
    collection: &Collection<Document>,
    models: &[IndexModel],
) -> Result<(), RepositoryError> {
    collection
        .create_indexes(models.to_vec())
        .await
        .map(drop)
        .map_err(|e| repository_error(&e))
}
