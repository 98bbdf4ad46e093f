//! Finished records filed by page: one document for the outcomes a worker stores together,
//! instead of one document per command.
//!
//! ```text
//! { _id: "<uuid>", accepted_at: Date, ids: [BinData(4, <command id>), ...],
//!   records: BinData(0, <the records' BSON documents, one after another>) }
//! ```
//!
//! Each record is the document a command's own finished document would be (`_id`, `state`,
//! `finished_at`, `outcome`, `action`, `payment_id`, `organisation_id`, `accepted_at`); opaque
//! to MongoDB, so a page costs it one value however many records it holds.
//!
//! An outcome document per command cost the test database about 130–145 µs of CPU each, a
//! fifth of a whole payment write: the worker could not drain faster than about 80 % of the
//! synchronous API (docs/benchmarks). A page costs it one document however many outcomes it
//! holds, and an index entry per outcome.
//!
//! **First outcome wins** rests on a unique index on `ids`: MongoDB keeps each element of a
//! multikey unique index unique across documents, so a page holding an id that another page
//! holds is refused whole, atomically. Its records are then stored one page each, in one
//! unordered `insert_many`, and those refused are the ones finished before: their stored
//! record is the answer. The index is created before the first page is written; a page of a
//! store that could not create it is not written (no outcome would be safe).
//!
//! `accepted_at` of a page is the latest of its records', so the TTL index keeps each record at
//! least the retention.

use domain::{CommandId, CommandRecord, RepositoryError};
use futures_util::TryStreamExt;
use mongodb::bson::{doc, spec::BinarySubtype, Binary, Bson, Document};
use mongodb::options::IndexOptions;
use mongodb::{Collection, IndexModel};

use super::errors::{insert_many_answers, is_duplicate_key, repository_error, Written};

const ID: &str = "_id";
const IDS: &str = "ids";
const ACCEPTED_AT: &str = "accepted_at";
const RECORDS: &str = "records";

/// The unique index "first outcome wins" rests on.
pub(super) fn unique_ids() -> IndexModel {
    IndexModel::builder()
        .keys(doc! {IDS: 1})
        .options(IndexOptions::builder().unique(true).build())
        .build()
}

fn id_key(id: CommandId) -> Bson {
    Bson::Binary(Binary {
        subtype: BinarySubtype::Uuid,
        bytes: id.as_uuid().as_bytes().to_vec(),
    })
}

/// A page of `records` (distinct ids), each given as its finished document.
fn page(records: &[(CommandRecord, Document)]) -> Result<Document, RepositoryError> {
    let accepted_at = records
        .iter()
        .map(|(record, _)| super::commands::date(record.accepted_at))
        .max()
        .unwrap_or_else(mongodb::bson::DateTime::now);
    let mut bytes = Vec::new();
    for (record, document) in records {
        document.to_writer(&mut bytes).map_err(|e| {
            RepositoryError::Internal(format!("finished command {}: {e}", record.id))
        })?;
    }
    Ok(doc! {
        ID: uuid::Uuid::now_v7().to_string(),
        ACCEPTED_AT: accepted_at,
        IDS: records.iter().map(|(record, _)| id_key(record.id)).collect::<Vec<_>>(),
        RECORDS: Binary {
            subtype: BinarySubtype::Generic,
            bytes,
        },
    })
}

/// Stores `records` (distinct ids, each with its finished document) in one page, or, when an
/// id is taken, one page each; answered in their order (`Taken`: another page holds the id, so
/// it was finished before and its first outcome stays).
pub(super) async fn store(
    pages: &Collection<Document>,
    records: &[(CommandRecord, Document)],
) -> Vec<Result<Written, RepositoryError>> {
    if records.is_empty() {
        return Vec::new();
    }
    let whole = match page(records) {
        Ok(whole) => whole,
        Err(error) => return failed(records.len(), &error),
    };
    match pages.insert_one(whole).await {
        Ok(_) => return vec![Ok(Written::Inserted); records.len()],
        // A single record whose id is taken needs no second try.
        Err(error) if is_duplicate_key(&error) && records.len() == 1 => {
            return vec![Ok(Written::Taken)]
        }
        Err(error) if is_duplicate_key(&error) => {}
        Err(error) => return failed(records.len(), &repository_error(&error)),
    }
    let singles = match records
        .iter()
        .map(|record| page(std::slice::from_ref(record)))
        .collect::<Result<Vec<Document>, _>>()
    {
        Ok(singles) => singles,
        Err(error) => return failed(records.len(), &error),
    };
    let result = pages.insert_many(singles).ordered(false).await;
    insert_many_answers(&result, records.len())
}

/// `count` records not stored for `error`.
pub(super) fn failed(
    count: usize,
    error: &RepositoryError,
) -> Vec<Result<Written, RepositoryError>> {
    vec![Err(error.clone()); count]
}

/// The finished documents of `ids` stored in pages (each id is in one page at most).
pub(super) async fn find(
    pages: &Collection<Document>,
    ids: &[CommandId],
) -> Result<Vec<Document>, RepositoryError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<Bson> = ids.iter().map(|id| id_key(*id)).collect();
    let wanted: std::collections::HashSet<String> = ids.iter().map(ToString::to_string).collect();
    let found: Vec<Document> = pages
        .find(doc! {IDS: {"$in": keys}})
        .projection(doc! {RECORDS: 1})
        .await
        .map_err(|e| repository_error(&e))?
        .try_collect()
        .await
        .map_err(|e| repository_error(&e))?;
    let mut records = Vec::new();
    for found in &found {
        records.extend(records_of(found, &wanted)?);
    }
    Ok(records)
}

/// The records of `page` whose ids are `wanted`.
fn records_of(
    page: &Document,
    wanted: &std::collections::HashSet<String>,
) -> Result<Vec<Document>, RepositoryError> {
    let unreadable = |problem: String| {
        RepositoryError::Internal(format!(
            "page {} of finished commands is unreadable: {problem}",
            page.get_str(ID).unwrap_or("?")
        ))
    };
    let mut held = page
        .get_binary_generic(RECORDS)
        .map_err(|e| unreadable(e.to_string()))?
        .as_slice();
    let mut records = Vec::new();
    while !held.is_empty() {
        let record = Document::from_reader(&mut held).map_err(|e| unreadable(e.to_string()))?;
        if record.get_str(ID).is_ok_and(|id| wanted.contains(id)) {
            records.push(record);
        }
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use domain::{CommandAction, CommandStatus, OrganisationId, PaymentId, Timestamp};

    use super::*;

    fn record(accepted_at: u64) -> (CommandRecord, Document) {
        let record = CommandRecord {
            id: CommandId::generate(),
            action: CommandAction::Create,
            payment_id: PaymentId::generate(),
            organisation_id: OrganisationId::parse("743d5b63-8e6f-432e-a8fa-c5d8d2ee5fcb").unwrap(),
            accepted_at: Timestamp::from_millis(accepted_at),
            status: CommandStatus::Accepted,
        };
        let document =
            doc! {ID: record.id.to_string(), "state": "finished", "n": accepted_at as i64};
        (record, document)
    }

    #[test]
    fn a_page_holds_each_record_under_its_id_and_keeps_the_latest_acceptance() {
        let (first, second) = (record(1_765_000_000_000), record(1_765_000_009_000));
        let page = page(&[first.clone(), second.clone()]).unwrap();
        assert_eq!(
            page.get_array(IDS).unwrap(),
            &vec![id_key(first.0.id), id_key(second.0.id)]
        );
        assert_eq!(
            page.get_datetime(ACCEPTED_AT).unwrap().timestamp_millis(),
            1_765_000_009_000
        );
        let both = [first.0.id.to_string(), second.0.id.to_string()].into();
        assert_eq!(
            records_of(&page, &both).unwrap(),
            vec![first.1, second.1.clone()]
        );
        let one = [second.0.id.to_string()].into();
        assert_eq!(records_of(&page, &one).unwrap(), vec![second.1]);
    }
}
