use domain::{OrganisationId, Payment, PaymentAttributes, PaymentId, Version};
use mongodb::bson::{doc, Bson, DateTime, Decimal128, Document};
use serde_json::{json, Value};

use super::*;

fn payment_with(attributes: Value) -> Payment {
    Payment::new(
        PaymentId::generate(),
        Version::new(3).unwrap(),
        OrganisationId::parse("743d5b63-8e6f-432e-a8fa-c5d8d2ee5fcb").unwrap(),
        PaymentAttributes::from_value(attributes).unwrap(),
    )
}

fn stored(payment: &Payment) -> Document {
    PaymentDocument::from_payment(payment)
        .unwrap()
        .into_new_document(DateTime::from_millis(1_700_000_000_000))
}

fn read(document: Document) -> Result<Payment, ConversionError> {
    PaymentDocument::from_document(document)?.into_payment()
}

fn tricky_attributes() -> Value {
    json!({
        "amount": "10.00",
        "currency": "EUR",
        "integer": 5,
        "big": i64::MAX,
        "small": i64::MIN,
        "whole_float": 2.0,
        "float": 0.1,
        "tiny": 5e-324,
        "text": "nul \u{0} inside, naïve \u{1F600}",
        "flag": false,
        "nothing": null,
        "list": [1, 2.5, "three", [], {}],
        "": "empty key",
    })
}

#[test]
fn a_payment_survives_the_round_trip_through_its_document() {
    let payment = payment_with(tricky_attributes());
    let back = read(stored(&payment)).unwrap();
    assert_eq!(back, payment);
    let json: Value = serde_json::from_str(back.attributes().as_json()).unwrap();
    assert_eq!(json, tricky_attributes());
    assert!(json["whole_float"].is_f64(), "2.0 must stay a float");
    assert!(json["integer"].is_i64(), "5 must stay an integer");
}

#[test]
fn integers_are_stored_as_int64_and_floats_as_double() {
    let document = stored(&payment_with(tricky_attributes()));
    let attributes = document.get_document(ATTRIBUTES).unwrap();
    assert_eq!(attributes.get("integer"), Some(&Bson::Int64(5)));
    assert_eq!(attributes.get("whole_float"), Some(&Bson::Double(2.0)));
    assert_eq!(
        attributes.get("text"),
        Some(&Bson::String("nul \u{0} inside, naïve \u{1F600}".into()))
    );
    assert_eq!(document.get(VERSION), Some(&Bson::Int64(3)));
}

#[test]
fn the_stored_document_has_the_documented_layout() {
    let payment = payment_with(json!({"amount": "1.00", "currency": "GBP"}));
    let document = stored(&payment);
    let keys: Vec<&str> = document.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            ID,
            VERSION,
            ORGANISATION_ID,
            ATTRIBUTES,
            LAST_COMMAND,
            UPDATED_AT,
            CREATED_AT
        ]
    );
    assert_eq!(document.get_str(ID).unwrap(), payment.id().to_string());
    assert_eq!(
        document.get_str(ORGANISATION_ID).unwrap(),
        "743d5b63-8e6f-432e-a8fa-c5d8d2ee5fcb"
    );
}

#[test]
fn the_update_content_leaves_id_and_creation_time_alone() {
    let payment = payment_with(json!({"amount": "1.00", "currency": "GBP"}));
    let content = PaymentDocument::from_payment(&payment)
        .unwrap()
        .into_content(DateTime::now());
    assert!(!content.contains_key(ID) && !content.contains_key(CREATED_AT));
    assert!(content.contains_key(UPDATED_AT) && content.contains_key(VERSION));
}

#[test]
fn int32_written_by_another_tool_reads_back_as_a_json_integer() {
    let mut document = stored(&payment_with(json!({"amount": "1.00", "currency": "GBP"})));
    document.insert(VERSION, Bson::Int32(7));
    document
        .get_document_mut(ATTRIBUTES)
        .unwrap()
        .insert("count", Bson::Int32(12));
    let payment = read(document).unwrap();
    assert_eq!(payment.version().value(), 7);
    assert_eq!(payment.attributes().get("count"), Some(json!(12)));
}

fn with_attribute(name: &str, value: Bson) -> Document {
    let mut document = stored(&payment_with(json!({"amount": "1.00", "currency": "GBP"})));
    document
        .get_document_mut(ATTRIBUTES)
        .unwrap()
        .insert(name, value);
    document
}

#[test]
fn bson_types_without_a_json_equivalent_are_refused_with_their_path() {
    let decimal: Decimal128 = "1.5".parse().unwrap();
    for (value, kind) in [
        (Bson::Decimal128(decimal), "Decimal128"),
        (Bson::DateTime(DateTime::now()), "DateTime"),
        (Bson::Double(f64::NAN), "NaN"),
        (Bson::Double(f64::INFINITY), "inf"),
    ] {
        let error = read(with_attribute("odd", value)).unwrap_err();
        assert!(error.0.contains("attributes.odd"), "{kind}: {error}");
    }
    let nested = doc! {"deeper": [1, {"when": DateTime::now()}]};
    let error = read(with_attribute("outer", Bson::Document(nested))).unwrap_err();
    assert!(
        error.0.contains("attributes.outer.deeper[1].when"),
        "{error}"
    );
}

#[test]
fn documents_that_no_longer_hold_a_valid_payment_are_errors() {
    let valid = stored(&payment_with(json!({"amount": "1.00", "currency": "GBP"})));
    type Damage = fn(&mut Document);
    let broken: [(&str, Damage); 7] = [
        (ID, |d| {
            d.insert(ID, "not-a-uuid");
        }),
        (ID, |d| {
            d.insert(ID, 42_i64);
        }),
        (VERSION, |d| {
            d.insert(VERSION, -1_i64);
        }),
        (VERSION, |d| {
            d.remove(VERSION);
        }),
        (ORGANISATION_ID, |d| {
            d.insert(ORGANISATION_ID, "x");
        }),
        (ATTRIBUTES, |d| {
            d.insert(ATTRIBUTES, "text");
        }),
        (ATTRIBUTES, |d| {
            d.get_document_mut(ATTRIBUTES).unwrap().remove("amount");
        }),
    ];
    for (field, damage) in broken {
        let mut document = valid.clone();
        damage(&mut document);
        let error = read(document).unwrap_err();
        assert!(error.0.starts_with(field), "{field}: {error}");
    }
}

#[test]
fn integers_beyond_i64_cannot_be_converted() {
    let huge: Value = serde_json::from_str("18446744073709551615").unwrap();
    let error = json_to_bson(&huge, &Path::Key(&Path::Field("attributes"), "huge")).unwrap_err();
    assert!(error.0.starts_with("attributes.huge"), "{error}");
}
