use serde_json::{json, Value};

use super::super::NOT_A_DATE;
use super::*;

/// `text` read as whole attributes: the reading's refusal, or the attributes or their field
/// errors.
fn read(text: &str) -> Result<Result<PaymentAttributes, ValidationError>, String> {
    AttributesReader::new().read_str(text)
}

fn text_of(text: &str) -> String {
    read(text).unwrap().unwrap().as_json().to_owned()
}

/// The refused fields of a tree, with their messages.
fn tree_refusals(value: Value) -> Vec<(String, String)> {
    let refused = PaymentAttributes::from_value(value).unwrap_err();
    refused
        .fields()
        .iter()
        .map(|f| (f.field.clone(), f.message.clone()))
        .collect()
}

#[test]
fn the_text_is_what_serde_json_writes_for_the_parsed_value() {
    let input = r#" { "amount" : "1.00", "currency":"GBP",
        "esc\u0061ped": "tab\t \u00e9 \/ \"q\" \\ \u0001", "plain": "é ☃",
        "numbers": [0, -0, 7, -7, 1.50, 2e3, -9223372036854775808, 9223372036854775807],
        "nested": {"a": [true, false, null, {}, []]} } "#;
    let value: Value = serde_json::from_str(input).unwrap();
    let expected = serde_json::to_string(&value).unwrap();

    assert_eq!(text_of(input), expected);
    let from_tree = PaymentAttributes::from_value(value).unwrap();
    assert_eq!(from_tree.as_json(), expected);
}

#[test]
fn duplicates_are_refused_in_small_and_large_objects() {
    let small = r#"{"amount": "1.00", "currency": "GBP", "a": {"x": 1, "x": 2}}"#;
    assert!(read(small).unwrap_err().contains("duplicate field \"x\""));
    let keys: Vec<String> = (0..40).map(|i| format!("\"k{i}\": {i}")).collect();
    let large = format!(
        r#"{{"amount": "1.00", "currency": "GBP", {}, "k33": 0}}"#,
        keys.join(",")
    );
    assert!(read(&large)
        .unwrap_err()
        .contains("duplicate field \"k33\""));
    let distinct = format!(
        r#"{{"amount": "1.00", "currency": "GBP", {}}}"#,
        keys.join(",")
    );
    assert!(read(&distinct).unwrap().is_ok());
}

#[test]
fn keys_the_stores_cannot_hold_are_refused_escaped_or_not() {
    for (text, problem) in [
        (r#"{"$set": 1}"#, "start with '$'"),
        (r#"{"a": [{"b.c": 1}]}"#, "contain '.'"),
        (r#"{"a\u0000": 1}"#, "NUL"),
        (r#"{"\u0024x": 1}"#, "start with '$'"),
    ] {
        let error = read(text).unwrap_err();
        assert!(error.contains(problem), "{text}: {error}");
    }
}

#[test]
fn nesting_is_bounded_where_the_attributes_sit() {
    let nested = |levels: usize| {
        format!(
            "{{\"amount\": \"1.00\", \"currency\": \"GBP\", \"a\": {}{}}}",
            "[".repeat(levels),
            "]".repeat(levels)
        )
    };
    assert!(read(&nested(29)).unwrap().is_ok());
    let refused = read(&nested(30)).unwrap_err();
    assert!(
        refused.starts_with("the document is nested deeper than 30 levels"),
        "{refused}"
    );
    // Found at level 3 of a document, the attributes may still be 30 levels deep; the message
    // counts the document's levels.
    let inside = AttributesReader::at_level(3);
    assert_eq!(inside.max_level(), 32);
    let refused = inside.read_str(&nested(30)).unwrap_err();
    assert!(
        refused.contains("nested deeper than 32 levels"),
        "{refused}"
    );
    assert!(inside.read_str(&nested(29)).unwrap().is_ok());
    assert!(read(&"[".repeat(100_000)).is_err());
}

#[test]
fn numbers_beyond_the_signed_64_bit_range_are_refused_however_written() {
    for text in [
        r#"{"n": 9223372036854775808}"#,
        r#"{"n": -9223372036854775809}"#,
        r#"{"n": 1e19}"#,
    ] {
        let refused = read(text).unwrap_err();
        assert!(refused.contains("out of range"), "{text}: {refused}");
    }
}

#[test]
fn a_value_that_is_not_an_object_is_a_field_error() {
    let refused = read("[1, 2]").unwrap().unwrap_err();
    assert_eq!(refused.fields()[0].message, "must be a JSON object");
}

#[test]
fn payment_rules_are_reported_with_their_paths() {
    let refused = read(
        r#"{"currency": 5, "payment_scheme": "FPS", "p": [{"birth_date": "2001-02-29"}],
            "processing_date": {"x": 1}}"#,
    )
    .unwrap()
    .unwrap_err();
    let fields: Vec<(&str, &str)> = refused
        .fields()
        .iter()
        .map(|f| (f.field.as_str(), f.message.as_str()))
        .collect();
    assert_eq!(
        fields,
        [
            ("p[0].birth_date", NOT_A_DATE),
            ("processing_date", NOT_A_DATE),
            ("amount", "is required"),
            ("currency", "must be a string"),
        ]
    );
    let over_limit = read(r#"{"amount": "250000.01", "currency": "GBP", "payment_scheme": "FPS"}"#)
        .unwrap()
        .unwrap_err();
    assert_eq!(over_limit.fields()[0].field, "amount");
}

#[test]
fn a_tree_reports_every_breach_of_the_strict_rules_at_its_path() {
    let deep = (0..30).fold(json!([]), |inner, _| json!([inner]));
    let refusals = tree_refusals(json!({
        "amount": "1.00",
        "currency": "GBP",
        "$set": {"processing_date": 1},
        "n": [u64::MAX, 1e19, 5],
        "deep": deep,
    }));

    let out_of_range = "number out of range: must lie within the signed 64-bit integer range";
    // `deep` is level 2 and holds 30 arrays more: the one at level 31, 29 indexes down, is
    // refused and skipped.
    let deepest = format!("deep{}", "[0]".repeat(29));
    let expected = [
        ("$set", "field names must not start with '$'"),
        ("$set.processing_date", NOT_A_DATE),
        ("n[0]", out_of_range),
        ("n[1]", out_of_range),
        (deepest.as_str(), "nesting deeper than 30 levels"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(field, message)| ((*field).to_owned(), (*message).to_owned()))
        .collect();
    assert_eq!(refusals, expected);
}
