//! The seed's singular routes (`/v1/payment[/{id}]`) and the links responses carry.

use reqwest::StatusCode;
use serde_json::json;
use tests::requests::payment_path;
use tests::{new_organisation_id, payment_document, Backend, TestApp};

async fn singular_routes_create_read_update_and_delete_like_the_plural_ones(app: TestApp) {
    let organisation = new_organisation_id();

    let created = app
        .post("/v1/payment", &payment_document(&organisation, "1.00"))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["data"]["id"].as_str().unwrap().to_owned();
    let alias = format!("/v1/payment/{id}");
    assert_eq!(
        created.header("location"),
        Some(&*format!("/v1/payments/{id}"))
    );
    assert_eq!(created.body["data"]["version"], 0);

    let fetched = app.get(&alias).await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.header("etag"), Some("\"0\""));
    assert_eq!(fetched.body, created.body);

    let mut document = payment_document(&organisation, "2.00");
    document["data"]["version"] = json!(0);
    let updated = app.put(&alias, &document).await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(updated.body["data"]["version"], 1);
    app.put(&alias, &document)
        .await
        .assert_error(StatusCode::CONFLICT, "version_conflict");
    assert_eq!(
        app.get(&format!("/v1/payments/{id}")).await.body,
        updated.body
    );

    app.delete(&format!("{alias}?version=0"))
        .await
        .assert_error(StatusCode::CONFLICT, "version_conflict");
    assert_eq!(app.delete(&alias).await.status, StatusCode::NO_CONTENT);
    app.get(&alias)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

async fn singular_create_retries_like_the_plural_one(app: TestApp) {
    let mut document = payment_document(&new_organisation_id(), "1.00");
    document["data"]["id"] = json!(domain::PaymentId::generate().to_string());
    let created = app.post("/v1/payments", &document).await;

    let retried = app.post("/v1/payment", &document).await;
    document["data"]["attributes"]["amount"] = json!("2.00");
    let conflicting = app.post("/v1/payment", &document).await;

    assert_eq!(retried.status, StatusCode::OK, "{}", retried.body);
    assert_eq!(retried.body, created.body);
    conflicting.assert_error(StatusCode::CONFLICT, "payment_exists");
}

async fn singular_routes_refuse_bad_ids_and_unknown_payments(app: TestApp) {
    let unknown = format!("/v1/payment/{}", domain::PaymentId::generate());
    let mut document = payment_document(&new_organisation_id(), "1.00");
    document["data"]["version"] = json!(0);

    app.get("/v1/payment/nope")
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_id");
    app.put("/v1/payment/nope", &document)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_id");
    app.delete("/v1/payment/nope")
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_id");
    app.get(&unknown)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.put(&unknown, &document)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.delete(&unknown)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

async fn links_are_path_absolute_by_default(app: TestApp) {
    let organisation = new_organisation_id();
    let created = app.create_payment(&organisation).await;
    let path = payment_path(&created);
    app.create_payment(&organisation).await;

    let fetched = app.get(&path).await;
    let page = app
        .get(&format!(
            "/v1/payments?filter[organisation_id]={organisation}&page[size]=1"
        ))
        .await;

    assert_eq!(fetched.body["links"]["self"], path.as_str());
    let self_link = page.body["links"]["self"].as_str().unwrap();
    let next = page.body["links"]["next"].as_str().unwrap();
    assert_eq!(
        self_link,
        format!("/v1/payments?filter%5Borganisation_id%5D={organisation}&page%5Bsize%5D=1")
    );
    let id = created["id"].as_str().unwrap();
    assert_eq!(
        next,
        format!(
            "/v1/payments?filter%5Borganisation_id%5D={organisation}&page%5Bsize%5D=1&page%5Bafter%5D={id}"
        )
    );
    // The links work as they are.
    assert_eq!(app.get(self_link).await.body, page.body);
    assert_eq!(app.get(next).await.status, StatusCode::OK);
}

/// `--public-base-url` only changes how links are written, whatever the storage, so this runs
/// on the in-memory backend alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_and_location_are_prefixed_with_the_public_base_url() {
    let base = "https://api.example.com/payments-api";
    let app = TestApp::spawn_with(Backend::Memory, |config| {
        // A trailing slash must not double up in the links.
        config.public_base_url = Some(format!("{base}/"));
    })
    .await;
    let organisation = new_organisation_id();

    let created = app
        .post("/v1/payments", &payment_document(&organisation, "1.00"))
        .await;
    app.create_payment(&organisation).await;
    let id = created.body["data"]["id"].as_str().unwrap();
    let page = app
        .get(&format!(
            "/v1/payments?filter[organisation_id]={organisation}&page[size]=1"
        ))
        .await;

    let own = format!("{base}/v1/payments/{id}");
    assert_eq!(created.header("location"), Some(own.as_str()));
    assert_eq!(created.body["links"]["self"], own.as_str());
    assert_eq!(
        app.get(&format!("/v1/payments/{id}")).await.body["links"]["self"],
        own.as_str()
    );
    let self_link = page.body["links"]["self"].as_str().unwrap();
    let next = page.body["links"]["next"].as_str().unwrap();
    assert!(
        self_link.starts_with(&format!("{base}/v1/payments?")),
        "{self_link}"
    );
    assert!(next.starts_with(&format!("{base}/v1/payments?")), "{next}");
    assert!(next.ends_with(&format!("page%5Bafter%5D={id}")), "{next}");
    // Behind the proxy the same path and query reach this server.
    let next_page = app.get(&next[base.len()..]).await;
    assert_eq!(next_page.status, StatusCode::OK);
    assert_eq!(next_page.body["links"]["self"], next);
}

tests::backend_tests!(
    singular_routes_create_read_update_and_delete_like_the_plural_ones,
    singular_create_retries_like_the_plural_one,
    singular_routes_refuse_bad_ids_and_unknown_payments,
    links_are_path_absolute_by_default,
);
