//! Accepted records filed by page: one document for the records of one [`CommandPage`] that an
//! API instance stores together, instead of one document per command.
//!
//! ```text
//! { _id: "<page: 16 hex digits>/<slot>", accepted_at: Date, records: BinData(0, <records>) }
//! ```
//!
//! The point of asynchronous writes is that a peak of requests does not press on the database;
//! a document (with its `_id` and TTL index entries and its oplog entry) per accepted command
//! would. An instance issues its command ids from its current page and turns to a new page each
//! time it stores the accepted records, so one call mostly writes one document. A record whose
//! broker acknowledgement came after its page was stored goes into the page's next slot (another
//! document); a lookup reads every slot of the id's page at once by `_id`.
//!
//! `records` is 57 bytes per record after a format byte: the command id, the action (0 create,
//! 1 update, 2 delete), the payment id, the organisation id (16 bytes each, as UUID bytes) and
//! `accepted_at` (milliseconds since the epoch, big-endian). Opaque to MongoDB, so a page costs
//! it one value however many records it holds; `accepted_at` of the document is the latest of
//! its records', so the TTL index keeps each record at least the retention.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use domain::{
    CommandAction, CommandId, CommandPage, CommandRecord, CommandStatus, OrganisationId, PaymentId,
    RepositoryError, Timestamp,
};
use mongodb::bson::{doc, spec::BinarySubtype, Binary, Bson, Document};
use mongodb::Collection;
use uuid::Uuid;

use super::errors::{is_duplicate_key, repository_error};

/// Documents one page may take; records past them are stored one document each.
pub(super) const SLOTS: u8 = 8;
/// Pages whose next free slot is remembered (a forgotten one is found by trying).
const REMEMBERED: usize = 64;

const ID: &str = "_id";
const ACCEPTED_AT: &str = "accepted_at";
const RECORDS: &str = "records";

const FORMAT: u8 = 1;
const RECORD_LEN: usize = 16 + 1 + 16 + 16 + 8;

/// The next free slot of recently written pages, shared by a store's clones.
#[derive(Debug, Clone, Default)]
pub(super) struct Slots(Arc<Mutex<VecDeque<(CommandPage, u8)>>>);

impl Slots {
    fn next(&self, page: CommandPage) -> u8 {
        let slots = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        slots
            .iter()
            .find(|(known, _)| *known == page)
            .map_or(0, |(_, slot)| *slot)
    }

    fn taken(&self, page: CommandPage, slot: u8) {
        let mut slots = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        slots.retain(|(known, _)| *known != page);
        if slots.len() == REMEMBERED {
            slots.pop_front();
        }
        slots.push_back((page, slot + 1));
    }
}

fn slot_id(page: CommandPage, slot: u8) -> String {
    format!("{page}/{slot}")
}

/// What [`store`] did not store.
pub(super) struct Unstored<'a> {
    /// Records of pages whose slots are all taken, for the caller to store otherwise.
    pub(super) unfiled: Vec<&'a CommandRecord>,
    /// The first failure, and how many records were not stored for it and any later one.
    pub(super) failed: Option<(RepositoryError, usize)>,
}

/// Stores `records` by page in `pages`: per page one document in its next free slot. Every
/// page is tried, whatever became of the others.
pub(super) async fn store<'a>(
    pages: &Collection<Document>,
    slots: &Slots,
    records: &'a [CommandRecord],
) -> Unstored<'a> {
    let mut by_page: BTreeMap<CommandPage, Vec<&CommandRecord>> = BTreeMap::new();
    for record in records {
        by_page.entry(record.id.page()).or_default().push(record);
    }
    let mut unfiled = Vec::new();
    let mut failed: Option<(RepositoryError, usize)> = None;
    'pages: for (page, records) in by_page {
        let latest = records.iter().map(|r| r.accepted_at).max();
        let mut document = doc! {
            ACCEPTED_AT: super::commands::date(latest.unwrap_or_else(Timestamp::now)),
            RECORDS: Binary { subtype: BinarySubtype::Generic, bytes: encode(&records) },
        };
        let mut slot = slots.next(page);
        loop {
            if slot >= SLOTS {
                unfiled.extend(records);
                break;
            }
            document.insert(ID, slot_id(page, slot));
            match pages.insert_one(&document).await {
                Ok(_) => {
                    slots.taken(page, slot);
                    break;
                }
                // Taken: by this instance before it forgot the page, or by another instance
                // whose page has the same 64 bits (same millisecond and 12 random bits).
                Err(error) if is_duplicate_key(&error) => slot += 1,
                Err(error) => {
                    let count = records.len();
                    failed = Some(match failed {
                        Some((first, before)) => (first, before + count),
                        None => (repository_error(&error), count),
                    });
                    continue 'pages;
                }
            }
        }
    }
    Unstored { unfiled, failed }
}

/// The accepted record of `id` in its page, if one of the page's slots holds it and it was
/// accepted at or after `cutoff` (an older one is past retention: its finished record may be
/// gone while the page, which expires with its latest record, is still there).
pub(super) async fn find(
    pages: &Collection<Document>,
    id: CommandId,
    cutoff: Timestamp,
) -> Result<Option<CommandRecord>, RepositoryError> {
    let page = id.page();
    let slots: Vec<String> = (0..SLOTS).map(|slot| slot_id(page, slot)).collect();
    let mut cursor = pages
        .find(doc! {ID: {"$in": slots}})
        .projection(doc! {RECORDS: 1})
        .await
        .map_err(|e| repository_error(&e))?;
    while cursor.advance().await.map_err(|e| repository_error(&e))? {
        let document = cursor
            .deserialize_current()
            .map_err(|e| repository_error(&e))?;
        let bytes = match document.get(RECORDS) {
            Some(Bson::Binary(binary)) => &binary.bytes,
            _ => return Err(unreadable(&page, "records: not binary")),
        };
        if let Some(record) = decode(bytes, id).map_err(|problem| unreadable(&page, problem))? {
            return Ok(Some(record).filter(|record| record.accepted_at >= cutoff));
        }
    }
    Ok(None)
}

fn unreadable(page: &CommandPage, problem: &str) -> RepositoryError {
    RepositoryError::Internal(format!("accepted page {page} is unreadable: {problem}"))
}

fn encode(records: &[&CommandRecord]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(1 + records.len() * RECORD_LEN);
    bytes.push(FORMAT);
    for record in records {
        bytes.extend_from_slice(record.id.as_uuid().as_bytes());
        bytes.push(match record.action {
            CommandAction::Create => 0,
            CommandAction::Update => 1,
            CommandAction::Delete => 2,
        });
        bytes.extend_from_slice(record.payment_id.as_uuid().as_bytes());
        bytes.extend_from_slice(record.organisation_id.as_uuid().as_bytes());
        bytes.extend_from_slice(&record.accepted_at.as_millis().to_be_bytes());
    }
    bytes
}

/// The record of `id` among the encoded `bytes`.
fn decode(bytes: &[u8], id: CommandId) -> Result<Option<CommandRecord>, &'static str> {
    let Some((&FORMAT, records)) = bytes.split_first() else {
        return Err("unknown format");
    };
    if records.len() % RECORD_LEN != 0 {
        return Err("truncated");
    }
    let wanted = id.as_uuid().as_bytes();
    let Some(record) = records
        .chunks_exact(RECORD_LEN)
        .find(|record| &record[..16] == wanted)
    else {
        return Ok(None);
    };
    let uuid = |at: usize| {
        let mut bytes = [0; 16];
        bytes.copy_from_slice(&record[at..at + 16]);
        Uuid::from_bytes(bytes)
    };
    let action = match record[16] {
        0 => CommandAction::Create,
        1 => CommandAction::Update,
        2 => CommandAction::Delete,
        _ => return Err("unknown action"),
    };
    let mut millis = [0; 8];
    millis.copy_from_slice(&record[49..57]);
    Ok(Some(CommandRecord {
        id,
        action,
        payment_id: PaymentId::from_uuid(uuid(17)),
        organisation_id: OrganisationId::from_uuid(uuid(33)),
        accepted_at: Timestamp::from_millis(u64::from_be_bytes(millis)),
        status: CommandStatus::Accepted,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: CommandId, action: CommandAction, millis: u64) -> CommandRecord {
        CommandRecord {
            id,
            action,
            payment_id: PaymentId::generate(),
            organisation_id: OrganisationId::from_uuid(Uuid::now_v7()),
            accepted_at: Timestamp::from_millis(millis),
            status: CommandStatus::Accepted,
        }
    }

    #[test]
    fn every_record_of_a_page_decodes_as_encoded() {
        let page = CommandPage::generate();
        let records = [
            record(page.id(), CommandAction::Create, 1_765_000_000_001),
            record(page.id(), CommandAction::Update, 1_765_000_000_002),
            record(page.id(), CommandAction::Delete, u64::MAX),
        ];
        let bytes = encode(&records.iter().collect::<Vec<_>>());
        assert_eq!(bytes.len(), 1 + 3 * RECORD_LEN);
        for expected in &records {
            assert_eq!(decode(&bytes, expected.id), Ok(Some(expected.clone())));
        }
        assert_eq!(decode(&bytes, page.id()), Ok(None));
    }

    #[test]
    fn damaged_pages_are_errors_not_records() {
        let page = CommandPage::generate();
        let one = record(page.id(), CommandAction::Create, 1);
        let bytes = encode(&[&one]);
        assert_eq!(decode(&bytes[..bytes.len() - 1], one.id), Err("truncated"));
        assert_eq!(decode(&[2], one.id), Err("unknown format"));
        assert_eq!(decode(&[], one.id), Err("unknown format"));
        let mut bad_action = bytes.clone();
        bad_action[1 + 16] = 9;
        assert_eq!(decode(&bad_action, one.id), Err("unknown action"));
    }

    #[test]
    fn the_next_slot_is_remembered_for_recent_pages() {
        let slots = Slots::default();
        let page = CommandPage::generate();
        assert_eq!(slots.next(page), 0);
        slots.taken(page, 0);
        assert_eq!(slots.next(page), 1);
        let mut others = std::collections::HashSet::new();
        while others.len() < REMEMBERED {
            let other = CommandPage::generate();
            if other != page && others.insert(other) {
                slots.taken(other, 0);
            }
        }
        assert_eq!(slots.next(page), 0, "forgotten: found again by trying");
    }
}
