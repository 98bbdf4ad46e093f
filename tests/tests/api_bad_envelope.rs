//! Invalid request envelopes: every refusal is 400 `validation_failed` naming each bad field of
//! `data`, on create and on update alike, and nothing is written.

use serde_json::json;
use tests::requests::{assert_refused, document_with, without};
use tests::{new_organisation_id, payment_document, TestApp};

async fn document_that_is_not_a_data_envelope_returns_400(app: TestApp) {
    let target = app.create_payment(&new_organisation_id()).await;
    let valid = payment_document(&new_organisation_id(), "1.00");
    let mut extra = valid.clone();
    extra["links"] = json!({});
    for (document, field) in [
        (json!([]), ""),
        (json!("payment"), ""),
        (json!({}), "data"),
        (json!({"data": 1}), "data"),
        (json!({"data": [valid["data"].clone()]}), "data"),
        (extra, ""),
    ] {
        assert_refused(&app, &target, &document, &[field]).await;
    }
}

async fn missing_or_invalid_organisation_id_returns_400(app: TestApp) {
    let target = app.create_payment(&new_organisation_id()).await;
    let missing = document_with(|d| without(d, "/data", "organisation_id"));
    assert_refused(&app, &target, &missing, &["data.organisation_id"]).await;
    for value in [
        json!("not-a-uuid"),
        json!(""),
        json!(42),
        json!(null),
        json!({}),
    ] {
        let document = document_with(|d| d["data"]["organisation_id"] = value);
        assert_refused(&app, &target, &document, &["data.organisation_id"]).await;
    }
}

async fn missing_or_non_object_attributes_return_400(app: TestApp) {
    let target = app.create_payment(&new_organisation_id()).await;
    let missing = document_with(|d| without(d, "/data", "attributes"));
    assert_refused(&app, &target, &missing, &["data.attributes"]).await;
    for value in [json!("text"), json!([]), json!(null), json!(1)] {
        let document = document_with(|d| d["data"]["attributes"] = value);
        assert_refused(&app, &target, &document, &["data.attributes"]).await;
    }
}

async fn type_other_than_payments_returns_400(app: TestApp) {
    let target = app.create_payment(&new_organisation_id()).await;
    for value in [json!("payment"), json!("Payments"), json!(""), json!(7)] {
        let document = document_with(|d| d["data"]["type"] = value);
        assert_refused(&app, &target, &document, &["data.type"]).await;
    }
}

async fn invalid_id_version_or_unknown_data_field_returns_400(app: TestApp) {
    let target = app.create_payment(&new_organisation_id()).await;
    for (field, value) in [
        ("id", json!("nope")),
        ("id", json!(5)),
        ("version", json!("0")),
        ("version", json!(-1)),
        ("version", json!(1.5)),
    ] {
        let document = document_with(|d| d["data"][field] = value);
        let path = format!("data.{field}");
        assert_refused(&app, &target, &document, &[&path]).await;
    }
    let unknown = document_with(|d| d["data"]["amount"] = json!("1.00"));
    assert_refused(&app, &target, &unknown, &["data.amount"]).await;
}

async fn every_broken_rule_is_reported_at_once(app: TestApp) {
    let target = app.create_payment(&new_organisation_id()).await;
    let document = document_with(|d| {
        without(d, "/data", "organisation_id");
        d["data"]["type"] = json!("payment");
        d["data"]["attributes"]["amount"] = json!("-1");
        d["data"]["attributes"]["currency"] = json!("XYZ");
        d["data"]["attributes"]["processing_date"] = json!("2026-02-30");
    });

    let fields = [
        "data.attributes.amount",
        "data.attributes.currency",
        "data.attributes.processing_date",
        "data.organisation_id",
        "data.type",
    ];
    assert_refused(&app, &target, &document, &fields).await;
}

tests::backend_tests!(
    document_that_is_not_a_data_envelope_returns_400,
    missing_or_invalid_organisation_id_returns_400,
    missing_or_non_object_attributes_return_400,
    type_other_than_payments_returns_400,
    invalid_id_version_or_unknown_data_field_returns_400,
    every_broken_rule_is_reported_at_once,
);
