//! What must hold after the load: every acknowledged write stored, every 202 finished
//! `applied`, nothing applied twice, each chain applied in order.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;

use crate::client::{parse_timestamp, Http};
use crate::load::{Ledger, Outcome, Tracked};

/// A command's outcome as its resource tells it.
#[derive(Debug, Clone)]
pub struct Finished {
    /// `applied` or `rejected`.
    pub status: String,
    /// The synchronous status (`result.status` or `error.status`).
    pub http_status: u64,
    /// `result.version`.
    pub version: Option<u64>,
    /// Acceptance and outcome times, seconds since the Unix epoch.
    pub accepted_at: f64,
    /// When its outcome was stored.
    pub finished_at: f64,
}

/// Follows every command link until each is finished or `deadline` passes; the unfinished ones
/// are missing from the map.
pub async fn follow(
    http: &Http,
    locations: Vec<String>,
    deadline: Duration,
) -> HashMap<String, Finished> {
    let end = http.now() + deadline.as_secs_f64();
    let mut finished = HashMap::new();
    let mut pending = locations;
    while !pending.is_empty() && http.now() < end {
        let mut still = Vec::new();
        for chunk in pending.chunks(16) {
            let answers = futures_util::future::join_all(chunk.iter().map(|l| http.get(l))).await;
            for (location, answer) in chunk.iter().zip(answers) {
                match finished_of(&answer.body).filter(|_| answer.status == 200) {
                    Some(done) => {
                        finished.insert(location.clone(), done);
                    }
                    // 404: the accepted record is written in batches, and lost with an instance
                    // killed before it wrote it; the worker's outcome writes it anyway.
                    None => still.push(location.clone()),
                }
            }
        }
        pending = still;
        if !pending.is_empty() {
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    finished
}

fn finished_of(body: &Value) -> Option<Finished> {
    let data = &body["data"];
    let status = data["status"].as_str()?;
    if status == "accepted" {
        return None;
    }
    let http_status = data["result"]["status"]
        .as_u64()
        .or_else(|| data["error"]["status"].as_u64())
        .unwrap_or(0);
    Some(Finished {
        status: status.to_owned(),
        http_status,
        version: data["result"]["version"].as_u64(),
        accepted_at: data["accepted_at"].as_str().and_then(parse_timestamp)?,
        finished_at: data["finished_at"].as_str().and_then(parse_timestamp)?,
    })
}

/// Every command link in the ledger.
pub fn locations(ledger: &Ledger) -> Vec<String> {
    ledger
        .payments
        .iter()
        .flat_map(|p| &p.writes)
        .filter_map(|w| match &w.outcome {
            Outcome::Accepted { location } => Some(location.clone()),
            Outcome::Acked { .. } => None,
        })
        .collect()
}

/// Counts of what was checked.
#[derive(Debug, Default, serde::Serialize)]
pub struct Checked {
    /// Payments followed.
    pub payments: usize,
    /// Writes answered 201/200/204.
    pub acknowledged: usize,
    /// Writes answered 202.
    pub accepted: usize,
    /// Of those, finished `applied`.
    pub applied: usize,
    /// Writes with an unknown outcome (a 5xx or no answer).
    pub unknown: usize,
    /// Chain segments (one organisation's back-to-back commands on one payment).
    pub chains: usize,
    /// Updates in those chains, each checked to have produced the next version.
    pub chain_updates: usize,
}

/// What a payment looks like in storage afterwards.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    /// 200 or 404 (anything else is a failure of its own).
    pub status: u16,
    /// `data.version`.
    pub version: Option<u64>,
    /// `data.attributes.amount`.
    pub amount: Option<String>,
}

/// Checks one payment: reads it, then [`judge`]s it; failures are pushed.
pub async fn check_payment(
    http: &Http,
    tracked: &Tracked,
    outcomes: &HashMap<String, Finished>,
    checked: &mut Checked,
    failures: &mut Vec<String>,
) {
    let answer = http.get(&format!("/v1/payments/{}", tracked.id)).await;
    let stored = Stored {
        status: answer.status,
        version: answer.body["data"]["version"].as_u64(),
        amount: answer.body["data"]["attributes"]["amount"]
            .as_str()
            .map(str::to_owned),
    };
    failures.extend(judge(tracked, outcomes, &stored, checked));
}

/// What is wrong with one payment, given what the cluster said about its writes (`outcomes` of
/// its commands) and what is stored: an acknowledged write that is not stored, a command that
/// did not end applied, an update that did not produce the next version (out of order), a
/// version beyond the applied updates (applied twice).
pub fn judge(
    tracked: &Tracked,
    outcomes: &HashMap<String, Finished>,
    stored: &Stored,
    checked: &mut Checked,
) -> Vec<String> {
    let mut failures = Vec::new();
    let name = format!(
        "{} payment {} (organisation {})",
        tracked.source, tracked.id, tracked.organisation
    );
    checked.payments += 1;
    checked.unknown += usize::from(tracked.unknown.is_some());
    if tracked.source == "chain" && tracked.writes.len() > 1 {
        checked.chains += 1;
    }
    let mut updates = 0u64;
    let mut deleted = false;
    let mut amount = Some("1.00".to_owned());
    for write in &tracked.writes {
        let (status, version) = match &write.outcome {
            Outcome::Acked { status, version } => {
                checked.acknowledged += 1;
                (u64::from(*status), *version)
            }
            Outcome::Accepted { location } => {
                checked.accepted += 1;
                let Some(done) = outcomes.get(location) else {
                    failures.push(format!(
                        "{name}: {} command {location} never finished",
                        write.action
                    ));
                    continue;
                };
                if done.status != "applied" {
                    failures.push(format!(
                        "{name}: {} command {location} {} with {} (order broken or applied twice)",
                        write.action, done.status, done.http_status
                    ));
                    continue;
                }
                checked.applied += 1;
                (done.http_status, done.version)
            }
        };
        match write.action {
            "create" if status != 201 => failures.push(format!("{name}: create ended {status}")),
            "update" => {
                updates += 1;
                if tracked.source == "chain" {
                    checked.chain_updates += 1;
                }
                if version != Some(updates) {
                    failures.push(format!(
                        "{name}: update {updates} produced version {version:?}, not {updates} (out of order)"
                    ));
                }
                amount.clone_from(&write.amount);
            }
            "delete" => deleted = true,
            _ => {}
        }
    }
    let found = stored.status == 200;
    let gone = stored.status == 404;
    let at = |v: u64| found && stored.version == Some(v);
    let ok = match (tracked.unknown, deleted) {
        (_, true) => gone,
        // Nothing acknowledged: either outcome of the create is fine.
        (Some("create"), false) if tracked.writes.is_empty() => gone || at(0),
        (None, false) => at(updates) && stored.amount == amount,
        (Some("update"), false) => at(updates) || at(updates + 1),
        (Some(_), false) => gone || at(updates),
    };
    if !ok {
        failures.push(format!(
            "{name}: stored {} version {:?} amount {:?}; expected after {updates} applied updates{}{} (unknown: {:?})",
            stored.status,
            stored.version,
            stored.amount,
            if deleted { ", deleted" } else { "" },
            amount.as_deref().map(|a| format!(", amount {a}")).unwrap_or_default(),
            tracked.unknown
        ));
    }
    failures
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::Write;

    fn accepted(action: &'static str, location: &str, amount: Option<&str>) -> Write {
        Write {
            action,
            amount: amount.map(str::to_owned),
            outcome: Outcome::Accepted {
                location: location.to_owned(),
            },
        }
    }

    fn finished(status: &str, http_status: u64, version: Option<u64>) -> Finished {
        Finished {
            status: status.into(),
            http_status,
            version,
            accepted_at: 0.0,
            finished_at: 0.1,
        }
    }

    fn applied(status: u64, version: Option<u64>) -> Finished {
        finished("applied", status, version)
    }

    /// A chain: create, two updates (versions 1 and 2), every command applied.
    fn chain() -> (Tracked, HashMap<String, Finished>) {
        let tracked = Tracked {
            id: "p".into(),
            organisation: "o".into(),
            source: "chain",
            writes: vec![
                accepted("create", "/c/0", None),
                accepted("update", "/c/1", Some("2.00")),
                accepted("update", "/c/2", Some("3.00")),
            ],
            unknown: None,
        };
        let outcomes = HashMap::from([
            ("/c/0".to_owned(), applied(201, Some(0))),
            ("/c/1".to_owned(), applied(200, Some(1))),
            ("/c/2".to_owned(), applied(200, Some(2))),
        ]);
        (tracked, outcomes)
    }

    fn stored(version: u64, amount: &str) -> Stored {
        Stored {
            status: 200,
            version: Some(version),
            amount: Some(amount.into()),
        }
    }

    fn judged(
        tracked: &Tracked,
        outcomes: &HashMap<String, Finished>,
        stored: &Stored,
    ) -> Vec<String> {
        judge(tracked, outcomes, stored, &mut Checked::default())
    }

    #[test]
    fn a_chain_applied_in_order_and_stored_passes() {
        let (tracked, outcomes) = chain();
        let failures = judged(&tracked, &outcomes, &stored(2, "3.00"));
        assert!(failures.is_empty(), "{failures:?}");
    }

    #[test]
    fn a_lost_acknowledged_write_fails() {
        let (mut tracked, _) = chain();
        tracked.source = "writer";
        tracked.writes = vec![Write {
            action: "create",
            amount: None,
            outcome: Outcome::Acked {
                status: 201,
                version: Some(0),
            },
        }];
        let lost = Stored {
            status: 404,
            version: None,
            amount: None,
        };
        let failures = judged(&tracked, &HashMap::new(), &lost);
        assert_eq!(failures.len(), 1, "{failures:?}");
    }

    #[test]
    fn an_update_applied_twice_fails() {
        let (tracked, outcomes) = chain();
        let failures = judged(&tracked, &outcomes, &stored(3, "3.00"));
        assert_eq!(failures.len(), 1, "{failures:?}");
    }

    #[test]
    fn an_update_applied_out_of_order_fails() {
        // The second update overtook the first: it was refused 409, the first then applied.
        let (tracked, mut outcomes) = chain();
        outcomes.insert("/c/2".to_owned(), finished("rejected", 409, None));
        let failures = judged(&tracked, &outcomes, &stored(1, "2.00"));
        assert!(!failures.is_empty());
    }

    #[test]
    fn a_command_that_never_finishes_fails() {
        let (tracked, mut outcomes) = chain();
        outcomes.remove("/c/1");
        let failures = judged(&tracked, &outcomes, &stored(2, "3.00"));
        assert!(failures.iter().any(|f| f.contains("never finished")));
    }

    #[test]
    fn an_update_with_unknown_outcome_may_or_may_not_be_stored() {
        let (mut tracked, outcomes) = chain();
        tracked.unknown = Some("update");
        for version in [2, 3] {
            let failures = judged(&tracked, &outcomes, &stored(version, "x"));
            assert!(failures.is_empty(), "{failures:?}");
        }
        let failures = judged(&tracked, &outcomes, &stored(4, "x"));
        assert_eq!(failures.len(), 1);
    }
}
