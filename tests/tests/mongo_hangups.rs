//! Clients that hang up mid-request must not hurt the ones that follow: the MongoDB operation a
//! dropped request started runs to its end in the background instead of being dropped halfway.
//!
//! A driver operation dropped mid-command leaves its pooled connection unusable; after 64
//! clients hung up at once, the server answered 503 to everything for about 20 seconds while a
//! second server on the same database answered at once (docs/benchmarks/README.md).

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tests::mongo::TestDatabase;
use tests::requests::payment_path;
use tests::{new_organisation_id, payment_document, Backend, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_after_many_clients_hung_up_are_answered_at_once() {
    let database = TestDatabase::create().await;
    let app = TestApp::spawn(Backend::Mongo(database.clone())).await;
    let created = app
        .post(
            "/v1/payments",
            &payment_document(&new_organisation_id(), "1.00"),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let path = payment_path(&created.body["data"]);
    let url = format!("{}{path}", app.base_url);

    for _ in 0..3 {
        // 64 clients each ask and hang up before most answers can arrive.
        let hangups: Vec<_> = (0..64)
            .map(|_| {
                let url = url.clone();
                tokio::spawn(async move {
                    let client = reqwest::Client::new();
                    let _ = tokio::time::timeout(Duration::from_millis(2), client.get(&url).send())
                        .await;
                })
            })
            .collect();
        for hangup in hangups {
            hangup.await.expect("the client task ends");
        }

        let started = Instant::now();
        let reply = app.get(&path).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert!(
            started.elapsed() < Duration::from_millis(1500),
            "the next request took {:?}",
            started.elapsed()
        );
    }
}
