//! `PUT /v1/payments/{id}`: replacement, optimistic concurrency, `If-Match`.

use reqwest::header::IF_MATCH;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tests::requests::{detail_fields, payment_path};
use tests::{new_organisation_id, payment_document, Reply, TestApp};

/// A replacement document at `version` (no version when `None`).
fn replacement(organisation: &str, amount: &str, version: Option<u64>) -> Value {
    let mut document = payment_document(organisation, amount);
    if let Some(version) = version {
        document["data"]["version"] = json!(version);
    }
    document
}

/// Creates a payment and updates it once, so it is stored at version 1.
async fn payment_at_version_1(app: &TestApp, organisation: &str) -> (String, Reply) {
    let path = payment_path(&app.create_payment(organisation).await);
    let updated = app
        .put(&path, &replacement(organisation, "5.00", Some(0)))
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    (path, updated)
}

async fn update_at_current_version_returns_200_with_version_plus_one(app: TestApp) {
    let organisation = new_organisation_id();
    let created = app.create_payment(&organisation).await;
    let path = payment_path(&created);
    let new_owner = new_organisation_id();
    let mut document = replacement(&new_owner, "42.00", Some(0));
    document["data"]["attributes"]["note"] = json!("replaced");

    let reply = app.put(&path, &document).await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.header("etag"), Some("\"1\""));
    let data = &reply.body["data"];
    assert_eq!(data["id"], created["id"]);
    assert_eq!(data["version"], 1);
    assert_eq!(data["organisation_id"], new_owner.as_str());
    assert_eq!(data["attributes"], document["data"]["attributes"]);
    assert_eq!(reply.body["links"]["self"], path.as_str());
    assert_eq!(app.get(&path).await.body, reply.body);
}

async fn update_replaces_attributes_rather_than_merging_them(app: TestApp) {
    let organisation = new_organisation_id();
    let path = payment_path(&app.create_payment(&organisation).await);
    let document = json!({"data": {"version": 0, "organisation_id": organisation,
        "attributes": {"amount": "1.00", "currency": "USD"}}});

    let reply = app.put(&path, &document).await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        app.get(&path).await.body["data"]["attributes"],
        json!({"amount": "1.00", "currency": "USD"})
    );
}

async fn update_with_stale_version_returns_409_and_keeps_payment(app: TestApp) {
    let organisation = new_organisation_id();
    let (path, current) = payment_at_version_1(&app, &organisation).await;

    let reply = app
        .put(&path, &replacement(&organisation, "9.00", Some(0)))
        .await;

    reply.assert_error(StatusCode::CONFLICT, "version_conflict");
    assert_eq!(app.get(&path).await.body, current.body);
}

async fn update_with_version_ahead_of_stored_returns_409(app: TestApp) {
    let organisation = new_organisation_id();
    let path = payment_path(&app.create_payment(&organisation).await);

    let reply = app
        .put(&path, &replacement(&organisation, "9.00", Some(1)))
        .await;

    reply.assert_error(StatusCode::CONFLICT, "version_conflict");
    assert_eq!(app.get(&path).await.body["data"]["version"], 0);
}

async fn update_with_if_match_only_at_current_version_succeeds(app: TestApp) {
    let organisation = new_organisation_id();
    let (path, _) = payment_at_version_1(&app, &organisation).await;

    let reply = app
        .put_if_match(&path, "\"1\"", &replacement(&organisation, "6.00", None))
        .await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["data"]["version"], 2);
}

async fn update_with_if_match_mismatch_returns_412_and_keeps_payment(app: TestApp) {
    let organisation = new_organisation_id();
    let (path, current) = payment_at_version_1(&app, &organisation).await;

    for (if_match, version) in [("\"0\"", None), ("\"0\"", Some(1)), ("\"0\"", Some(0))] {
        let document = replacement(&organisation, "6.00", version);

        let reply = app.put_if_match(&path, if_match, &document).await;

        reply.assert_error(StatusCode::PRECONDITION_FAILED, "precondition_failed");
    }
    assert_eq!(app.get(&path).await.body, current.body);
}

async fn update_with_if_match_current_but_stale_data_version_returns_409(app: TestApp) {
    let organisation = new_organisation_id();
    let (path, current) = payment_at_version_1(&app, &organisation).await;

    let reply = app
        .put_if_match(&path, "\"1\"", &replacement(&organisation, "6.00", Some(0)))
        .await;

    reply.assert_error(StatusCode::CONFLICT, "version_conflict");
    assert_eq!(app.get(&path).await.body, current.body);
}

async fn update_with_matching_if_match_and_data_version_succeeds(app: TestApp) {
    let organisation = new_organisation_id();
    let (path, _) = payment_at_version_1(&app, &organisation).await;

    let reply = app
        .put_if_match(&path, "\"1\"", &replacement(&organisation, "6.00", Some(1)))
        .await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.header("etag"), Some("\"2\""));
}

async fn update_without_version_or_if_match_returns_400(app: TestApp) {
    let organisation = new_organisation_id();
    let path = payment_path(&app.create_payment(&organisation).await);

    for if_match in [None, Some("*")] {
        let mut request =
            app.request(Method::PUT, &path)
                .json(&replacement(&organisation, "6.00", None));
        if let Some(if_match) = if_match {
            request = request.header(IF_MATCH, if_match);
        }
        let reply = Reply::send(request).await;

        let body = reply.assert_error(StatusCode::BAD_REQUEST, "validation_failed");
        assert_eq!(detail_fields(body), ["data.version"], "{body}");
    }
    assert_eq!(app.get(&path).await.body["data"]["version"], 0);
}

async fn update_with_malformed_if_match_returns_400_invalid_header(app: TestApp) {
    let organisation = new_organisation_id();
    let path = payment_path(&app.create_payment(&organisation).await);
    let document = replacement(&organisation, "6.00", Some(0));

    for if_match in ["0", "W/\"0\"", "\"zero\"", "\"-1\"", "\"0\", \"1\"", "\"\""] {
        let reply = app.put_if_match(&path, if_match, &document).await;

        reply.assert_error(StatusCode::BAD_REQUEST, "invalid_header");
    }
    assert_eq!(app.get(&path).await.body["data"]["version"], 0);
}

async fn update_with_two_if_match_headers_is_refused_not_ignored(app: TestApp) {
    let organisation = new_organisation_id();
    let path = payment_path(&app.create_payment(&organisation).await);
    let request = app
        .request(Method::PUT, &path)
        .header(IF_MATCH, "\"7\"")
        .header(IF_MATCH, "\"8\"")
        .json(&replacement(&organisation, "6.00", Some(0)));

    let reply = Reply::send(request).await;

    reply.assert_error(StatusCode::BAD_REQUEST, "invalid_header");
    assert_eq!(app.get(&path).await.body["data"]["version"], 0);
}

async fn update_unknown_id_returns_404(app: TestApp) {
    let organisation = new_organisation_id();
    let path = format!("/v1/payments/{}", domain::PaymentId::generate());

    let by_version = app
        .put(&path, &replacement(&organisation, "1.00", Some(0)))
        .await;
    let by_both = app
        .put_if_match(&path, "\"1\"", &replacement(&organisation, "1.00", Some(0)))
        .await;

    by_version.assert_error(StatusCode::NOT_FOUND, "not_found");
    by_both.assert_error(StatusCode::NOT_FOUND, "not_found");
    app.get(&path)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

async fn update_non_uuid_id_returns_400_invalid_id(app: TestApp) {
    let document = replacement(&new_organisation_id(), "1.00", Some(0));

    let reply = app.put("/v1/payments/not-a-uuid", &document).await;

    reply.assert_error(StatusCode::BAD_REQUEST, "invalid_id");
}

async fn update_with_data_id_other_than_path_id_returns_400_id_mismatch(app: TestApp) {
    let organisation = new_organisation_id();
    let path = payment_path(&app.create_payment(&organisation).await);
    let other = app.create_payment(&organisation).await;
    let mut document = replacement(&organisation, "1.00", Some(0));
    document["data"]["id"] = other["id"].clone();

    let reply = app.put(&path, &document).await;

    reply.assert_error(StatusCode::BAD_REQUEST, "id_mismatch");
    assert_eq!(app.get(&path).await.body["data"]["version"], 0);
    assert_eq!(app.get(&payment_path(&other)).await.body["data"], other);
}

async fn update_with_data_id_equal_to_path_id_succeeds(app: TestApp) {
    let organisation = new_organisation_id();
    let created = app.create_payment(&organisation).await;
    let mut document = replacement(&organisation, "1.00", Some(0));
    document["data"]["id"] = created["id"].clone();

    let reply = app.put(&payment_path(&created), &document).await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

async fn successive_updates_each_raise_the_version_by_one(app: TestApp) {
    let organisation = new_organisation_id();
    let path = payment_path(&app.create_payment(&organisation).await);

    for version in 0..5_u64 {
        let amount = format!("{}.00", version + 1);
        let reply = app
            .put(&path, &replacement(&organisation, &amount, Some(version)))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.body["data"]["version"], version + 1);
        assert_eq!(reply.body["data"]["attributes"]["amount"], amount.as_str());
    }
}

tests::backend_tests!(
    update_at_current_version_returns_200_with_version_plus_one,
    update_replaces_attributes_rather_than_merging_them,
    update_with_stale_version_returns_409_and_keeps_payment,
    update_with_version_ahead_of_stored_returns_409,
    update_with_if_match_only_at_current_version_succeeds,
    update_with_if_match_mismatch_returns_412_and_keeps_payment,
    update_with_if_match_current_but_stale_data_version_returns_409,
    update_with_matching_if_match_and_data_version_succeeds,
    update_without_version_or_if_match_returns_400,
    update_with_malformed_if_match_returns_400_invalid_header,
    update_with_two_if_match_headers_is_refused_not_ignored,
    update_unknown_id_returns_404,
    update_non_uuid_id_returns_400_invalid_id,
    update_with_data_id_other_than_path_id_returns_400_id_mismatch,
    update_with_data_id_equal_to_path_id_succeeds,
    successive_updates_each_raise_the_version_by_one,
);
