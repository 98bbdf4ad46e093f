//! [`MongoCommandStore`]: command records in a MongoDB collection beside the payments.
//!
//! ```text
//! { _id: "<command uuid>", action: "update", payment_id: "<uuid>", organisation_id: "<uuid>",
//!   accepted_at: Date, state: "accepted" | "deleting" | "finished",
//!   finished_at: Date, outcome: { kind: "updated", detail: { version: 4 } } }
//! ```
//!
//! Accepted records, before their command finishes, are filed by page in a second collection,
//! `<collection>_accepted` (see [`super::pages`]); a lookup reads this collection first, then
//! the page.
//!
//! A TTL index on `accepted_at` lets MongoDB remove records after the retention period. The
//! state changes are filtered writes, so "first outcome wins" is MongoDB's single-document
//! atomicity: a finished record never matches the filter of a later write, and an upsert that
//! finds its id taken by a finished record fails on the unique `_id` instead of replacing it.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use domain::{
    CommandAction, CommandId, CommandOutcome, CommandRecord, CommandStatus, CommandStore,
    OrganisationId, PaymentId, RepositoryError, Timestamp,
};
use futures_util::TryStreamExt;
use mongodb::bson::{self, doc, DateTime, Document};
use mongodb::options::IndexOptions;
use mongodb::{Collection, IndexModel};

use super::errors::{
    insert_many_failures, is_duplicate_key, is_only_duplicate_keys, repository_error, InsertFailure,
};
use super::indexes::Indexes;
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
    slots: Slots,
    /// How long records are kept: a page outlives the first of its records by the time it was
    /// open, so older records in it are not read.
    retention: Duration,
}

impl MongoPaymentRepository {
    /// A command store in `collection` of this repository's database (and, for accepted
    /// records, `<collection>_accepted`), whose records MongoDB removes `retention` after they
    /// were accepted (TTL indexes, created in the background).
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
        let set = finished_fields(record)?;
        if self.advance(record, &[ACCEPTED, DELETING], set).await? {
            return Ok(record.clone());
        }
        // Finished before: the first outcome stays, and is the answer.
        self.find_record(record.id).await?.ok_or_else(|| {
            RepositoryError::Internal(format!("command {} vanished while finishing", record.id))
        })
    }

    /// One unordered `insert_many` of finished documents: a command whose id has no document
    /// yet (its accepted record is in a page) is finished by it. An id already taken (a delete
    /// marked `deleting`, or a command finished before) goes the way of
    /// [`Self::record_finished`], whose filter keeps a first outcome.
    async fn record_finished_many(
        &self,
        records: &[CommandRecord],
    ) -> Vec<Result<CommandRecord, RepositoryError>> {
        let mut answers: Vec<Option<Result<CommandRecord, RepositoryError>>> =
            vec![None; records.len()];
        let mut documents = Vec::with_capacity(records.len());
        let mut sent = Vec::with_capacity(records.len());
        for (index, record) in records.iter().enumerate() {
            match finished_fields(record) {
                Ok(mut document) => {
                    document.insert(ID, record.id.to_string());
                    document.extend(head(record));
                    documents.push(document);
                    sent.push(index);
                }
                Err(error) => answers[index] = Some(Err(error)),
            }
        }
        let mut taken = Vec::new();
        if !documents.is_empty() {
            let inserted = self
                .bounded(move |collection| async move {
                    Ok(collection.insert_many(documents).ordered(false).await)
                })
                .await;
            let failures = match &inserted {
                Ok(Ok(_)) => Ok(HashMap::new()),
                Ok(Err(error)) => {
                    insert_many_failures(error).ok_or_else(|| repository_error(error))
                }
                Err(error) => Err(error.clone()),
            };
            for (position, &index) in sent.iter().enumerate() {
                answers[index] = match &failures {
                    Err(error) => Some(Err(error.clone())),
                    Ok(failures) => match failures.get(&position) {
                        None => Some(Ok(records[index].clone())),
                        Some(InsertFailure::Taken) => {
                            taken.push(index);
                            None
                        }
                        Some(InsertFailure::Refused(message)) => {
                            Some(Err(RepositoryError::Internal(message.clone())))
                        }
                    },
                };
            }
        }
        for index in taken {
            answers[index] = Some(self.record_finished(&records[index]).await);
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
        if let Some(record) = self.find_record(id).await? {
            return Ok(Some(record));
        }
        let retention = u64::try_from(self.retention.as_millis()).unwrap_or(u64::MAX);
        let cutoff = Timestamp::from_millis(Timestamp::now().as_millis().saturating_sub(retention));
        self.bounded_on(&self.pages, &self.page_indexes, move |pages| async move {
            pages::find(&pages, id, cutoff).await
        })
        .await
    }

    async fn find_finished(&self, id: CommandId) -> Result<Option<CommandRecord>, RepositoryError> {
        // Finished records are never in a page.
        Ok(self
            .find_record(id)
            .await?
            .filter(|record| record.outcome().is_some()))
    }

    async fn find_finished_many(
        &self,
        ids: &[CommandId],
    ) -> Result<Vec<CommandRecord>, RepositoryError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
        self.bounded(move |collection| async move {
            let found: Vec<Document> = collection
                .find(doc! {ID: {"$in": ids}, STATE: FINISHED})
                .await
                .map_err(|e| repository_error(&e))?
                .try_collect()
                .await
                .map_err(|e| repository_error(&e))?;
            found.into_iter().map(to_record).collect()
        })
        .await
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
