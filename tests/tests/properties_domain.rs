//! Properties of the domain's parsers: any input is either a valid value or refused with the
//! reasons named, never a panic; valid attributes keep every unmodelled field exactly. The one
//! attribute reader is held, over text and over trees, to `serde_json`'s reading and writing and
//! to the rules as written (`tests::rules`).

use domain::{Amount, AttributesReader, PaymentAttributes, MAX_AMOUNT_LEN};
use proptest::prelude::*;
use serde_json::Value;
use tests::arbitrary::{any_json, any_text, config, unmodelled_key, valid_attributes};
use tests::rules::{
    currency_decimals, depth, payment_rule_breaches, strict_breaches, MAX_ATTRIBUTES_DEPTH,
};

/// Attribute objects near validity: valid ones with arbitrary JSON put under arbitrary or
/// modelled names, so refusals and acceptances both occur often.
fn near_valid_attributes() -> impl Strategy<Value = Value> {
    let name = prop_oneof![
        unmodelled_key(),
        prop::sample::select(vec![
            "amount",
            "currency",
            "payment_scheme",
            "processing_date",
            "$set",
            "a.b",
        ])
        .prop_map(str::to_owned),
    ];
    (
        valid_attributes(),
        prop::collection::vec((name, any_json(3)), 0..3),
    )
        .prop_map(|(mut attributes, changes)| {
            attributes.extend(changes);
            Value::Object(attributes)
        })
}

/// Valid attributes with one more field holding `levels` objects or arrays nested inside each
/// other, around the nesting bound.
fn deep_attributes() -> impl Strategy<Value = Value> {
    let around_the_bound = MAX_ATTRIBUTES_DEPTH - 4..MAX_ATTRIBUTES_DEPTH + 4;
    (
        valid_attributes(),
        prop::collection::vec(any::<bool>(), around_the_bound),
        any_json(1),
    )
        .prop_map(|(mut attributes, kinds, innermost)| {
            let deep = kinds.iter().fold(innermost, |inner, &array| {
                if array {
                    Value::Array(vec![inner])
                } else {
                    serde_json::json!({ "n": inner })
                }
            });
            attributes.insert("deep".to_owned(), deep);
            Value::Object(attributes)
        })
}

/// Valid attributes whose amount, currency and scheme are drawn around the currency and scheme
/// rules: amounts with up to 5 decimals, currencies with 0, 2, 3 or 4 decimals or none.
fn priced_attributes() -> impl Strategy<Value = Value> {
    let currency = prop::sample::select(vec![
        "GBP", "EUR", "JPY", "KRW", "KWD", "BHD", "CLF", "XAU", "XXX", "XDR", "gbp",
    ]);
    let scheme = prop::option::of(prop::sample::select(vec!["FPS", "Bacs", "bacs", "SWIFT"]));
    let amount = prop_oneof![
        "0*[0-9]{1,8}(\\.[0-9]{1,5})?",
        "(250000|20000000)(\\.0{1,4}[0-9]?)?",
    ];
    (valid_attributes(), amount, currency, scheme).prop_map(
        |(mut attributes, amount, currency, scheme)| {
            attributes.insert("amount".to_owned(), Value::from(amount));
            attributes.insert("currency".to_owned(), Value::from(currency));
            if let Some(scheme) = scheme {
                attributes.insert("payment_scheme".to_owned(), Value::from(scheme));
            }
            Value::Object(attributes)
        },
    )
}

/// Any attributes-like value: arbitrary JSON, near-valid attributes, priced and deep ones.
fn attributes_like() -> impl Strategy<Value = Value> {
    prop_oneof![
        any_json(4),
        near_valid_attributes(),
        priced_attributes(),
        deep_attributes()
    ]
}

proptest! {
    #![proptest_config(config(512))]

    /// The reader over JSON text and over the parsed tree accepts exactly what the written
    /// rules accept, keeps what `serde_json` writes for it, and refuses the rest with each
    /// breach named: as the reading's error over text, as field errors over a tree.
    #[test]
    fn attributes_are_read_by_the_written_rules_from_text_and_from_trees(
        value in attributes_like(),
        pretty in any::<bool>(),
    ) {
        let text = if pretty {
            serde_json::to_string_pretty(&value).unwrap()
        } else {
            serde_json::to_string(&value).unwrap()
        };

        let from_text = AttributesReader::new().read_str(&text);
        let from_tree = PaymentAttributes::from_value(value.clone());

        let breaches = strict_breaches(&value);
        if !breaches.is_empty() {
            let refused = from_text.expect_err("a strict rule is broken");
            prop_assert!(
                ["field names", "out of range", "nested deeper"]
                    .iter()
                    .any(|reason| refused.contains(reason)),
                "{}", refused
            );
            if value.is_object() {
                let named = from_tree.expect_err("a strict rule is broken");
                let named: Vec<&str> = named.fields().iter().map(|f| f.field.as_str()).collect();
                for breach in &breaches {
                    prop_assert!(named.contains(&breach.as_str()), "{} in {:?}", breach, named);
                }
                let payment = payment_rule_breaches(&value);
                for field in &named {
                    prop_assert!(
                        breaches.iter().chain(&payment).any(|known| known == field),
                        "{} named, not among {:?} or {:?}", field, breaches, payment
                    );
                }
            }
            return Ok(());
        }
        let from_text = from_text.expect("no strict rule is broken");
        if !value.is_object() {
            let not_an_object = from_text.expect_err("not an object");
            prop_assert_eq!(not_an_object.fields()[0].message.as_str(), "must be a JSON object");
            prop_assert_eq!(from_tree, Err(not_an_object));
            return Ok(());
        }
        let expected = payment_rule_breaches(&value);
        match from_text {
            Ok(read) => {
                prop_assert!(expected.is_empty(), "accepted, but {:?} break rules", expected);
                prop_assert_eq!(read.as_json(), serde_json::to_string(&value).unwrap());
                prop_assert_eq!(Value::Object(read.to_map()), value.clone());
                let amount = value["amount"].as_str().expect("amount is a string");
                prop_assert_eq!(Some(read.amount()), Amount::parse(amount).ok());
                prop_assert_eq!(Some(read.currency().code()), value["currency"].as_str());
                prop_assert_eq!(from_tree, Ok(read));
            }
            Err(refused) => {
                let mut named: Vec<String> =
                    refused.fields().iter().map(|f| f.field.clone()).collect();
                named.sort();
                named.dedup();
                prop_assert_eq!(&named, &expected);
                for field in refused.fields() {
                    prop_assert!(!field.message.is_empty(), "{:?}", field);
                }
                prop_assert_eq!(from_tree, Err(refused));
            }
        }
    }

    /// The nesting rule alone: attributes at most 30 levels deep are read, deeper ones refused
    /// from text with the bound named and from a tree with the one refused container's path.
    #[test]
    fn attributes_deeper_than_the_bound_are_refused_from_text_and_from_trees(
        kinds in prop::collection::vec(any::<bool>(), 1..MAX_ATTRIBUTES_DEPTH + 6),
    ) {
        let mut path = "deep".to_owned();
        let deep = kinds.iter().rev().fold(Value::Null, |inner, &array| {
            if array {
                Value::Array(vec![inner])
            } else {
                serde_json::json!({ "n": inner })
            }
        });
        let value = serde_json::json!({"amount": "1.00", "currency": "GBP", "deep": deep});
        let fits = depth(&value) <= MAX_ATTRIBUTES_DEPTH;
        prop_assert_eq!(depth(&value), kinds.len() + 1);

        let from_text = AttributesReader::new().read_str(&value.to_string());
        let from_tree = PaymentAttributes::from_value(value.clone());

        if fits {
            prop_assert!(matches!(from_text, Ok(Ok(_))), "{:?}", from_text);
            prop_assert!(from_tree.is_ok(), "{:?}", from_tree);
        } else {
            let refused = from_text.expect_err("too deep");
            prop_assert!(refused.starts_with("the document is nested deeper than 30 levels"), "{}", refused);
            // The container opening at level 31 is named; what it holds is not looked at.
            for &array in &kinds[..MAX_ATTRIBUTES_DEPTH - 1] {
                path.push_str(if array { "[0]" } else { ".n" });
            }
            let refused = from_tree.expect_err("too deep");
            prop_assert_eq!(refused.fields().len(), 1, "{:?}", refused);
            prop_assert_eq!(&refused.fields()[0].field, &path);
            prop_assert_eq!(refused.fields()[0].message.as_str(), "nesting deeper than 30 levels");
        }
    }

    #[test]
    fn valid_attributes_keep_every_unmodelled_field_byte_for_byte(
        fields in valid_attributes()
    ) {
        let expected = serde_json::to_string(&fields).unwrap();

        let attributes = PaymentAttributes::parse(fields.clone()).unwrap();

        prop_assert_eq!(attributes.as_json(), expected.as_str());
        prop_assert_eq!(attributes.to_map(), fields.clone());
        for (name, value) in &fields {
            prop_assert_eq!(attributes.get(name), Some(value.clone()));
        }
    }

    #[test]
    fn amount_is_parsed_exactly_or_refused(
        text in prop_oneof![any_text(24), "[0-9.]{0,24}", "0*[0-9]{1,18}(\\.[0-9]{0,5})?"]
    ) {
        match Amount::parse(&text) {
            Ok(amount) => {
                prop_assert!(text.len() <= MAX_AMOUNT_LEN);
                let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
                prop_assert!(!whole.is_empty() && whole.bytes().all(|b| b.is_ascii_digit()));
                prop_assert!(fraction.bytes().all(|b| b.is_ascii_digit()));
                prop_assert!(!text.ends_with('.'));
                prop_assert_eq!(usize::from(amount.decimals()), fraction.len());
                let units = format!("{whole}{fraction}").parse::<u128>().unwrap();
                prop_assert!(units > 0);
                for exponent in 0..=4u8 {
                    let expected = exponent
                        .checked_sub(amount.decimals())
                        .map(|more| units * 10u128.pow(u32::from(more)));
                    prop_assert_eq!(amount.in_minor_units(exponent), expected);
                }
                prop_assert_eq!(Amount::parse(&amount.to_string()), Ok(amount));
            }
            Err(refused) => prop_assert!(!refused.message.is_empty()),
        }
    }

    /// The decimals rule alone: an amount is accepted in a currency exactly when it has no more
    /// decimals than the currency's ISO 4217 exponent, and currencies without one never are.
    #[test]
    fn amounts_have_at_most_their_currency_s_decimals(
        whole in "[1-9][0-9]{0,5}",
        fraction in "[0-9]{0,5}",
        code in prop::sample::select(vec!["GBP", "JPY", "KWD", "BHD", "CLF", "XAU", "XXX"]),
    ) {
        let amount = if fraction.is_empty() { whole.clone() } else { format!("{whole}.{fraction}") };
        let value = serde_json::json!({"amount": amount, "currency": code});

        let read = PaymentAttributes::from_value(value);

        match currency_decimals(code) {
            None => {
                let refused = read.expect_err("no minor unit");
                prop_assert_eq!(refused.fields().len(), 1);
                prop_assert_eq!(refused.fields()[0].field.as_str(), "currency");
            }
            Some(allowed) if fraction.len() <= allowed => {
                let read = read.expect("within the minor unit");
                let units: u128 = format!("{whole}{fraction:0<allowed$}").parse().unwrap();
                prop_assert_eq!(read.minor_units(), units);
            }
            Some(_) => {
                let refused = read.expect_err("more decimals than the minor unit");
                prop_assert_eq!(refused.fields().len(), 1);
                prop_assert_eq!(refused.fields()[0].field.as_str(), "amount");
            }
        }
    }
}
