//! `DELETE /v1/payments/{id}[?version=N]`.

use reqwest::StatusCode;
use serde_json::{json, Value};
use tests::requests::payment_path;
use tests::{new_organisation_id, payment_document, TestApp};

async fn delete_returns_204_with_empty_body_and_the_payment_is_gone(app: TestApp) {
    let path = payment_path(&app.create_payment(&new_organisation_id()).await);

    let reply = app.delete(&path).await;

    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(reply.body, Value::Null);
    app.get(&path)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

async fn delete_at_the_stored_version_returns_204(app: TestApp) {
    let organisation = new_organisation_id();
    let path = payment_path(&app.create_payment(&organisation).await);
    let mut document = payment_document(&organisation, "3.00");
    document["data"]["version"] = json!(0);
    assert_eq!(app.put(&path, &document).await.status, StatusCode::OK);

    let reply = app.delete(&format!("{path}?version=1")).await;

    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    assert_eq!(app.get(&path).await.status, StatusCode::NOT_FOUND);
}

async fn delete_at_a_stale_version_returns_409_and_keeps_payment(app: TestApp) {
    let created = app.create_payment(&new_organisation_id()).await;
    let path = payment_path(&created);

    for stale in [1, 7] {
        let reply = app.delete(&format!("{path}?version={stale}")).await;

        reply.assert_error(StatusCode::CONFLICT, "version_conflict");
    }
    assert_eq!(app.get(&path).await.body["data"], created);
}

async fn delete_unknown_id_returns_404(app: TestApp) {
    let path = format!("/v1/payments/{}", domain::PaymentId::generate());

    app.delete(&path)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.delete(&format!("{path}?version=0"))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

async fn deleting_twice_returns_404_the_second_time(app: TestApp) {
    let path = payment_path(&app.create_payment(&new_organisation_id()).await);
    assert_eq!(app.delete(&path).await.status, StatusCode::NO_CONTENT);

    app.delete(&path)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

async fn delete_non_uuid_id_returns_400_invalid_id(app: TestApp) {
    app.delete("/v1/payments/not-a-uuid")
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_id");
}

async fn delete_with_malformed_version_returns_400_and_keeps_payment(app: TestApp) {
    let path = payment_path(&app.create_payment(&new_organisation_id()).await);

    for query in [
        "version=abc",
        "version=-1",
        "version=",
        "version=1.0",
        "version=9223372036854775808",
        "version=0&version=0",
        "colour=red",
    ] {
        let reply = app.delete(&format!("{path}?{query}")).await;

        reply.assert_error(StatusCode::BAD_REQUEST, "invalid_query");
    }
    assert_eq!(app.get(&path).await.status, StatusCode::OK);
}

tests::backend_tests!(
    delete_returns_204_with_empty_body_and_the_payment_is_gone,
    delete_at_the_stored_version_returns_204,
    delete_at_a_stale_version_returns_409_and_keeps_payment,
    delete_unknown_id_returns_404,
    deleting_twice_returns_404_the_second_time,
    delete_non_uuid_id_returns_400_invalid_id,
    delete_with_malformed_version_returns_400_and_keeps_payment,
);
