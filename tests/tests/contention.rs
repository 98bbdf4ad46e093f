//! Contention: many clients doing read-modify-write on a few hot payments, retrying on conflict.
//! Afterwards every acknowledged update is in the final state exactly once, in the order of the
//! versions the server handed out: no lost update, no double write, no reordering.

use std::collections::BTreeMap;

use reqwest::header::IF_MATCH;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tests::requests::payment_path;
use tests::{new_organisation_id, Reply, TestApp};
use tokio::task::JoinSet;

const CLIENTS: usize = 16;
const UPDATES_PER_CLIENT: usize = 10;
const HOT_PAYMENTS: usize = 3;
/// A client that loses this many times in a row for one update reports a livelock.
const MAX_ATTEMPTS: usize = 2_000;

/// What one client saw: for each acknowledged PUT, the payment, the version it produced and the
/// token it appended; and how many conflicts it retried.
#[derive(Debug, Default)]
struct ClientLog {
    acked: Vec<(usize, u64, String)>,
    conflicts: usize,
}

/// Appends `token` to `tokens` of the payment at `url` until one PUT succeeds; returns the new
/// version and the number of conflicts met. Odd clients send the version as `If-Match`, even
/// ones in the body, so both checks are raced.
async fn append_token(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    use_if_match: bool,
) -> (u64, usize) {
    for attempt in 0..MAX_ATTEMPTS {
        let current = Reply::send(http.get(url)).await;
        assert_eq!(current.status, StatusCode::OK, "{}", current.body);
        let data = &current.body["data"];
        let version = data["version"].as_u64().expect("a version");
        let mut attributes = data["attributes"].clone();
        attributes["tokens"]
            .as_array_mut()
            .expect("tokens")
            .push(json!(token));
        let mut document =
            json!({"data": {"organisation_id": data["organisation_id"], "attributes": attributes}});
        let mut request = http.put(url);
        if use_if_match {
            request = request.header(IF_MATCH, format!("\"{version}\""));
        } else {
            document["data"]["version"] = json!(version);
        }

        let reply = Reply::send(request.json(&document)).await;

        match reply.status {
            StatusCode::OK => {
                assert_eq!(reply.body["data"]["version"], version + 1);
                return (version + 1, attempt);
            }
            StatusCode::CONFLICT => reply.assert_error(StatusCode::CONFLICT, "version_conflict"),
            StatusCode::PRECONDITION_FAILED => {
                reply.assert_error(StatusCode::PRECONDITION_FAILED, "precondition_failed")
            }
            other => panic!("unexpected {other}: {}", reply.body),
        };
    }
    panic!("{token}: no update won in {MAX_ATTEMPTS} attempts");
}

async fn read_modify_write_under_contention_loses_and_duplicates_nothing(app: TestApp) {
    let organisation = new_organisation_id();
    let mut urls = Vec::new();
    for _ in 0..HOT_PAYMENTS {
        let mut document = tests::payment_document(&organisation, "1.00");
        document["data"]["attributes"]["tokens"] = json!([]);
        let created = app.post("/v1/payments", &document).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        urls.push(format!(
            "{}{}",
            app.base_url,
            payment_path(&created.body["data"])
        ));
    }

    let mut clients = JoinSet::new();
    for client in 0..CLIENTS {
        let (http, urls) = (app.client.clone(), urls.clone());
        clients.spawn(async move {
            let mut log = ClientLog::default();
            for update in 0..UPDATES_PER_CLIENT {
                let payment = (client + update) % HOT_PAYMENTS;
                let token = format!("client-{client}-update-{update}");
                let (version, conflicts) =
                    append_token(&http, &urls[payment], &token, client % 2 == 1).await;
                log.acked.push((payment, version, token));
                log.conflicts += conflicts;
            }
            log
        });
    }
    let mut by_payment: Vec<BTreeMap<u64, String>> = vec![BTreeMap::new(); HOT_PAYMENTS];
    let mut conflicts = 0;
    while let Some(finished) = clients.join_next().await {
        let log = finished.expect("the client finishes");
        conflicts += log.conflicts;
        for (payment, version, token) in log.acked {
            let previous = by_payment[payment].insert(version, token.clone());
            assert!(
                previous.is_none(),
                "version {version} acknowledged twice: {previous:?} and {token}"
            );
        }
    }

    let mut acked_total = 0;
    for (payment, acked) in by_payment.iter().enumerate() {
        let stored = app
            .get(urls[payment].trim_start_matches(&app.base_url))
            .await;
        let data = &stored.body["data"];
        let expected: Vec<Value> = acked.values().map(|token| json!(token)).collect();
        assert_eq!(data["version"], acked.len() as u64, "payment {payment}");
        assert_eq!(
            acked.keys().copied().collect::<Vec<_>>(),
            (1..=acked.len() as u64).collect::<Vec<_>>()
        );
        assert_eq!(
            data["attributes"]["tokens"],
            Value::Array(expected),
            "payment {payment}"
        );
        acked_total += acked.len();
    }
    eprintln!(
        "contention: {acked_total} updates acknowledged and found, {conflicts} conflicts retried"
    );
    assert_eq!(acked_total, CLIENTS * UPDATES_PER_CLIENT);
    // With 16 clients on 3 payments conflicts are certain; none means the race did not happen.
    assert!(
        conflicts > 0,
        "no conflict in {acked_total} contended updates"
    );
}

tests::backend_tests!(read_modify_write_under_contention_loses_and_duplicates_nothing);
