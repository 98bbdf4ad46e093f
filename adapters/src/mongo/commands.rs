//! [`MongoCommandStore`]: command records in MongoDB collections beside the payments.
//!
//! - **Finished records** are filed by page in `<collection>_finished` (see [`super::finished`]):
//!   one document for the outcomes a worker stores together, first outcome wins on a unique
//!   index of their ids.
//! - **Accepted records**, before their command finishes, are filed by page in
//!   `<collection>_accepted` (see [`super::pages`]).
//! - **`<collection>`** holds a document per command only where one is needed: a delete marked
//!   `deleting`, an accepted record whose page had no slot left, and records finished before
//!   outcomes were filed by page (read as they are, and first: they were first). Whether any of
//!   those is left is asked of MongoDB every ten minutes, so that a deployment without them
//!   pays no query for them; while some are (for the retention after an upgrade), a batch of
//!   outcomes first looks its ids up there.
//!
//! ```text
//! { _id: "<command uuid>", action: "update", payment_id: "<uuid>", organisation_id: "<uuid>",
//!   accepted_at: Date, state: "accepted" | "deleting" | "finished",
//!   finished_at: Date, outcome: { kind: "updated", detail: { version: 4 } } }
//! ```
//!
//! A lookup reads the command's document, then the finished pages, then the accepted page. TTL
//! indexes on `accepted_at` let MongoDB remove records after the retention period.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use domain::{
    CommandAction, CommandId, CommandOutcome, CommandRecord, CommandStatus, CommandStore,
    OrganisationId, PaymentId, RepositoryError, Timestamp,
};
use futures_util::TryStreamExt;
use mongodb::bson::{self, doc, DateTime, Document};
use mongodb::options::IndexOptions;
use mongodb::{Collection, IndexModel};

use super::errors::{is_duplicate_key, is_only_duplicate_keys, repository_error, Written};
use super::finished;
use super::indexes::{self, Indexes};
use super::pages::{self, Slots};
use super::MongoPaymentRepository;

const ID: &str = "_id";
const ACTION: &str = "action";
const PAYMENT_ID: &str = "payment_id";
const ORGANISATION_ID: &str = "organisation_id";
const ACCEPTED_AT: &str = "accepted_at";
const STATE: &str = "state";
const FINISHED_AT: &str = "finished_at";
const OUTCOME: &str = "outcome";

/// How long a check for finished documents of their own in the commands collection holds.
const LEGACY_CHECK: Duration = Duration::from_secs(600);

const ACCEPTED: &str = "accepted";
const DELETING: &str = "deleting";
const FINISHED: &str = "finished";

/// Command records in a MongoDB collection, sharing the payments repository's connection pool
/// and its bounds: every call ends within the operation timeout, `Unavailable` when MongoDB
/// cannot be reached.
#[derive(Debug, Clone)]
pub struct MongoCommandStore {
    payments: MongoPaymentRepository,
    collection: Collection<Document>,
    indexes: Indexes,
    /// Accepted records, filed by page.
    pages: Collection<Document>,
    page_indexes: Indexes,
    /// Finished records, filed by page.
    finished: Collection<Document>,
    finished_indexes: Indexes,
    /// The repository's outage count when the finished pages' unique index was last known to
    /// exist: no page is written unless it is the current count (created again after an
    /// outage, since a server that went away may come back without it).
    finished_ready: Arc<Mutex<Option<u64>>>,
    /// The repository's outage count when the background indexes were last requested: they
    /// are checked again after an outage.
    outages_seen: Arc<AtomicU64>,
    /// When the commands collection was last seen to hold finished documents of its own
    /// (written before outcomes were filed by page), and whether it did.
    legacy: Arc<Mutex<Option<(Instant, bool)>>>,
    slots: Slots,
    /// How long records are kept: a page outlives the first of its records by the time it was
    /// open, so older records in it are not read.
    retention: Duration,
}

impl MongoPaymentRepository {
    /// A command store in `collection` of this repository's database (and, for accepted and
    /// finished records, `<collection>_accepted` and `<collection>_finished`), whose records
    /// MongoDB removes `retention` after they were accepted (TTL indexes, created in the
    /// background; the finished pages' unique index before their first page).
    pub fn command_store(&self, collection: &str, retention: Duration) -> MongoCommandStore {
        let ttl = || {
            IndexModel::builder()
                .keys(doc! {ACCEPTED_AT: 1})
                .options(IndexOptions::builder().expire_after(retention).build())
                .build()
        };
        MongoCommandStore {
            payments: self.clone(),
            collection: self.database.collection(collection),
            indexes: Indexes::of(vec![ttl()]),
            pages: self.database.collection(&format!("{collection}_accepted")),
            page_indexes: Indexes::of(vec![ttl()]),
            finished: self.database.collection(&format!("{collection}_finished")),
            finished_indexes: Indexes::of(vec![finished::unique_ids(), ttl()]),
            finished_ready: Arc::default(),
            outages_seen: Arc::default(),
            legacy: Arc::default(),
            slots: Slots::default(),
            retention,
        }
    }
}

impl MongoCommandStore {
    /// Runs `operation` on the records' collection within the repository's bounds, asking for
    /// its TTL index on the way.
    async fn bounded<T, F>(
        &self,
        operation: impl FnOnce(Collection<Document>) -> F + Send + 'static,
    ) -> Result<T, RepositoryError>
    where
        T: Send + 'static,
        F: std::future::Future<Output = Result<T, RepositoryError>> + Send + 'static,
    {
        self.bounded_on(&self.collection, &self.indexes, operation)
            .await
    }

    /// Runs `operation` on `collection` within the repository's bounds, asking for its
    /// `indexes` on the way.
    async fn bounded_on<T, F>(
        &self,
        collection: &Collection<Document>,
        indexes: &Indexes,
        operation: impl FnOnce(Collection<Document>) -> F + Send + 'static,
    ) -> Result<T, RepositoryError>
    where
        T: Send + 'static,
        F: std::future::Future<Output = Result<T, RepositoryError>> + Send + 'static,
    {
        let outages = self.payments.outages();
        if self.outages_seen.swap(outages, Ordering::AcqRel) != outages {
            for indexes in [&self.indexes, &self.page_indexes, &self.finished_indexes] {
                indexes.forget();
            }
        }
        indexes.request(collection, self.payments.operation_timeout);
        let collection = collection.clone();
        self.payments.bounded(move |_| operation(collection)).await
    }

    /// Upserts `record`'s head with `set`, where the stored state is one of `from`; `false`
    /// when a record in another state (finished) kept the id.
    async fn advance(
        &self,
        record: &CommandRecord,
        from: &[&str],
        set: Document,
    ) -> Result<bool, RepositoryError> {
        let filter = doc! {ID: record.id.to_string(), STATE: {"$in": from.to_vec()}};
        let update = doc! {"$set": set, "$setOnInsert": head(record)};
        self.bounded(move |collection| async move {
            match collection.update_one(filter, update).upsert(true).await {
                Ok(_) => Ok(true),
                Err(error) if is_duplicate_key(&error) => Ok(false),
                Err(error) => Err(repository_error(&error)),
            }
        })
        .await
    }

    /// Creates the finished pages' collection and indexes unless this store did since the
    /// repository's last outage: "first outcome wins" needs the unique index before any page
    /// is written.
    async fn finished_ready(&self) -> Result<(), RepositoryError> {
        let outages = self.payments.outages();
        if *self
            .finished_ready
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            == Some(outages)
        {
            return Ok(());
        }
        let (collection, wanted) = (self.finished.clone(), self.finished_indexes.clone());
        self.bounded_on(
            &self.finished,
            &self.finished_indexes,
            move |_| async move { indexes::create(&collection, &wanted).await },
        )
        .await?;
        // An outage during the creation leaves the count behind: the next call creates again.
        *self
            .finished_ready
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(outages);
        Ok(())
    }

    /// Whether the commands collection may hold finished documents of its own, asked of
    /// MongoDB at most every [`LEGACY_CHECK`]: a deployment that never ran a version writing
    /// them, or whose last one expired, pays no query for them.
    async fn may_hold_legacy(&self) -> Result<bool, RepositoryError> {
        let known = *self.legacy.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, holds)) = known.filter(|(when, _)| when.elapsed() < LEGACY_CHECK) {
            return Ok(holds);
        }
        let holds = self
            .bounded(move |collection| async move {
                collection
                    .find_one(doc! {STATE: FINISHED})
                    .projection(doc! {ID: 1})
                    .await
                    .map(|found| found.is_some())
                    .map_err(|e| repository_error(&e))
            })
            .await?;
        *self.legacy.lock().unwrap_or_else(PoisonError::into_inner) = Some((Instant::now(), holds));
        Ok(holds)
    }

    /// The finished documents of their own among `ids` (see [`Self::may_hold_legacy`]).
    async fn find_legacy(&self, ids: &[CommandId]) -> Result<Vec<CommandRecord>, RepositoryError> {
        if ids.is_empty() || !self.may_hold_legacy().await? {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = ids.iter().map(ToString::to_string).collect();
        self.bounded(move |collection| async move {
            let found: Vec<Document> = collection
                .find(doc! {ID: {"$in": keys}, STATE: FINISHED})
                .await
                .map_err(|e| repository_error(&e))?
                .try_collect()
                .await
                .map_err(|e| repository_error(&e))?;
            found.into_iter().map(to_record).collect()
        })
        .await
    }

    /// The finished records of `ids` filed by page.
    async fn find_filed(&self, ids: Vec<CommandId>) -> Result<Vec<CommandRecord>, RepositoryError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let found = self
            .bounded_on(
                &self.finished,
                &self.finished_indexes,
                move |pages| async move { finished::find(&pages, &ids).await },
            )
            .await?;
        found.into_iter().map(to_record).collect()
    }

    async fn find_record(&self, id: CommandId) -> Result<Option<CommandRecord>, RepositoryError> {
        self.bounded(move |collection| async move {
            let found = collection
                .find_one(doc! {ID: id.to_string()})
                .await
                .map_err(|e| repository_error(&e))?;
            found.map(to_record).transpose()
        })
        .await
    }
}

/// The fields a record has from its acceptance on.
fn head(record: &CommandRecord) -> Document {
    doc! {
        ACTION: record.action.as_str(),
        PAYMENT_ID: record.payment_id.to_string(),
        ORGANISATION_ID: record.organisation_id.to_string(),
        ACCEPTED_AT: date(record.accepted_at),
    }
}

pub(super) fn date(timestamp: Timestamp) -> DateTime {
    DateTime::from_millis(i64::try_from(timestamp.as_millis()).unwrap_or(i64::MAX))
}

fn timestamp(date: DateTime) -> Timestamp {
    Timestamp::from_millis(u64::try_from(date.timestamp_millis()).unwrap_or_default())
}

/// The fields a finished record adds to its head.
fn finished_fields(record: &CommandRecord) -> Result<Document, RepositoryError> {
    let (Some(outcome), Some(finished_at)) = (record.outcome(), record.finished_at()) else {
        return Err(RepositoryError::Internal(format!(
            "command {} recorded as finished without an outcome",
            record.id
        )));
    };
    let outcome = bson::to_bson(outcome)
        .map_err(|e| RepositoryError::Internal(format!("outcome of command {}: {e}", record.id)))?;
    Ok(doc! {STATE: FINISHED, FINISHED_AT: date(finished_at), OUTCOME: outcome})
}

fn to_record(mut stored: Document) -> Result<CommandRecord, RepositoryError> {
    let id = stored.get_str(ID).unwrap_or("?").to_owned();
    let unreadable = |problem: String| {
        RepositoryError::Internal(format!("command {id} is unreadable: {problem}"))
    };
    let text = |stored: &Document, field: &str| {
        stored
            .get_str(field)
            .map(str::to_owned)
            .map_err(|e| unreadable(format!("{field}: {e}")))
    };
    let action = match text(&stored, ACTION)?.as_str() {
        "create" => CommandAction::Create,
        "update" => CommandAction::Update,
        "delete" => CommandAction::Delete,
        other => return Err(unreadable(format!("{ACTION}: unknown action {other:?}"))),
    };
    let date_of = |stored: &Document, field: &str| {
        stored
            .get_datetime(field)
            .map(|date| timestamp(*date))
            .map_err(|e| unreadable(format!("{field}: {e}")))
    };
    let status = match text(&stored, STATE)?.as_str() {
        ACCEPTED => CommandStatus::Accepted,
        DELETING => CommandStatus::Deleting,
        FINISHED => {
            let outcome = stored
                .remove(OUTCOME)
                .ok_or_else(|| unreadable(format!("{OUTCOME}: missing")))?;
            let outcome: CommandOutcome =
                bson::from_bson(outcome).map_err(|e| unreadable(format!("{OUTCOME}: {e}")))?;
            CommandStatus::Finished {
                finished_at: date_of(&stored, FINISHED_AT)?,
                outcome,
            }
        }
        other => return Err(unreadable(format!("{STATE}: unknown state {other:?}"))),
    };
    Ok(CommandRecord {
        id: CommandId::parse(&id).map_err(|e| unreadable(format!("{ID}: {e}")))?,
        action,
        payment_id: PaymentId::parse(&text(&stored, PAYMENT_ID)?)
            .map_err(|e| unreadable(format!("{PAYMENT_ID}: {e}")))?,
        organisation_id: OrganisationId::parse(&text(&stored, ORGANISATION_ID)?)
            .map_err(|e| unreadable(format!("{ORGANISATION_ID}: {e}")))?,
        accepted_at: date_of(&stored, ACCEPTED_AT)?,
        status,
    })
}

#[async_trait]
impl CommandStore for MongoCommandStore {
    async fn record_accepted(&self, records: &[CommandRecord]) -> Result<(), RepositoryError> {
        if records.is_empty() {
            return Ok(());
        }
        let total = records.len();
        let (slots, records) = (self.slots.clone(), records.to_vec());
        let (unfiled, failed): (Vec<CommandRecord>, _) = self
            .bounded_on(&self.pages, &self.page_indexes, move |pages| async move {
                let unstored = pages::store(&pages, &slots, &records).await;
                Ok((
                    unstored.unfiled.into_iter().cloned().collect(),
                    unstored.failed,
                ))
            })
            .await?;
        let failed = failed.map(|(error, count)| {
            let what = format!("{count} of {total} accepted records not stored");
            match error {
                RepositoryError::Unavailable(cause) => {
                    RepositoryError::Unavailable(format!("{what}: {cause}"))
                }
                other => RepositoryError::Internal(format!("{what}: {other}")),
            }
        });
        if unfiled.is_empty() {
            return failed.map_or(Ok(()), Err);
        }
        // A page whose slots are all taken: its late records are stored one document each.
        let documents: Vec<Document> = unfiled
            .iter()
            .map(|record| {
                let mut document = doc! {ID: record.id.to_string(), STATE: ACCEPTED};
                document.extend(head(record));
                document
            })
            .collect();
        let stored = self
            .bounded(move |collection| async move {
                // Unordered: one record already stored (a finished one, say) must not stop the
                // rest.
                match collection.insert_many(documents).ordered(false).await {
                    Ok(_) => Ok(()),
                    Err(error) if is_only_duplicate_keys(&error) => Ok(()),
                    Err(error) => Err(repository_error(&error)),
                }
            })
            .await;
        match failed {
            Some(error) => Err(error),
            None => stored,
        }
    }

    async fn mark_deleting(&self, record: &CommandRecord) -> Result<(), RepositoryError> {
        self.advance(record, &[ACCEPTED, DELETING], doc! {STATE: DELETING})
            .await
            .map(drop)
    }

    async fn record_finished(
        &self,
        record: &CommandRecord,
    ) -> Result<CommandRecord, RepositoryError> {
        self.record_finished_many(std::slice::from_ref(record))
            .await
            .pop()
            .unwrap_or_else(|| {
                Err(RepositoryError::Internal(
                    "finished record not written".into(),
                ))
            })
    }

    /// One page for the batch (see the `finished` module); an id finished before, in a page or in
    /// a document of its own, keeps its first outcome, which is the answer. An id twice in the
    /// batch is stored once: the first one wins there too.
    async fn record_finished_many(
        &self,
        records: &[CommandRecord],
    ) -> Vec<Result<CommandRecord, RepositoryError>> {
        let mut answers: Vec<Option<Result<CommandRecord, RepositoryError>>> =
            vec![None; records.len()];
        let mut filed = Vec::with_capacity(records.len());
        let mut sent = Vec::with_capacity(records.len());
        let mut seen = HashSet::with_capacity(records.len());
        // Read back once the batch is stored: taken by another page, or twice in the batch.
        let mut read_back = Vec::new();
        let ids: Vec<CommandId> = records.iter().map(|record| record.id).collect();
        // Finished before, in a document of its own: that outcome stays.
        let legacy: HashMap<CommandId, CommandRecord> = match self.find_legacy(&ids).await {
            Ok(legacy) => legacy.into_iter().map(|first| (first.id, first)).collect(),
            Err(error) => return records.iter().map(|_| Err(error.clone())).collect(),
        };
        for (index, record) in records.iter().enumerate() {
            if let Some(first) = legacy.get(&record.id) {
                answers[index] = Some(Ok(first.clone()));
                continue;
            }
            if !seen.insert(record.id) {
                read_back.push(index);
                continue;
            }
            match finished_fields(record) {
                Ok(mut document) => {
                    document.insert(ID, record.id.to_string());
                    document.extend(head(record));
                    filed.push((record.clone(), document));
                    sent.push(index);
                }
                Err(error) => answers[index] = Some(Err(error)),
            }
        }
        let outcomes = match self.finished_ready().await {
            Err(error) => finished::failed(filed.len(), &error),
            Ok(()) => {
                let count = filed.len();
                self.bounded_on(
                    &self.finished,
                    &self.finished_indexes,
                    move |pages| async move { Ok(finished::store(&pages, &filed).await) },
                )
                .await
                .unwrap_or_else(|error| finished::failed(count, &error))
            }
        };
        for (&index, outcome) in sent.iter().zip(outcomes) {
            answers[index] = match outcome {
                Ok(Written::Inserted) => Some(Ok(records[index].clone())),
                Ok(Written::Taken) => {
                    read_back.push(index);
                    None
                }
                Err(error) => Some(Err(error)),
            };
        }
        if !read_back.is_empty() {
            let wanted: Vec<CommandId> = read_back.iter().map(|&index| records[index].id).collect();
            let firsts = self.find_finished_many(&wanted).await.map(|found| {
                found
                    .into_iter()
                    .map(|first| (first.id, first))
                    .collect::<HashMap<_, _>>()
            });
            for index in read_back {
                let id = records[index].id;
                answers[index] = Some(match &firsts {
                    Ok(firsts) => firsts.get(&id).cloned().ok_or_else(|| {
                        RepositoryError::Internal(format!(
                            "command {id} neither stored nor found finished"
                        ))
                    }),
                    Err(error) => Err(error.clone()),
                });
            }
        }
        answers
            .into_iter()
            .map(|answer| {
                answer.unwrap_or_else(|| {
                    Err(RepositoryError::Internal(
                        "finished record not written".into(),
                    ))
                })
            })
            .collect()
    }

    async fn find(&self, id: CommandId) -> Result<Option<CommandRecord>, RepositoryError> {
        let own = self.find_record(id).await?;
        if let Some(record) = own.as_ref().filter(|record| record.outcome().is_some()) {
            return Ok(Some(record.clone()));
        }
        if let Some(record) = self.find_filed(vec![id]).await?.pop() {
            return Ok(Some(record));
        }
        if own.is_some() {
            return Ok(own);
        }
        let retention = u64::try_from(self.retention.as_millis()).unwrap_or(u64::MAX);
        let cutoff = Timestamp::from_millis(Timestamp::now().as_millis().saturating_sub(retention));
        self.bounded_on(&self.pages, &self.page_indexes, move |pages| async move {
            pages::find(&pages, id, cutoff).await
        })
        .await
    }

    async fn find_finished(&self, id: CommandId) -> Result<Option<CommandRecord>, RepositoryError> {
        Ok(self.find_finished_many(&[id]).await?.pop())
    }

    /// The pages' records, and the documents of records finished before outcomes were filed by
    /// page (which are first where an id has both).
    async fn find_finished_many(
        &self,
        ids: &[CommandId],
    ) -> Result<Vec<CommandRecord>, RepositoryError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let own = self.find_legacy(ids).await?;
        let known: HashSet<CommandId> = own.iter().map(|record| record.id).collect();
        let rest: Vec<CommandId> = ids
            .iter()
            .filter(|id| !known.contains(id))
            .copied()
            .collect();
        let mut finished = own;
        finished.extend(self.find_filed(rest).await?);
        Ok(finished)
    }

    async fn expire(&self, _cutoff: Timestamp) -> Result<(), RepositoryError> {
        // The TTL index expires records.
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use domain::{UpdatePaymentError, Version};

    use super::*;

    #[test]
    fn a_finished_record_reads_back_as_written() {
        let record = CommandRecord {
            id: CommandId::generate(),
            action: CommandAction::Update,
            payment_id: PaymentId::generate(),
            organisation_id: OrganisationId::parse("743d5b63-8e6f-432e-a8fa-c5d8d2ee5fcb").unwrap(),
            accepted_at: Timestamp::from_millis(1_765_000_000_123),
            status: CommandStatus::Accepted,
        };
        let refused = CommandOutcome::Refused(domain::CommandError::Update(
            UpdatePaymentError::VersionConflict {
                expected: Version::new(3).unwrap(),
                actual: Version::new(5).unwrap(),
            },
        ));
        for outcome in [
            CommandOutcome::Updated {
                version: Version::new(4).unwrap(),
            },
            refused,
        ] {
            let finished = record
                .clone()
                .finished(outcome.clone(), Timestamp::from_millis(1_765_000_000_456));
            let mut document = doc! {ID: record.id.to_string(), STATE: FINISHED};
            document.extend(head(&record));
            document.insert(FINISHED_AT, date(Timestamp::from_millis(1_765_000_000_456)));
            document.insert(OUTCOME, bson::to_bson(&outcome).unwrap());
            assert_eq!(to_record(document).unwrap(), finished);
        }
    }
}
