//! Invalid payment documents: every refusal is 400 `validation_failed` naming each bad field,
//! on create and on update alike, and nothing is written.

use reqwest::StatusCode;
use serde_json::{json, Value};
use tests::requests::{detail_fields, payment_path};
use tests::{new_organisation_id, payment_document, TestApp};

/// POSTs `document` and PUTs it (at version 0) over `target`; both must be refused with 400
/// `validation_failed` whose details name exactly `fields` (in any order), and `target` must be
/// unchanged.
async fn assert_refused(app: &TestApp, target: &Value, document: &Value, fields: &[&str]) {
    let created = app.post("/v1/payments", document).await;
    let mut update = document.clone();
    if let Some(data) = update.get_mut("data").and_then(Value::as_object_mut) {
        data.entry("version").or_insert(json!(0));
    }
    let updated = app.put(&payment_path(target), &update).await;

    let mut expected = fields.to_vec();
    expected.sort_unstable();
    for (method, reply) in [("POST", created), ("PUT", updated)] {
        let body = reply.assert_error(StatusCode::BAD_REQUEST, "validation_failed");
        let mut refused = detail_fields(body);
        refused.sort_unstable();
        assert_eq!(refused, expected, "{method} {document}: {body}");
        for detail in body["details"].as_array().unwrap() {
            assert!(
                detail["message"].as_str().is_some_and(|m| !m.is_empty()),
                "{body}"
            );
        }
    }
    assert_eq!(app.get(&payment_path(target)).await.body["data"], *target);
}

/// A valid document for a fresh organisation with `change` applied to it.
fn document_with(change: impl FnOnce(&mut Value)) -> Value {
    let mut document = payment_document(&new_organisation_id(), "1.00");
    change(&mut document);
    document
}

/// A valid document whose attribute `name` is `value`.
fn with_attribute(name: &str, value: Value) -> Value {
    document_with(|document| document["data"]["attributes"][name] = value)
}

fn without(document: &mut Value, pointer_parent: &str, key: &str) {
    let parent = document
        .pointer_mut(pointer_parent)
        .expect("the parent exists");
    parent.as_object_mut().expect("an object").remove(key);
}

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

async fn amount_that_is_not_a_positive_decimal_string_returns_400(app: TestApp) {
    let target = app.create_payment(&new_organisation_id()).await;
    let missing = document_with(|d| without(d, "/data/attributes", "amount"));
    assert_refused(&app, &target, &missing, &["data.attributes.amount"]).await;
    for amount in [
        json!(100.21),
        json!(100),
        json!(null),
        json!(["1.00"]),
        json!("-1.00"),
        json!("0"),
        json!("0.00"),
        json!("1.001"),
        json!("1e3"),
        json!("abc"),
        json!(""),
        json!(" 1"),
        json!("1."),
        json!(".5"),
        json!("+1"),
        json!("1,00"),
        json!("１"),
        json!("NaN"),
    ] {
        let document = with_attribute("amount", amount);
        assert_refused(&app, &target, &document, &["data.attributes.amount"]).await;
    }
}

async fn amount_longer_than_20_characters_returns_400_and_20_is_accepted(app: TestApp) {
    let target = app.create_payment(&new_organisation_id()).await;
    let document = |amount: &str| {
        document_with(|d| {
            d["data"]["attributes"]["amount"] = json!(amount);
            d["data"]["attributes"]["payment_scheme"] = json!("SWIFT");
        })
    };
    let longest = "12345678901234567.89";
    assert_eq!(longest.len(), 20);

    let accepted = app.post("/v1/payments", &document(longest)).await;

    assert_eq!(accepted.status, StatusCode::CREATED, "{}", accepted.body);
    assert_eq!(accepted.body["data"]["attributes"]["amount"], longest);
    for too_long in ["123456789012345678.90", "000000000000000000001"] {
        assert_refused(
            &app,
            &target,
            &document(too_long),
            &["data.attributes.amount"],
        )
        .await;
    }
}

async fn currency_that_is_not_iso_4217_returns_400(app: TestApp) {
    let target = app.create_payment(&new_organisation_id()).await;
    let missing = document_with(|d| without(d, "/data/attributes", "currency"));
    assert_refused(&app, &target, &missing, &["data.attributes.currency"]).await;
    for currency in [
        json!("gbp"),
        json!("XYZ"),
        json!("GB"),
        json!("GBPP"),
        json!(""),
        json!(826),
        json!(null),
    ] {
        let document = with_attribute("currency", currency);
        assert_refused(&app, &target, &document, &["data.attributes.currency"]).await;
    }
    for currency in ["EUR", "USD", "JPY", "CHF"] {
        let reply = app
            .post("/v1/payments", &with_attribute("currency", json!(currency)))
            .await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "{currency}: {}",
            reply.body
        );
    }
}

async fn dates_that_are_not_real_yyyy_mm_dd_return_400(app: TestApp) {
    let target = app.create_payment(&new_organisation_id()).await;
    for date in [
        json!("2026-02-30"),
        json!("2023-02-29"),
        json!("2026-13-01"),
        json!("2026-00-10"),
        json!("26-11-2026"),
        json!("2026/11/26"),
        json!("2026-11-26T00:00:00Z"),
        json!("2026-1-1"),
        json!(20261126),
        json!(""),
    ] {
        let document = with_attribute("processing_date", date);
        assert_refused(
            &app,
            &target,
            &document,
            &["data.attributes.processing_date"],
        )
        .await;
    }
    let nested = [
        (
            "/data/attributes/debtor_party",
            "birth_date",
            "data.attributes.debtor_party.birth_date",
        ),
        (
            "/data/attributes/beneficiary_party",
            "date_of_birth",
            "data.attributes.beneficiary_party.date_of_birth",
        ),
    ];
    for (parent, key, field) in nested {
        let document = document_with(|d| {
            d.pointer_mut(parent).unwrap()[key] = json!("2001-02-29");
        });
        assert_refused(&app, &target, &document, &[field]).await;
    }
    let in_array = with_attribute("parties", json!([{"birth_date": "1990-04-31"}]));
    assert_refused(
        &app,
        &target,
        &in_array,
        &["data.attributes.parties[0].birth_date"],
    )
    .await;
}

async fn real_dates_are_accepted(app: TestApp) {
    let document = document_with(|d| {
        d["data"]["attributes"]["processing_date"] = json!("2024-02-29");
        d["data"]["attributes"]["debtor_party"]["birth_date"] = json!("2000-02-29");
        d["data"]["attributes"]["beneficiary_party"]["date_of_birth"] = json!("1999-12-31");
    });

    let reply = app.post("/v1/payments", &document).await;

    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
}

async fn amounts_above_the_scheme_limit_return_400_and_the_limit_is_accepted(app: TestApp) {
    let target = app.create_payment(&new_organisation_id()).await;
    let document = |scheme: &str, amount: &str| {
        document_with(|d| {
            d["data"]["attributes"]["payment_scheme"] = json!(scheme);
            d["data"]["attributes"]["amount"] = json!(amount);
        })
    };
    for (scheme, amount) in [
        ("FPS", "250000.00"),
        ("FPS", "250000"),
        ("Bacs", "20000000.00"),
        ("Bacs", "250000.01"),
        ("SWIFT", "20000000.01"),
    ] {
        let reply = app.post("/v1/payments", &document(scheme, amount)).await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "{scheme} {amount}: {}",
            reply.body
        );
    }
    for (scheme, amount) in [
        ("FPS", "250000.01"),
        ("FPS", "250001"),
        ("fps", "250000.1"),
        ("Bacs", "20000000.01"),
        ("BACS", "30000000"),
    ] {
        let refused = document(scheme, amount);
        assert_refused(&app, &target, &refused, &["data.attributes.amount"]).await;
    }
    let not_text = with_attribute("payment_scheme", json!(5));
    assert_refused(
        &app,
        &target,
        &not_text,
        &["data.attributes.payment_scheme"],
    )
    .await;
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
    amount_that_is_not_a_positive_decimal_string_returns_400,
    amount_longer_than_20_characters_returns_400_and_20_is_accepted,
    currency_that_is_not_iso_4217_returns_400,
    dates_that_are_not_real_yyyy_mm_dd_return_400,
    real_dates_are_accepted,
    amounts_above_the_scheme_limit_return_400_and_the_limit_is_accepted,
    every_broken_rule_is_reported_at_once,
);
