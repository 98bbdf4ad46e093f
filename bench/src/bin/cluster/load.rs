//! The mixed load through nginx, and the ledger of what the cluster acknowledged.
//!
//! - **Writers** send synchronous-style writes (`Prefer: wait=5`: the answer is the synchronous
//!   API's, 201/200/204, or 202 when the outcome is not known in time): a create with a
//!   client-chosen id, a few updates naming each version, and for every other payment a delete.
//! - **Chains** send one organisation's commands back to back without waiting (202 each): a
//!   create, PUTs each naming the version the previous one produces, a delete. Any reordering
//!   makes a PUT's version check fail, so all must end `applied` with versions 1, 2, 3, ...
//! - **Readers** get stored payments and list organisations' pages.
//!
//! A write without an answer (a 5xx from nginx when an instance died holding it, or no answer)
//! has an unknown outcome: its payment is followed no further and checked within the two
//! possible outcomes.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use crate::client::{Answer, Http};

/// What happened to one write.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Answered with its final status (201/200/204) and the version it produced.
    Acked { status: u16, version: Option<u64> },
    /// 202: a command in the log, to be followed at this link.
    Accepted { location: String },
}

/// One write of a payment.
#[derive(Debug, Clone)]
pub struct Write {
    /// `create`, `update` or `delete`.
    pub action: &'static str,
    /// The amount an update set.
    pub amount: Option<String>,
    /// What the cluster said.
    pub outcome: Outcome,
}

/// A payment and every write sent for it, in order.
#[derive(Debug, Clone)]
pub struct Tracked {
    /// The payment id.
    pub id: String,
    /// Its organisation.
    pub organisation: String,
    /// `writer` or `chain`.
    pub source: &'static str,
    /// The writes with a known outcome or a command to follow.
    pub writes: Vec<Write>,
    /// The write after the last one, whose outcome is unknown (no answer, or a 5xx).
    pub unknown: Option<&'static str>,
}

/// Everything the load did that the checks need.
#[derive(Default)]
pub struct Ledger {
    /// Payments written.
    pub payments: Vec<Tracked>,
    /// Writes answered with something the load did not expect (a 4xx): always a failure.
    pub refused: Vec<String>,
}

/// Shared by the load tasks.
#[derive(Clone)]
pub struct Shared {
    /// The ledger.
    pub ledger: Arc<Mutex<Ledger>>,
    /// Payment ids readers pick from.
    pub ids: Arc<Mutex<Vec<(String, String)>>>,
}

impl Shared {
    /// An empty ledger.
    pub fn new() -> Shared {
        Shared {
            ledger: Arc::new(Mutex::new(Ledger::default())),
            ids: Arc::new(Mutex::new(Vec::new())),
        }
    }

    fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn finish(&self, tracked: Tracked) {
        self.ledger().payments.push(tracked);
    }

    fn refused(&self, what: String) {
        self.ledger().refused.push(what);
    }

    fn remember(&self, id: &str, organisation: &str) {
        self.ids
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((id.to_owned(), organisation.to_owned()));
    }

    /// A random known payment (id, organisation).
    pub fn pick(&self, rng: &mut Rng) -> Option<(String, String)> {
        let ids = self.ids.lock().unwrap_or_else(PoisonError::into_inner);
        (!ids.is_empty()).then(|| ids[rng.below(ids.len())].clone())
    }
}

/// A small xorshift generator: the load needs spread, not secrecy.
pub struct Rng(u64);

impl Rng {
    /// Seeded from `seed` (never zero).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// A number below `n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// A fresh UUID (v7) as text.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

fn document(id: &str, organisation: &str, amount: &str, version: Option<u64>) -> Value {
    let mut document = tests::payment_document(organisation, amount);
    document["data"]["id"] = Value::String(id.to_owned());
    if let Some(version) = version {
        document["data"]["version"] = version.into();
    }
    document
}

/// How one write was answered, for the ledger: `Ok(outcome)`, `Err(None)` for an unknown
/// outcome, `Err(Some(message))` for a refusal.
fn classify(answer: &Answer, expected: u16) -> Result<Outcome, Option<String>> {
    match answer.status {
        202 => match &answer.location {
            Some(location) => Ok(Outcome::Accepted {
                location: location.clone(),
            }),
            None => Err(Some("202 without Location".into())),
        },
        s if s == expected => Ok(Outcome::Acked {
            status: s,
            version: answer.body["data"]["version"].as_u64(),
        }),
        _ if answer.failed() => Err(None),
        s => Err(Some(format!("{s} (expected {expected}): {}", answer.body))),
    }
}

/// One payment being written: sends its writes and keeps them for the ledger.
struct Payment<'a> {
    http: &'a Http,
    shared: &'a Shared,
    tracked: Tracked,
    /// Whether writes ask for the synchronous answer (`Prefer: wait=5`).
    wait: bool,
}

impl<'a> Payment<'a> {
    fn new(http: &'a Http, shared: &'a Shared, organisation: &str, wait: bool) -> Self {
        let tracked = Tracked {
            id: new_id(),
            organisation: organisation.to_owned(),
            source: if wait { "writer" } else { "chain" },
            writes: Vec::new(),
            unknown: None,
        };
        Payment {
            http,
            shared,
            tracked,
            wait,
        }
    }

    fn path(&self) -> String {
        format!("/v1/payments/{}", self.tracked.id)
    }

    /// POST with the payment's id; false when the payment is to be followed no further.
    async fn create(&mut self) -> bool {
        let body = document(&self.tracked.id, &self.tracked.organisation, "1.00", None);
        let request = self.http.request(Method::POST, "/v1/payments").json(&body);
        self.write("create", request, 201, None).await
    }

    /// PUT naming `version`.
    async fn update(&mut self, version: u64) -> bool {
        let amount = format!("{}.00", version + 2);
        let body = document(
            &self.tracked.id,
            &self.tracked.organisation,
            &amount,
            Some(version),
        );
        let request = self.http.request(Method::PUT, &self.path()).json(&body);
        self.write("update", request, 200, Some(amount)).await
    }

    /// DELETE at `version`.
    async fn delete(&mut self, version: u64) -> bool {
        let path = format!("{}?version={version}", self.path());
        let request = self.http.request(Method::DELETE, &path);
        self.write("delete", request, 204, None).await
    }

    /// Sends one write; `synchronous` is the status the synchronous API answers (202 is
    /// expected instead when not waiting).
    async fn write(
        &mut self,
        action: &'static str,
        request: reqwest::RequestBuilder,
        synchronous: u16,
        amount: Option<String>,
    ) -> bool {
        let (request, expected) = match self.wait {
            true => (request.header("prefer", "wait=5"), synchronous),
            false => (request, 202),
        };
        let answer = self.http.send(request).await;
        match classify(&answer, expected) {
            Ok(outcome) => {
                self.tracked.writes.push(Write {
                    action,
                    amount,
                    outcome,
                });
                true
            }
            Err(None) => {
                self.tracked.unknown = Some(action);
                false
            }
            Err(Some(message)) => {
                self.shared.refused(format!(
                    "{} {action} of payment {}: {message}",
                    self.tracked.source, self.tracked.id
                ));
                false
            }
        }
    }

    fn remember(&self) {
        self.shared
            .remember(&self.tracked.id, &self.tracked.organisation);
    }

    fn finish(self) {
        self.shared.finish(self.tracked);
    }
}

/// Synchronous-style writes (`Prefer: wait=5`) until `until` (seconds from the start): a create,
/// `updates` PUTs, and for every other payment a DELETE.
pub async fn writer(
    http: Http,
    shared: Shared,
    organisations: Vec<String>,
    updates: u64,
    pace: Duration,
    until: f64,
    seed: u64,
) {
    let mut rng = Rng::new(seed);
    let mut n = 0u64;
    while http.now() < until {
        n += 1;
        let organisation = &organisations[rng.below(organisations.len())];
        let mut payment = Payment::new(&http, &shared, organisation, true);
        let mut going = payment.create().await;
        if going {
            payment.remember();
        }
        let mut version = 0;
        while going && version < updates && http.now() < until {
            tokio::time::sleep(pace).await;
            going = payment.update(version).await;
            version += 1;
        }
        if going && n.is_multiple_of(2) && http.now() < until {
            tokio::time::sleep(pace).await;
            // A create whose wait ran out (202) may still be queued: see chain.
            if created(&http, &payment.tracked).await {
                payment.delete(version).await;
            }
        }
        payment.finish();
        tokio::time::sleep(pace).await;
    }
}

/// One organisation's commands back to back (202 each, never waiting for an outcome), in
/// segments of `length` PUTs on one payment ended by a delete, until `until`.
pub async fn chain(
    http: Http,
    shared: Shared,
    organisation: String,
    length: u64,
    pace: Duration,
    until: f64,
) {
    while http.now() < until {
        let mut payment = Payment::new(&http, &shared, &organisation, false);
        let mut going = payment.create().await;
        let mut version = 0;
        while going && version < length && http.now() < until {
            tokio::time::sleep(pace).await;
            going = payment.update(version).await;
            version += 1;
        }
        if going {
            payment.remember();
            // A DELETE is keyed by the stored payment's organisation, so its create must be
            // applied by now: follow the create first (it was the first command of the chain).
            if created(&http, &payment.tracked).await {
                payment.delete(version).await;
            }
        }
        payment.finish();
    }
}

/// Whether the create of `tracked` is applied (a command's outcome is polled for up to 30 s).
async fn created(http: &Http, tracked: &Tracked) -> bool {
    let location = match tracked.writes.first() {
        Some(Write {
            outcome: Outcome::Accepted { location },
            ..
        }) => location,
        Some(Write {
            outcome: Outcome::Acked { .. },
            ..
        }) => return true,
        None => return false,
    };
    for _ in 0..300 {
        let answer = http.get(location).await;
        if answer.status == 200 && answer.body["data"]["status"] != "accepted" {
            return answer.body["data"]["status"] == "applied";
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// Reads until `until`: a stored payment (200, or 404 once deleted) or a page of one
/// organisation's payments.
pub async fn reader(http: Http, shared: Shared, pace: Duration, until: f64, seed: u64) {
    let mut rng = Rng::new(seed);
    while http.now() < until {
        if let Some((id, organisation)) = shared.pick(&mut rng) {
            if rng.below(5) == 0 {
                let path = format!(
                    "/v1/payments?filter%5Borganisation_id%5D={organisation}&page%5Bsize%5D=10"
                );
                http.get(&path).await;
            } else {
                http.get(&format!("/v1/payments/{id}")).await;
            }
        }
        tokio::time::sleep(pace).await;
    }
}
