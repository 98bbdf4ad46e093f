//! What MongoDB holds, looked at behind the server's back: the documented layout, the index,
//! and documents damaged by someone else.

use std::time::Duration;

use mongodb::bson::{doc, Bson, DateTime, Document};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tests::mongo::TestDatabase;
use tests::requests::payment_path;
use tests::{eventually, new_organisation_id, payment_document, Backend, TestApp};

async fn app_on(database: &std::sync::Arc<TestDatabase>) -> TestApp {
    TestApp::spawn(Backend::Mongo(database.clone())).await
}

async fn stored(database: &TestDatabase, payment: &Value) -> Document {
    database
        .payments()
        .await
        .find_one(doc! {"_id": payment["id"].as_str().unwrap()})
        .await
        .unwrap()
        .expect("the payment is stored")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payments_are_stored_in_the_documented_layout() {
    let database = TestDatabase::create().await;
    let app = app_on(&database).await;
    let organisation = new_organisation_id();
    let mut document = payment_document(&organisation, "10.00");
    document["data"]["attributes"]["numbers"] = json!({"integer": 5, "float": 2.0});
    let created = app.post("/v1/payments", &document).await.body["data"].clone();

    let first = stored(&database, &created).await;
    let mut update = document.clone();
    update["data"]["version"] = json!(0);
    tokio::time::sleep(Duration::from_millis(5)).await;
    app.put(&payment_path(&created), &update).await;
    let second = stored(&database, &created).await;

    assert_eq!(first.get_str("_id").unwrap(), created["id"]);
    assert_eq!(first.get("version"), Some(&Bson::Int64(0)));
    assert_eq!(first.get_str("organisation_id").unwrap(), organisation);
    let numbers = first
        .get_document("attributes")
        .unwrap()
        .get_document("numbers")
        .unwrap();
    assert_eq!(numbers.get("integer"), Some(&Bson::Int64(5)));
    assert_eq!(numbers.get("float"), Some(&Bson::Double(2.0)));
    let created_at = *first.get_datetime("created_at").unwrap();
    assert_eq!(first.get_datetime("updated_at").unwrap(), &created_at);
    assert_eq!(second.get("version"), Some(&Bson::Int64(1)));
    assert_eq!(second.get_datetime("created_at").unwrap(), &created_at);
    assert!(*second.get_datetime("updated_at").unwrap() > created_at);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_creates_the_listing_index_by_itself() {
    let database = TestDatabase::create().await;
    let app = app_on(&database).await;
    let payments = database.payments().await;
    let organisation = new_organisation_id();
    app.create_payment(&organisation).await;

    eventually("the index exists", Duration::from_secs(10), || async {
        // The first insert creates the collection; a later call creates the index on it.
        app.get(&format!(
            "/v1/payments?filter[organisation_id]={organisation}"
        ))
        .await;
        let names = payments.list_index_names().await.ok()?;
        names
            .contains(&"organisation_id_1__id_1".to_owned())
            .then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_document_that_is_no_longer_a_payment_is_a_500_that_reveals_nothing() {
    let database = TestDatabase::create().await;
    let app = app_on(&database).await;
    let organisation = new_organisation_id();
    let healthy = app.create_payment(&new_organisation_id()).await;
    let damages = [
        doc! {"$set": {"attributes.amount": DateTime::now()}},
        doc! {"$set": {"version": "seven"}},
        doc! {"$unset": {"attributes.currency": ""}},
    ];
    let payments = database.payments().await;

    for damage in damages {
        let victim = app.create_payment(&organisation).await;
        payments
            .update_one(doc! {"_id": victim["id"].as_str().unwrap()}, damage.clone())
            .await
            .unwrap();

        let fetched = app.get(&payment_path(&victim)).await;
        let listed = app
            .get(&format!(
                "/v1/payments?filter[organisation_id]={organisation}"
            ))
            .await;

        for reply in [fetched, listed] {
            let body = reply.assert_error(StatusCode::INTERNAL_SERVER_ERROR, "internal_error");
            let message = body["error_message"].as_str().unwrap();
            for internal in ["attributes", "version", "currency", "BSON", "Mongo"] {
                assert!(!message.contains(internal), "{damage}: {message}");
            }
        }
        payments
            .delete_one(doc! {"_id": victim["id"].as_str().unwrap()})
            .await
            .unwrap();
    }
    assert_eq!(
        app.get(&payment_path(&healthy)).await.status,
        StatusCode::OK
    );
}
