//! Inserts written together: the new payments that arrive while one `insert_many` is under way
//! go out in the next one, each told how its own document fared.
//!
//! A command on MongoDB costs mostly per call, not per document: measured on SecantusDB (the
//! test server), one payment costs its server 670 µs of CPU as an `insert_one` and 200–240 µs
//! as one of 8 to 64 documents of an `insert_many` (docs/benchmarks/README.md). A worker
//! applying a backlog has many creates under way at once, one per organisation it is applying,
//! so gathering them makes the backlog drain about as fast as the database takes documents
//! rather than calls. Nothing waits on a timer: an insert with nothing under way goes out at
//! once, alone.
//!
//! The batch is unordered: each document is inserted or refused on its own, as with separate
//! calls. A document whose `_id` is taken (by a stored payment, or by an earlier document of
//! the same batch) is answered `Written::Taken`, exactly as a duplicate-key `insert_one`; a
//! call that fails as a whole (the server unreachable, a write concern not met) fails every
//! document of it, which may or may not be stored, as after an `insert_one` that timed out.

use std::time::Duration;

use domain::RepositoryError;
use mongodb::bson::Document;
use mongodb::Collection;
use tokio::sync::{mpsc, oneshot};

use super::errors::{insert_many_answers, timed_out, Written};

/// Documents written in one call at most (a payment is at most the request body limit).
const BATCH: usize = 64;

type Answer = Result<Written, RepositoryError>;
type Request = (Document, oneshot::Sender<Answer>);

/// The handle on one collection's insert writer. Cheap to clone; the writer stops once every
/// handle is dropped and what they sent is written.
#[derive(Debug, Clone)]
pub(super) struct Inserts {
    sender: mpsc::Sender<Request>,
}

impl Inserts {
    /// Starts the writer of `collection` (on the current Tokio runtime), each of its calls
    /// bounded by `limit`.
    pub(super) fn start(collection: Collection<Document>, limit: Duration) -> Self {
        let (sender, receiver) = mpsc::channel(BATCH);
        tokio::spawn(write(collection, limit, receiver));
        Self { sender }
    }

    /// Inserts `document` with whatever else is waiting.
    pub(super) async fn insert(&self, document: Document) -> Answer {
        let (reply, answer) = oneshot::channel();
        let stopped = || RepositoryError::Internal("the MongoDB insert writer stopped".into());
        self.sender
            .send((document, reply))
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn write(
    collection: Collection<Document>,
    limit: Duration,
    mut requests: mpsc::Receiver<Request>,
) {
    let mut batch = Vec::with_capacity(BATCH);
    while requests.recv_many(&mut batch, BATCH).await > 0 {
        let (documents, replies): (Vec<Document>, Vec<_>) = batch.drain(..).unzip();
        let answers = insert_all(&collection, documents, limit).await;
        for (reply, answer) in replies.into_iter().zip(answers) {
            // A caller that stopped waiting has its document written all the same.
            drop(reply.send(answer));
        }
    }
}

/// Inserts `documents` in one unordered call: an answer for each, in their order.
async fn insert_all(
    collection: &Collection<Document>,
    documents: Vec<Document>,
    limit: Duration,
) -> Vec<Answer> {
    let count = documents.len();
    let call = collection.insert_many(documents).ordered(false);
    match tokio::time::timeout(limit, call).await {
        Ok(result) => insert_many_answers(&result, count),
        Err(_) => vec![Err(timed_out(limit)); count],
    }
}
