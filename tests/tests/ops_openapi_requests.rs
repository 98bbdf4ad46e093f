//! The documented request schema accepts exactly the payment documents the server accepts:
//! every sample below is judged by both, and they must agree.

use serde_json::{json, Value};
use tests::openapi::Document;
use tests::{backend_tests, new_organisation_id, payment_document, TestApp};

backend_tests!(the_request_schema_accepts_exactly_what_the_server_accepts);

/// Documents the schema and the server must agree on, each with a label.
fn samples() -> Vec<(&'static str, Value)> {
    let base = || payment_document(&new_organisation_id(), "10.00");
    let with = |label, pointer: &str, value: Value| {
        let mut document = base();
        let mut target = &mut document;
        for key in pointer.split('/').skip(1) {
            target = &mut target[key];
        }
        *target = value;
        (label, document)
    };
    let attributes = "/data/attributes";
    let mut samples = vec![
        ("the example", base()),
        with("smallest amount", "/data/attributes/amount", json!("0.01")),
        with("leading zeros", "/data/attributes/amount", json!("00.10")),
        with("one decimal", "/data/attributes/amount", json!("0.5")),
        with("zero", "/data/attributes/amount", json!("0")),
        with(
            "zero with decimals",
            "/data/attributes/amount",
            json!("0.00"),
        ),
        with("three decimals", "/data/attributes/amount", json!("1.001")),
        with("negative", "/data/attributes/amount", json!("-1.00")),
        with("exponent", "/data/attributes/amount", json!("1e3")),
        with("FPS limit", "/data/attributes/amount", json!("250000.00")),
        with(
            "over the FPS limit",
            "/data/attributes/amount",
            json!("250000.01"),
        ),
        with(
            "lowercase currency",
            "/data/attributes/currency",
            json!("gbp"),
        ),
        with(
            "unknown currency",
            "/data/attributes/currency",
            json!("ABC"),
        ),
        with("euro", "/data/attributes/currency", json!("EUR")),
        with(
            "impossible date",
            "/data/attributes/processing_date",
            json!("2026-02-30"),
        ),
        with(
            "leap day",
            "/data/attributes/processing_date",
            json!("2024-02-29"),
        ),
        with(
            "year zero",
            "/data/attributes/processing_date",
            json!("0000-01-01"),
        ),
        with("null date", "/data/attributes/processing_date", Value::Null),
        with("payment type", "/data/type", json!("payment")),
        with("id not a UUID", "/data/id", json!("42")),
        with("null id", "/data/id", Value::Null),
        with("negative version", "/data/version", json!(-1)),
        with(
            "organisation not a UUID",
            "/data/organisation_id",
            json!("acme"),
        ),
        with("attributes not an object", attributes, json!("x")),
    ];
    let mut add = |label, change: fn(&mut Value)| {
        let mut document = base();
        change(&mut document);
        samples.push((label, document));
    };
    add("no scheme, big amount", |d| {
        d["data"]["attributes"]["payment_scheme"] = Value::Null;
        d["data"]["attributes"]["amount"] = json!("99999999999999999.99");
    });
    add("amount too long", |d| {
        d["data"]["attributes"]["payment_scheme"] = Value::Null;
        d["data"]["attributes"]["amount"] = json!("099999999999999999.99");
    });
    add("Bacs limit in capitals", |d| {
        d["data"]["attributes"]["payment_scheme"] = json!("BACS");
        d["data"]["attributes"]["amount"] = json!("20000000.00");
    });
    add("over the Bacs limit", |d| {
        d["data"]["attributes"]["payment_scheme"] = json!("bacs");
        d["data"]["attributes"]["amount"] = json!("20000000.01");
    });
    add("yen, whole", |d| {
        d["data"]["attributes"]["currency"] = json!("JPY");
        d["data"]["attributes"]["amount"] = json!("100");
    });
    add("yen with decimals", |d| {
        d["data"]["attributes"]["currency"] = json!("JPY");
        d["data"]["attributes"]["amount"] = json!("100.50");
    });
    add("Kuwaiti dinar, three decimals", |d| {
        d["data"]["attributes"]["currency"] = json!("KWD");
        d["data"]["attributes"]["amount"] = json!("1.234");
    });
    add("Bahraini dinar, three decimals", |d| {
        d["data"]["attributes"]["currency"] = json!("BHD");
        d["data"]["attributes"]["amount"] = json!("1.005");
    });
    add("Kuwaiti dinar, four decimals", |d| {
        d["data"]["attributes"]["currency"] = json!("KWD");
        d["data"]["attributes"]["amount"] = json!("1.2345");
    });
    add("gold", |d| {
        d["data"]["attributes"]["currency"] = json!("XAU");
        d["data"]["attributes"]["amount"] = json!("1");
    });
    add("no currency", |d| {
        d["data"]["attributes"]["currency"] = json!("XXX");
        d["data"]["attributes"]["amount"] = json!("1");
    });
    add("FPS limit in dinars", |d| {
        d["data"]["attributes"]["currency"] = json!("KWD");
        d["data"]["attributes"]["amount"] = json!("250000.000");
    });
    add("over the FPS limit in dinars", |d| {
        d["data"]["attributes"]["currency"] = json!("KWD");
        d["data"]["attributes"]["amount"] = json!("250000.001");
    });
    add("scheme not a string", |d| {
        d["data"]["attributes"]["payment_scheme"] = json!(7)
    });
    add("missing currency", |d| {
        d["data"]["attributes"]
            .as_object_mut()
            .unwrap()
            .remove("currency");
    });
    add("missing organisation", |d| {
        d["data"].as_object_mut().unwrap().remove("organisation_id");
    });
    add("unknown data field", |d| d["data"]["colour"] = json!("red"));
    add("unknown top-level field", |d| d["meta"] = json!({}));
    add("operator key", |d| {
        d["data"]["attributes"]["$where"] = json!(1)
    });
    add("dotted nested key", |d| {
        d["data"]["attributes"]["debtor_party"]["a.b"] = json!(1)
    });
    add("empty key", |d| d["data"]["attributes"][""] = json!(1));
    add("nested birth date", |d| {
        d["data"]["attributes"]["debtor_party"]["birth_date"] = json!("1990-13-01");
    });
    add("largest integer", |d| {
        d["data"]["attributes"]["n"] = json!(i64::MAX)
    });
    add("integer beyond 64 bits", |d| {
        d["data"]["attributes"]["n"] = json!(9_223_372_036_854_775_808_u64);
    });
    add("nested array of objects", |d| {
        d["data"]["attributes"]["charges"] = json!([{"amount": "1"}, [1.5, null, true]]);
    });
    samples
}

async fn the_request_schema_accepts_exactly_what_the_server_accepts(app: TestApp) {
    let document = Document::fetch(&app).await;
    let schema = document.component("PaymentRequest");

    for (label, sample) in samples() {
        let reply = app.post("/v1/payments", &sample).await;
        let accepted = reply.status.is_success();

        assert_eq!(
            schema.is_valid(&sample),
            accepted,
            "{label}: the schema and the server disagree (server {}: {})",
            reply.status,
            reply.body
        );
    }
}
