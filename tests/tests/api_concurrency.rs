//! Concurrent writers: a version check and its write are one atomic step.

use reqwest::{Method, StatusCode};
use serde_json::json;
use tests::requests::payment_path;
use tests::{new_organisation_id, payment_document, Reply, TestApp};
use tokio::task::JoinSet;

const WRITERS: usize = 32;

/// Sends every request at once and collects the replies, tagged with the request's index.
async fn send_all(requests: Vec<reqwest::RequestBuilder>) -> Vec<(usize, Reply)> {
    let mut in_flight = JoinSet::new();
    for (index, request) in requests.into_iter().enumerate() {
        in_flight.spawn(async move { (index, Reply::send(request).await) });
    }
    let mut replies = Vec::with_capacity(in_flight.len());
    while let Some(reply) = in_flight.join_next().await {
        replies.push(reply.expect("the request task finishes"));
    }
    replies
}

async fn concurrent_updates_at_one_version_have_exactly_one_winner(app: TestApp) {
    let organisation = new_organisation_id();
    let path = payment_path(&app.create_payment(&organisation).await);
    let documents: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let mut document = payment_document(&organisation, &format!("{}.00", writer + 1));
            document["data"]["version"] = json!(0);
            document["data"]["attributes"]["reference"] = json!(format!("writer {writer}"));
            document
        })
        .collect();
    let requests = documents
        .iter()
        .map(|document| app.request(Method::PUT, &path).json(document))
        .collect();

    let replies = send_all(requests).await;

    let winners: Vec<_> = replies
        .iter()
        .filter(|(_, reply)| reply.status == StatusCode::OK)
        .collect();
    assert_eq!(winners.len(), 1, "exactly one writer wins");
    for (_, reply) in replies
        .iter()
        .filter(|(_, reply)| reply.status != StatusCode::OK)
    {
        reply.assert_error(StatusCode::CONFLICT, "version_conflict");
    }
    let (winner, winning_reply) = winners[0];
    let stored = app.get(&path).await;
    assert_eq!(stored.body["data"]["version"], 1);
    assert_eq!(
        stored.body["data"]["attributes"],
        documents[*winner]["data"]["attributes"]
    );
    assert_eq!(stored.body, winning_reply.body);
}

async fn concurrent_updates_in_a_retry_loop_lose_no_update(app: TestApp) {
    const CLIENTS: u64 = 8;
    const UPDATES_EACH: u64 = 5;
    let organisation = new_organisation_id();
    let path = payment_path(&app.create_payment(&organisation).await);
    let mut clients = JoinSet::new();
    for client in 0..CLIENTS {
        let (http, url) = (app.client.clone(), format!("{}{path}", app.base_url));
        let organisation = organisation.clone();
        clients.spawn(async move {
            let mut done = 0;
            while done < UPDATES_EACH {
                let current = Reply::send(http.get(&url)).await;
                let mut document = current.body.clone();
                document["data"]["organisation_id"] = json!(organisation);
                let attributes = &mut document["data"]["attributes"];
                let count = attributes["count"].as_u64().unwrap_or(0);
                attributes["count"] = json!(count + 1);
                attributes[format!("client {client}")] = json!(done);
                document.as_object_mut().unwrap().remove("links");
                let reply = Reply::send(http.put(&url).json(&document)).await;
                match reply.status {
                    StatusCode::OK => done += 1,
                    StatusCode::CONFLICT => {}
                    other => panic!("unexpected {other}: {}", reply.body),
                }
            }
        });
    }
    while let Some(finished) = clients.join_next().await {
        finished.expect("the client finishes");
    }

    let stored = app.get(&path).await;

    let total = CLIENTS * UPDATES_EACH;
    assert_eq!(stored.body["data"]["version"], total);
    assert_eq!(stored.body["data"]["attributes"]["count"], total);
}

async fn concurrent_creates_of_one_client_id_store_it_once(app: TestApp) {
    let mut document = payment_document(&new_organisation_id(), "1.00");
    document["data"]["id"] = json!(domain::PaymentId::generate().to_string());
    let requests = (0..WRITERS)
        .map(|_| app.request(Method::POST, "/v1/payments").json(&document))
        .collect();

    let replies = send_all(requests).await;

    let created = replies
        .iter()
        .filter(|(_, reply)| reply.status == StatusCode::CREATED)
        .count();
    assert_eq!(created, 1, "exactly one create stores the payment");
    let first = &replies[0].1.body;
    for (_, reply) in &replies {
        assert!(
            matches!(reply.status, StatusCode::CREATED | StatusCode::OK),
            "{}",
            reply.body
        );
        assert_eq!(reply.body, *first);
    }
}

async fn concurrent_deletes_at_one_version_delete_once(app: TestApp) {
    let path = payment_path(&app.create_payment(&new_organisation_id()).await);
    let requests = (0..WRITERS)
        .map(|_| app.request(Method::DELETE, &format!("{path}?version=0")))
        .collect();

    let replies = send_all(requests).await;

    let deleted = replies
        .iter()
        .filter(|(_, reply)| reply.status == StatusCode::NO_CONTENT)
        .count();
    assert_eq!(deleted, 1);
    for (_, reply) in replies
        .iter()
        .filter(|(_, r)| r.status != StatusCode::NO_CONTENT)
    {
        reply.assert_error(StatusCode::NOT_FOUND, "not_found");
    }
}

tests::backend_tests!(
    concurrent_updates_at_one_version_have_exactly_one_winner,
    concurrent_updates_in_a_retry_loop_lose_no_update,
    concurrent_creates_of_one_client_id_store_it_once,
    concurrent_deletes_at_one_version_delete_once,
);
