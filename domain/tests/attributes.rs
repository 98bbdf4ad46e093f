//! `PaymentAttributes`: each validation rule, errors reported together with their paths, and
//! unmodelled fields kept exactly.

use domain::{PaymentAttributes, ValidationError, MAX_ATTRIBUTES_DEPTH};
use serde_json::{json, Value};

/// Valid attributes with `field` set to `value`.
fn with(field: &str, value: Value) -> Value {
    let mut attributes = json!({"amount": "100.21", "currency": "GBP", "payment_scheme": "FPS"});
    attributes[field] = value;
    attributes
}

fn refused(attributes: Value) -> ValidationError {
    PaymentAttributes::from_value(attributes.clone())
        .expect_err(&format!("{attributes} should be refused"))
}

/// The paths of every refused field, sorted.
fn refused_fields(attributes: Value) -> Vec<String> {
    let error = refused(attributes);
    let mut fields: Vec<String> = error.fields().iter().map(|e| e.field.clone()).collect();
    fields.sort();
    fields
}

fn accepted(attributes: Value) -> PaymentAttributes {
    PaymentAttributes::from_value(attributes.clone())
        .unwrap_or_else(|e| panic!("{attributes} should be accepted: {e}"))
}

/// `levels` objects nested inside each other, the innermost empty.
fn nested_objects(levels: usize) -> Value {
    (1..levels).fold(json!({}), |inner, _| json!({ "n": inner }))
}

/// `levels` arrays nested inside each other, the innermost empty.
fn nested_arrays(levels: usize) -> Value {
    (1..levels).fold(json!([]), |inner, _| json!([inner]))
}

#[test]
fn valid_attributes_expose_amount_and_currency_and_keep_every_field() {
    let input = json!({
        "amount": "0010.5",
        "currency": "EUR",
        "party": {"name": "Zoë 🚀", "tags": [1, 2.5, null, true]},
        "big": i64::MAX,
    });

    let attributes = accepted(input.clone());

    assert_eq!(attributes.amount().to_string(), "10.5");
    assert_eq!(attributes.currency().code(), "EUR");
    assert_eq!(serde_json::to_value(&attributes).unwrap(), input);
    assert_eq!(Value::Object(attributes.to_map()), input);
    assert_eq!(attributes.get("amount"), Some(json!("0010.5")));
    assert_eq!(attributes.get("party"), Some(input["party"].clone()));
    assert_eq!(attributes.get("missing"), None);
    let reparsed: Value = serde_json::from_str(attributes.as_json()).unwrap();
    assert!(reparsed["party"]["tags"][0].is_i64() && reparsed["party"]["tags"][1].is_f64());
}

#[test]
fn attributes_must_be_an_object() {
    for value in [json!([]), json!("x"), json!(null), json!(1)] {
        let error = refused(value);
        assert_eq!(error.fields().len(), 1);
        assert_eq!(error.fields()[0].field, "");
    }
}

#[test]
fn amount_is_required_as_a_positive_decimal_string_of_at_most_20_characters() {
    assert_eq!(refused_fields(json!({"currency": "GBP"})), ["amount"]);
    for amount in [
        json!(100.21),
        json!(null),
        json!("-1"),
        json!("0.00"),
        json!("1.001"),
        json!("1e3"),
        json!(""),
        json!("123456789012345678.90"),
    ] {
        assert_eq!(
            refused_fields(with("amount", amount.clone())),
            ["amount"],
            "{amount}"
        );
    }
    let longest = json!({"amount": "12345678901234567.89", "currency": "GBP"});
    assert_eq!(
        accepted(longest).amount().to_string(),
        "12345678901234567.89"
    );
}

#[test]
fn currency_is_required_as_an_iso_4217_code() {
    assert_eq!(refused_fields(json!({"amount": "1.00"})), ["currency"]);
    for currency in [json!("gbp"), json!("XYZ"), json!("GBPP"), json!(826)] {
        assert_eq!(
            refused_fields(with("currency", currency.clone())),
            ["currency"],
            "{currency}"
        );
    }
    let yen = json!({"amount": "100", "currency": "JPY", "payment_scheme": "FPS"});
    assert_eq!(accepted(yen).currency().code(), "JPY");
}

/// Valid attributes with this amount and currency.
fn priced(amount: &str, currency: &str) -> Value {
    json!({"amount": amount, "currency": currency})
}

#[test]
fn amount_has_at_most_as_many_decimals_as_the_currency_s_minor_unit() {
    for (amount, currency) in [
        ("100", "JPY"),
        ("1.234", "KWD"),
        ("1.005", "BHD"),
        ("1.2", "KWD"),
        ("100.21", "GBP"),
        ("1.2345", "CLF"),
    ] {
        accepted(priced(amount, currency));
    }
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
        let error = refused(priced(amount, currency));
        assert_eq!(error.fields().len(), 1, "{error}");
        assert_eq!(error.fields()[0].field, "amount");
        assert_eq!(error.fields()[0].message, message);
    }
}

#[test]
fn currencies_without_a_minor_unit_are_refused_as_currencies() {
    for currency in ["XAU", "XAG", "XDR", "XTS", "XXX"] {
        let error = refused(priced("1", currency));
        assert_eq!(error.fields().len(), 1, "{error}");
        assert_eq!(error.fields()[0].field, "currency");
        assert!(
            error.fields()[0]
                .message
                .contains(&format!("ISO 4217 defines none for {currency}")),
            "{error}"
        );
    }
}

#[test]
fn the_amount_is_exposed_in_minor_units_of_its_currency() {
    for (amount, currency, minor_units) in [
        ("1.5", "GBP", 150),
        ("100", "JPY", 100),
        ("1.234", "KWD", 1234),
        ("7", "BHD", 7000),
    ] {
        assert_eq!(
            accepted(priced(amount, currency)).minor_units(),
            minor_units,
            "{amount} {currency}"
        );
    }
}

#[test]
fn date_fields_must_be_real_dates_wherever_they_appear() {
    for date in [
        json!("2026-02-30"),
        json!("2026-11-26T00:00:00Z"),
        json!(20261126),
    ] {
        assert_eq!(
            refused_fields(with("processing_date", date.clone())),
            ["processing_date"],
            "{date}"
        );
    }
    let nested = with("debtor_party", json!({"birth_date": "2001-02-29"}));
    assert_eq!(refused_fields(nested), ["debtor_party.birth_date"]);
    let in_array = with(
        "parties",
        json!([{"ok": 1}, {"date_of_birth": "1990-04-31"}]),
    );
    assert_eq!(refused_fields(in_array), ["parties[1].date_of_birth"]);
    accepted(with("processing_date", json!("2024-02-29")));
    accepted(with("processing_date", json!(null)));
    accepted(with("debtor_party", json!({"birth_date": "2000-02-29"})));
}

#[test]
fn scheme_limits_cap_fps_and_bacs_amounts_inclusively() {
    let payment = |scheme: &str, amount: &str| json!({"amount": amount, "currency": "GBP", "payment_scheme": scheme});
    for (scheme, amount) in [
        ("FPS", "250000.00"),
        ("Bacs", "20000000.00"),
        ("Bacs", "250000.01"),
        ("SWIFT", "99999999.99"),
    ] {
        accepted(payment(scheme, amount));
    }
    for (scheme, amount) in [
        ("FPS", "250000.01"),
        ("fps", "250001"),
        ("Bacs", "20000000.01"),
        ("BACS", "20000000.1"),
    ] {
        let error = refused(payment(scheme, amount));
        assert_eq!(error.fields().len(), 1, "{error}");
        assert_eq!(error.fields()[0].field, "amount");
        assert!(error.fields()[0].message.contains("at most"), "{error}");
    }
    assert_eq!(
        refused_fields(with("payment_scheme", json!(1))),
        ["payment_scheme"]
    );
}

#[test]
fn scheme_limits_stay_gbp_amounts_compared_by_value_in_any_currency() {
    let payment = |scheme: &str, amount: &str, currency: &str| json!({"amount": amount, "currency": currency, "payment_scheme": scheme});
    for (scheme, amount, currency) in [
        ("FPS", "250000.000", "KWD"),
        ("FPS", "250000", "JPY"),
        ("Bacs", "20000000.000", "BHD"),
    ] {
        accepted(payment(scheme, amount, currency));
    }
    for (scheme, amount, currency, limit) in [
        ("FPS", "250000.001", "KWD", "250000.00"),
        ("FPS", "250001", "JPY", "250000.00"),
        ("Bacs", "20000000.001", "BHD", "20000000.00"),
    ] {
        let error = refused(payment(scheme, amount, currency));
        assert_eq!(error.fields().len(), 1, "{error}");
        assert_eq!(error.fields()[0].field, "amount");
        assert_eq!(
            error.fields()[0].message,
            format!("must be at most {limit} for payment scheme {scheme}")
        );
    }
}

#[test]
fn keys_starting_with_dollar_or_holding_dot_or_nul_are_refused_anywhere() {
    let attributes = with(
        "nested",
        json!({"$set": 1, "ok": [{"a.b": 1}, [{"nul\u{0}": 2}]], "fine$": 3}),
    );
    assert_eq!(
        refused_fields(attributes),
        [
            "nested.$set",
            "nested.ok[0].a.b",
            "nested.ok[1][0].nul\u{0}"
        ]
    );
    assert_eq!(refused_fields(with("$where", json!(1))), ["$where"]);
}

#[test]
fn nesting_is_bounded_for_objects_and_arrays() {
    // The attributes object is the first level; the nested value adds the rest.
    let limit = MAX_ATTRIBUTES_DEPTH - 1;
    for at_limit in [nested_objects(limit), nested_arrays(limit)] {
        accepted(with("deep", at_limit));
    }
    for too_deep in [nested_objects(limit + 1), nested_arrays(limit + 1)] {
        let error = refused(with("deep", too_deep));
        assert_eq!(error.fields().len(), 1, "{error}");
        assert!(error.fields()[0].message.contains("nesting"), "{error}");
        assert!(error.fields()[0].field.starts_with("deep"), "{error}");
    }
}

#[test]
fn integers_beyond_i64_are_refused() {
    assert_eq!(refused_fields(with("count", json!(u64::MAX))), ["count"]);
    accepted(with("count", json!(i64::MIN)));
}

#[test]
fn every_broken_rule_is_reported_together_with_its_path() {
    let attributes = json!({
        "amount": "-1",
        "currency": "XYZ",
        "processing_date": "2026-13-01",
        "debtor_party": {"$ref": "x"},
    });

    let error = refused(attributes);

    let mut fields: Vec<&str> = error.fields().iter().map(|e| e.field.as_str()).collect();
    fields.sort();
    assert_eq!(
        fields,
        ["amount", "currency", "debtor_party.$ref", "processing_date"]
    );
    let text = error.to_string();
    for field in fields {
        assert!(text.contains(field), "{text}");
    }
    let located = error.under("data.attributes");
    assert!(located
        .fields()
        .iter()
        .all(|e| e.field.starts_with("data.attributes.")));
}

#[test]
fn equality_ignores_key_order_but_not_values_or_number_kinds() {
    let ordered: Value = serde_json::from_str(
        r#"{"amount": "1.00", "currency": "GBP", "party": {"a": 1, "b": [1, 2]}}"#,
    )
    .unwrap();
    let shuffled: Value = serde_json::from_str(
        r#"{"party": {"b": [1, 2], "a": 1}, "currency": "GBP", "amount": "1.00"}"#,
    )
    .unwrap();
    let variant = |change: fn(&mut Value)| {
        let mut other = ordered.clone();
        change(&mut other);
        accepted(other)
    };

    assert_eq!(accepted(ordered.clone()), accepted(shuffled));
    assert_ne!(
        accepted(ordered.clone()),
        variant(|v| v["party"]["b"] = json!([2, 1]))
    );
    assert_ne!(
        accepted(ordered.clone()),
        variant(|v| v["party"]["a"] = json!(1.0))
    );
    assert_ne!(
        accepted(ordered.clone()),
        variant(|v| v["amount"] = json!("1.0"))
    );
    assert_ne!(
        accepted(ordered.clone()),
        variant(|v| v["extra"] = json!(null))
    );
}

#[test]
fn refused_field_paths_join_keys_indexes_and_empty_keys_like_dotted_paths() {
    let nested = json!({
        "amount": "1.00",
        "currency": "GBP",
        "": {"processing_date": "2026-02-30"},
        "a": {"": {"b": [{"birth_date": "x"}]}},
    });
    assert_eq!(
        refused_fields(nested),
        ["a.b[0].birth_date", "processing_date"]
    );
}
