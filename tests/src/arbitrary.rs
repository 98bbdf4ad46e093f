//! Generators for property tests: arbitrary JSON, valid payments with arbitrary unmodelled
//! attributes, and hostile request bodies; plus a runner that drives a property against a live
//! server.
//!
//! Every run uses a fixed seed, so CI sees the same inputs each time and a failure reproduces;
//! `PROPTEST_RNG_SEED` and `PROPTEST_CASES` in the environment override seed and case count for
//! a wider local search.

use std::future::Future;

use domain::{key_problem, DATE_FIELDS};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};
use serde_json::{json, Map, Number, Value};

/// The seed of every property run unless `PROPTEST_RNG_SEED` says otherwise.
pub const SEED: u64 = 0x5EED_F4A1;

/// Attribute names the domain checks (so an arbitrary value there may be refused).
const MODELLED: [&str; 3] = ["amount", "currency", "payment_scheme"];

/// A proptest configuration of `cases` cases with the fixed seed and no failure files.
pub fn config(cases: u32) -> Config {
    let from_env = Config::default();
    let seed = std::env::var("PROPTEST_RNG_SEED")
        .ok()
        .and_then(|text| text.parse().ok())
        .map_or(RngSeed::Fixed(SEED), RngSeed::Fixed);
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(cases);
    Config {
        cases,
        rng_seed: seed,
        failure_persistence: None,
        ..from_env
    }
}

/// Runs `property` on `cases` inputs from the strategy `make()` builds, on a blocking thread that
/// drives each (async) case on the current runtime; panics with the shrunk input on failure.
pub async fn check_async<S, F, Fut>(
    cases: u32,
    make: impl FnOnce() -> S + Send + 'static,
    property: F,
) where
    S: Strategy,
    S::Value: 'static,
    F: Fn(S::Value) -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    let runtime = tokio::runtime::Handle::current();
    let outcome = tokio::task::spawn_blocking(move || {
        let strategy = make();
        let mut runner = TestRunner::new(config(cases));
        runner
            .run(&strategy, |input| {
                runtime.block_on(property(input));
                Ok(())
            })
            .map_err(|failure| failure.to_string())
    })
    .await
    .expect("the property runner finishes");
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}

/// Any string, control characters, NUL and non-BMP characters included.
pub fn any_text(max_chars: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(any::<char>(), 0..=max_chars).prop_map(String::from_iter)
}

/// A key the domain stores without a check: no `$` start, no `.`, no NUL, not a modelled or
/// date field name.
pub fn unmodelled_key() -> impl Strategy<Value = String> {
    prop_oneof!["[a-z_]{1,12}", any_text(10),].prop_filter("a key the domain checks", |key| {
        key_problem(key).is_none()
            && !MODELLED.contains(&key.as_str())
            && !DATE_FIELDS.contains(&key.as_str())
    })
}

/// Floats the server stores: the edges of the signed 64-bit range it accepts, subnormals,
/// signed zero, and any other finite float inside that range.
pub fn any_finite_float() -> impl Strategy<Value = f64> {
    prop_oneof![
        prop::sample::select(vec![
            0.0,
            -0.0,
            9_223_372_036_854_774_784.0,  // the largest f64 below 2^63
            -9_223_372_036_854_775_808.0, // i64::MIN, exact
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
            5e-324,
            -5e-324,
            f64::EPSILON,
            0.1,
            1.0 / 3.0,
            1e18,
            -1.5e-300,
            9_007_199_254_740_993.0,
        ]),
        any::<f64>().prop_filter("finite and within the i64 range", |value| {
            value.is_finite() && value.abs() < 9.2e18
        }),
    ]
}

/// Floats beyond the signed 64-bit range, which the server refuses.
pub fn out_of_range_float() -> impl Strategy<Value = f64> {
    prop::sample::select(vec![
        f64::MAX,
        f64::MIN,
        1e300,
        9.3e18,
        -1e19,
        2f64.powi(63),
    ])
}

/// A JSON value of the kinds the server keeps untouched: nested objects and arrays, any `i64`,
/// finite floats and any unicode string. At most `depth` levels of containers.
pub fn stored_value(depth: u32) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        prop::sample::select(vec![i64::MIN, i64::MAX, 0, -1]).prop_map(Value::from),
        any_finite_float().prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
        any_text(24).prop_map(Value::String),
    ];
    leaf.prop_recursive(depth, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(unmodelled_key(), inner, 0..6)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}

/// Any JSON value at all, keys included: operators, dots, NUL, integers beyond `i64`.
pub fn any_json(depth: u32) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any_finite_float().prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
        out_of_range_float().prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
        any_text(16).prop_map(Value::String),
        prop::sample::select(vec!["GBP", "1.00", "payments", "2026-02-30", "FPS"])
            .prop_map(|text| Value::String(text.to_owned())),
    ];
    leaf.prop_recursive(depth, 48, 6, |inner| {
        let key = prop_oneof![
            any_text(8),
            prop::sample::select(vec!["$gt", "$where", "a.b", "a\0b", "amount", "data", "id"])
                .prop_map(str::to_owned),
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key, inner, 0..6)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}

/// Valid payment attributes: an amount, a currency and up to 8 arbitrary unmodelled fields.
pub fn valid_attributes() -> impl Strategy<Value = Map<String, Value>> {
    (
        "[1-9][0-9]{0,5}(\\.[0-9]{1,2})?",
        prop::sample::select(vec!["GBP", "EUR", "USD", "CHF"]),
        prop::collection::btree_map(unmodelled_key(), stored_value(4), 0..8),
    )
        .prop_map(|(amount, currency, extra)| {
            let mut attributes: Map<String, Value> = extra.into_iter().collect();
            attributes.insert("amount".into(), json!(amount));
            attributes.insert("currency".into(), json!(currency));
            attributes
        })
}

/// A request document for a valid payment of `organisation` with these attributes.
pub fn document(organisation: &str, attributes: &Map<String, Value>) -> Value {
    json!({"data": {"type": "payments", "organisation_id": organisation, "attributes": attributes}})
}

/// Documents that are near a valid payment: envelopes with fields missing, replaced by arbitrary
/// JSON or added, so both the accepting and the refusing paths are exercised.
pub fn near_payment_document() -> impl Strategy<Value = Value> {
    let organisation = "743d5b63-8e6f-432e-a8fa-c5d8d2ee5fcb";
    let field = prop::sample::select(vec![
        "type",
        "id",
        "version",
        "organisation_id",
        "attributes",
        "extra",
    ]);
    (
        valid_attributes(),
        prop::collection::vec((field, prop::option::of(any_json(2))), 0..3),
        prop::collection::vec((unmodelled_key(), any_json(2)), 0..2),
    )
        .prop_map(move |(attributes, envelope_changes, attribute_changes)| {
            let mut document = document(organisation, &attributes);
            for (name, value) in envelope_changes {
                let data = &mut document["data"];
                match value {
                    Some(value) => data[name] = value,
                    None => {
                        data.as_object_mut().map(|fields| fields.remove(name));
                    }
                }
            }
            for (name, value) in attribute_changes {
                if let Some(attributes) = document["data"]["attributes"].as_object_mut() {
                    attributes.insert(name, value);
                }
            }
            document
        })
}

/// Request bodies of every kind: arbitrary bytes, text over the JSON alphabet, any JSON value,
/// near-valid payment documents, and valid ones.
pub fn any_body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        json_like_text().prop_map(String::into_bytes),
        any_json(4).prop_map(|value| value.to_string().into_bytes()),
        near_payment_document().prop_map(|value| value.to_string().into_bytes()),
        valid_attributes().prop_map(|attributes| {
            document("743d5b63-8e6f-432e-a8fa-c5d8d2ee5fcb", &attributes)
                .to_string()
                .into_bytes()
        }),
    ]
}

/// Text made of JSON's tokens, numbers of every shape and escapes: mostly malformed, sometimes
/// well-formed in surprising ways.
pub fn json_like_text() -> impl Strategy<Value = String> {
    let token = prop::sample::select(vec![
        "{",
        "}",
        "[",
        "]",
        ":",
        ",",
        "\"",
        "\"a\"",
        "\"data\"",
        "\"$gt\"",
        " ",
        "\\",
        "\\u0000",
        "\\ud800",
        "0",
        "-",
        "1e400",
        "-0",
        "1.5",
        "9223372036854775808",
        "true",
        "null",
        "nul",
        "\u{feff}",
        "\u{0}",
        "é",
    ]);
    prop::collection::vec(token, 0..64).prop_map(|tokens| tokens.concat())
}
