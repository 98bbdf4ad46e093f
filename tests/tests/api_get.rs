//! `GET /v1/payments/{id}`.

use reqwest::StatusCode;
use tests::requests::payment_path;
use tests::{new_organisation_id, TestApp};

async fn get_returns_200_with_the_payment_its_etag_and_self_link(app: TestApp) {
    let organisation = new_organisation_id();
    let created = app.create_payment(&organisation).await;
    let path = payment_path(&created);

    let reply = app.get(&path).await;

    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("etag"), Some("\"0\""));
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.body["data"], created);
    assert_eq!(reply.body["links"]["self"], path.as_str());
    assert_eq!(reply.body["data"]["organisation_id"], organisation.as_str());
}

async fn get_etag_follows_the_version_after_updates(app: TestApp) {
    let organisation = new_organisation_id();
    let path = payment_path(&app.create_payment(&organisation).await);
    for version in 0..2 {
        let mut document = tests::payment_document(&organisation, "2.00");
        document["data"]["version"] = version.into();
        assert_eq!(app.put(&path, &document).await.status, StatusCode::OK);
    }

    let reply = app.get(&path).await;

    assert_eq!(reply.header("etag"), Some("\"2\""));
    assert_eq!(reply.body["data"]["version"], 2);
}

async fn get_accepts_an_upper_case_id_and_answers_with_the_canonical_one(app: TestApp) {
    let created = app.create_payment(&new_organisation_id()).await;
    let id = created["id"].as_str().unwrap();

    let reply = app
        .get(&format!("/v1/payments/{}", id.to_uppercase()))
        .await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["data"]["id"], id);
}

async fn get_unknown_id_returns_404_not_found(app: TestApp) {
    let id = domain::PaymentId::generate();

    let reply = app.get(&format!("/v1/payments/{id}")).await;

    let body = reply.assert_error(StatusCode::NOT_FOUND, "not_found");
    assert!(body["error_message"]
        .as_str()
        .unwrap()
        .contains(&id.to_string()));
}

async fn get_non_uuid_id_returns_400_invalid_id(app: TestApp) {
    for id in [
        "not-a-uuid",
        "123",
        "4ee3a8d8-ca7b-4290-a52c-dd5b6165ec4",
        "%20",
    ] {
        let reply = app.get(&format!("/v1/payments/{id}")).await;

        reply.assert_error(StatusCode::BAD_REQUEST, "invalid_id");
    }
}

async fn get_deleted_payment_returns_404(app: TestApp) {
    let path = payment_path(&app.create_payment(&new_organisation_id()).await);
    assert_eq!(app.delete(&path).await.status, StatusCode::NO_CONTENT);

    app.get(&path)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

tests::backend_tests!(
    get_returns_200_with_the_payment_its_etag_and_self_link,
    get_etag_follows_the_version_after_updates,
    get_accepts_an_upper_case_id_and_answers_with_the_canonical_one,
    get_unknown_id_returns_404_not_found,
    get_non_uuid_id_returns_400_invalid_id,
    get_deleted_payment_returns_404,
);
