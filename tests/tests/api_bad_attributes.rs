//! Invalid attributes (amount, currency and its minor unit, dates, scheme limits): every refusal
//! is 400 `validation_failed` naming each bad field, on create and on update alike, and nothing
//! is written; the limits themselves are accepted.

use reqwest::StatusCode;
use serde_json::json;
use tests::requests::{assert_refused, document_with, with_attribute, without};
use tests::{new_organisation_id, TestApp};

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
    for (currency, amount) in [
        ("EUR", "1.00"),
        ("USD", "1.00"),
        ("JPY", "100"),
        ("CHF", "1.00"),
    ] {
        let document = document_with(|d| {
            d["data"]["attributes"]["currency"] = json!(currency);
            d["data"]["attributes"]["amount"] = json!(amount);
        });
        let reply = app.post("/v1/payments", &document).await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "{currency}: {}",
            reply.body
        );
    }
}

/// A valid document whose amount and currency are these.
fn priced(amount: &str, currency: &str) -> serde_json::Value {
    document_with(|d| {
        d["data"]["attributes"]["amount"] = json!(amount);
        d["data"]["attributes"]["currency"] = json!(currency);
    })
}

async fn amounts_with_more_decimals_than_the_currency_s_minor_unit_return_400(app: TestApp) {
    let target = app.create_payment(&new_organisation_id()).await;
    for (amount, currency, message) in [
        (
            "100.50",
            "JPY",
            "must have no decimals: JPY has no minor unit (ISO 4217)",
        ),
        (
            "1.2345",
            "KWD",
            "must have at most 3 decimals for KWD (its ISO 4217 minor unit)",
        ),
        (
            "1.001",
            "GBP",
            "must have at most 2 decimals for GBP (its ISO 4217 minor unit)",
        ),
    ] {
        let document = priced(amount, currency);
        assert_refused(&app, &target, &document, &["data.attributes.amount"]).await;
        let reply = app.post("/v1/payments", &document).await;
        assert_eq!(
            reply.body["details"][0]["message"], message,
            "{}",
            reply.body
        );
    }
}

async fn amounts_within_the_currency_s_minor_unit_are_accepted_as_written(app: TestApp) {
    for (amount, currency) in [
        ("100", "JPY"),
        ("1.234", "KWD"),
        ("1.005", "BHD"),
        ("0.5", "GBP"),
    ] {
        let reply = app.post("/v1/payments", &priced(amount, currency)).await;

        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "{amount} {currency}: {}",
            reply.body
        );
        let attributes = &reply.body["data"]["attributes"];
        assert_eq!(attributes["amount"], amount);
        assert_eq!(attributes["currency"], currency);
    }
}

async fn currencies_without_a_minor_unit_return_400(app: TestApp) {
    let target = app.create_payment(&new_organisation_id()).await;
    for currency in ["XAU", "XXX"] {
        let document = priced("1", currency);
        assert_refused(&app, &target, &document, &["data.attributes.currency"]).await;
        let reply = app.post("/v1/payments", &document).await;
        let message = reply.body["details"][0]["message"]
            .as_str()
            .unwrap_or_default();
        assert!(
            message.contains(&format!("ISO 4217 defines none for {currency}")),
            "{}",
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
    // The limits are GBP amounts, compared by value whatever the currency.
    let priced_scheme = |scheme: &str, amount: &str, currency: &str| {
        document_with(|d| {
            d["data"]["attributes"]["payment_scheme"] = json!(scheme);
            d["data"]["attributes"]["amount"] = json!(amount);
            d["data"]["attributes"]["currency"] = json!(currency);
        })
    };
    for (scheme, amount, currency) in [("FPS", "250000", "JPY"), ("Bacs", "20000000.000", "KWD")] {
        let reply = app
            .post("/v1/payments", &priced_scheme(scheme, amount, currency))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    }
    for (scheme, amount, currency) in [("FPS", "250000.001", "KWD"), ("Bacs", "20000001", "JPY")] {
        let refused = priced_scheme(scheme, amount, currency);
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

tests::backend_tests!(
    amount_that_is_not_a_positive_decimal_string_returns_400,
    amount_longer_than_20_characters_returns_400_and_20_is_accepted,
    currency_that_is_not_iso_4217_returns_400,
    amounts_with_more_decimals_than_the_currency_s_minor_unit_return_400,
    amounts_within_the_currency_s_minor_unit_are_accepted_as_written,
    currencies_without_a_minor_unit_return_400,
    dates_that_are_not_real_yyyy_mm_dd_return_400,
    real_dates_are_accepted,
    amounts_above_the_scheme_limit_return_400_and_the_limit_is_accepted,
);
