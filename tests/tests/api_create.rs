//! `POST /v1/payments`: creation, server ids, version 0 and idempotent retries.

use reqwest::{Method, StatusCode};
use serde_json::json;
use tests::requests::payment_path;
use tests::{new_organisation_id, payment_document, TestApp};

async fn create_returns_201_with_location_etag_and_server_generated_uuid_v7(app: TestApp) {
    let organisation = new_organisation_id();
    let document = payment_document(&organisation, "100.21");

    let reply = app.post("/v1/payments", &document).await;

    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let data = &reply.body["data"];
    let id = data["id"].as_str().expect("an id");
    assert_eq!(uuid_version(id), 7, "server ids are UUIDv7: {id}");
    assert_eq!(
        reply.header("location"),
        Some(&*format!("/v1/payments/{id}"))
    );
    assert_eq!(reply.header("etag"), Some("\"0\""));
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(data["type"], "payments");
    assert_eq!(data["version"], 0);
    assert_eq!(data["organisation_id"], organisation.as_str());
    assert_eq!(data["attributes"], document["data"]["attributes"]);
    assert_eq!(reply.body["links"]["self"], format!("/v1/payments/{id}"));
}

async fn created_payment_is_readable_at_its_location(app: TestApp) {
    let reply = app
        .post(
            "/v1/payments",
            &payment_document(&new_organisation_id(), "7.5"),
        )
        .await;
    let location = reply.header("location").expect("a Location header");

    let fetched = app.get(location).await;

    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.body, reply.body);
}

async fn server_ids_differ_and_increase_between_creates(app: TestApp) {
    let organisation = new_organisation_id();
    let first = app.create_payment(&organisation).await;
    let second = app.create_payment(&organisation).await;

    let (first, second) = (first["id"].as_str(), second["id"].as_str());
    assert!(first < second, "{first:?} then {second:?}");
}

async fn create_stores_version_0_whatever_version_the_client_sends(app: TestApp) {
    for sent in [json!(0), json!(5), json!(9_000_000_000_i64)] {
        let mut document = payment_document(&new_organisation_id(), "1.00");
        document["data"]["version"] = sent.clone();

        let reply = app.post("/v1/payments", &document).await;

        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        assert_eq!(reply.body["data"]["version"], 0, "sent {sent}");
        assert_eq!(reply.header("etag"), Some("\"0\""));
        let stored = app.get(&payment_path(&reply.body["data"])).await;
        assert_eq!(stored.body["data"]["version"], 0);
    }
}

async fn create_with_client_id_stores_the_payment_under_that_id(app: TestApp) {
    let id = client_id();
    let mut document = payment_document(&new_organisation_id(), "1.00");
    document["data"]["id"] = json!(id);

    let reply = app.post("/v1/payments", &document).await;

    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.body["data"]["id"], id.as_str());
    assert_eq!(
        reply.header("location"),
        Some(&*format!("/v1/payments/{id}"))
    );
    assert_eq!(
        app.get(&format!("/v1/payments/{id}")).await.status,
        StatusCode::OK
    );
}

async fn retry_with_same_client_id_and_content_returns_200_with_stored_payment(app: TestApp) {
    let mut document = payment_document(&new_organisation_id(), "1.00");
    document["data"]["id"] = json!(client_id());
    let created = app.post("/v1/payments", &document).await;
    assert_eq!(created.status, StatusCode::CREATED);

    // A retry may carry another version and may omit `type`: neither is content.
    document["data"]["version"] = json!(3);
    document["data"]
        .as_object_mut()
        .map(|data| data.remove("type"));
    let retried = app.post("/v1/payments", &document).await;

    assert_eq!(retried.status, StatusCode::OK, "{}", retried.body);
    assert_eq!(retried.body, created.body);
    assert_eq!(retried.header("etag"), Some("\"0\""));
}

async fn retry_with_same_content_in_another_key_order_returns_200(app: TestApp) {
    let id = client_id();
    let organisation = new_organisation_id();
    let ordered = format!(
        r#"{{"data": {{"id": "{id}", "organisation_id": "{organisation}",
            "attributes": {{"amount": "10.00", "currency": "EUR", "party": {{"a": 1, "b": [1, 2]}}}}}}}}"#
    );
    let shuffled = format!(
        r#"{{"data": {{"attributes": {{"party": {{"b": [1, 2], "a": 1}}, "currency": "EUR", "amount": "10.00"}},
            "organisation_id": "{organisation}", "id": "{id}"}}}}"#
    );
    let json = Some("application/json");
    let created = app
        .send_raw(Method::POST, "/v1/payments", json, ordered)
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);

    let retried = app
        .send_raw(Method::POST, "/v1/payments", json, shuffled)
        .await;

    assert_eq!(retried.status, StatusCode::OK, "{}", retried.body);
    assert_eq!(retried.body, created.body);
}

async fn retry_with_same_client_id_and_other_attributes_returns_409_and_keeps_payment(
    app: TestApp,
) {
    let id = client_id();
    let organisation = new_organisation_id();
    let mut document = payment_document(&organisation, "1.00");
    document["data"]["id"] = json!(id);
    let created = app.post("/v1/payments", &document).await;
    assert_eq!(created.status, StatusCode::CREATED);

    let mut other = payment_document(&organisation, "2.00");
    other["data"]["id"] = json!(id);
    let reply = app.post("/v1/payments", &other).await;

    let body = reply.assert_error(StatusCode::CONFLICT, "payment_exists");
    assert!(
        body["error_message"].as_str().unwrap().contains(&id),
        "{body}"
    );
    let stored = app.get(&format!("/v1/payments/{id}")).await;
    assert_eq!(stored.body, created.body);
}

async fn retry_with_same_client_id_and_other_organisation_returns_409(app: TestApp) {
    let id = client_id();
    let mut document = payment_document(&new_organisation_id(), "1.00");
    document["data"]["id"] = json!(id);
    assert_eq!(
        app.post("/v1/payments", &document).await.status,
        StatusCode::CREATED
    );

    document["data"]["organisation_id"] = json!(new_organisation_id());
    let reply = app.post("/v1/payments", &document).await;

    reply.assert_error(StatusCode::CONFLICT, "payment_exists");
}

async fn retry_of_the_original_content_after_an_update_returns_409(app: TestApp) {
    let id = client_id();
    let organisation = new_organisation_id();
    let mut original = payment_document(&organisation, "1.00");
    original["data"]["id"] = json!(id);
    assert_eq!(
        app.post("/v1/payments", &original).await.status,
        StatusCode::CREATED
    );
    let mut update = payment_document(&organisation, "3.00");
    update["data"]["version"] = json!(0);
    assert_eq!(
        app.put(&format!("/v1/payments/{id}"), &update).await.status,
        StatusCode::OK
    );

    let reply = app.post("/v1/payments", &original).await;

    reply.assert_error(StatusCode::CONFLICT, "payment_exists");
}

/// A fresh client-chosen id that is not a UUIDv7, so the server cannot rely on ids being v7.
fn client_id() -> String {
    let time_ordered = domain::PaymentId::generate().to_string();
    // Rewrite the version nibble: a v4-shaped UUID, still unique per call.
    format!("{}4{}", &time_ordered[..14], &time_ordered[15..])
}

/// The version nibble of a hyphenated UUID.
fn uuid_version(id: &str) -> u32 {
    assert_eq!(id.len(), 36, "{id} is a hyphenated UUID");
    id[14..15].parse::<u32>().expect("a version digit")
}

tests::backend_tests!(
    create_returns_201_with_location_etag_and_server_generated_uuid_v7,
    created_payment_is_readable_at_its_location,
    server_ids_differ_and_increase_between_creates,
    create_stores_version_0_whatever_version_the_client_sends,
    create_with_client_id_stores_the_payment_under_that_id,
    retry_with_same_client_id_and_content_returns_200_with_stored_payment,
    retry_with_same_content_in_another_key_order_returns_200,
    retry_with_same_client_id_and_other_attributes_returns_409_and_keeps_payment,
    retry_with_same_client_id_and_other_organisation_returns_409,
    retry_of_the_original_content_after_an_update_returns_409,
);
