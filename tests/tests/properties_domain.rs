//! Properties of the domain's parsers: any input is either a valid value or refused with the
//! reasons named, never a panic; valid attributes keep every unmodelled field exactly.

use domain::{Amount, AttributesSeed, PaymentAttributes, MAX_AMOUNT_LEN};
use proptest::prelude::*;
use serde::de::DeserializeSeed;
use serde_json::Value;
use tests::arbitrary::{any_json, any_text, config, unmodelled_key, valid_attributes};

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

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn any_json_is_valid_attributes_or_refused_with_fields_named(
        value in prop_oneof![any_json(4), near_valid_attributes()]
    ) {
        match PaymentAttributes::from_value(value.clone()) {
            Ok(attributes) => {
                let Value::Object(fields) = &value else {
                    panic!("accepted attributes that are not an object: {value}");
                };
                prop_assert_eq!(&attributes.to_map(), fields);
                let amount = fields["amount"].as_str().expect("amount is a string");
                prop_assert_eq!(Some(attributes.amount()), Amount::parse(amount).ok());
                prop_assert_eq!(Some(attributes.currency().code()), fields["currency"].as_str());
            }
            Err(refused) => {
                prop_assert!(!refused.fields().is_empty());
                for field in refused.fields() {
                    prop_assert!(!field.message.is_empty(), "{:?}", field);
                }
            }
        }
    }

    /// The one-pass reader the HTTP layer uses and `from_value` over a parsed tree are two
    /// implementations of one set of rules: same text, same refusals, for any input.
    #[test]
    fn reading_attributes_from_text_agrees_with_parsing_the_tree(
        value in prop_oneof![any_json(4), near_valid_attributes()],
        pretty in any::<bool>(),
    ) {
        let text = if pretty {
            serde_json::to_string_pretty(&value).unwrap()
        } else {
            serde_json::to_string(&value).unwrap()
        };
        let mut reader = serde_json::Deserializer::from_str(&text);
        let read = AttributesSeed::new().deserialize(&mut reader);
        match PaymentAttributes::from_value(value.clone()) {
            Ok(parsed) => {
                let read = read.expect("read as JSON").expect("valid when read");
                prop_assert_eq!(read.as_json(), parsed.as_json());
                prop_assert_eq!(read.amount(), parsed.amount());
                prop_assert_eq!(read.currency(), parsed.currency());
            }
            Err(refused) => match read {
                // Refused by the payment rules: the same fields, the same reasons.
                Ok(read) => prop_assert_eq!(read.unwrap_err(), refused),
                // Refused by the strict reading: only for what it refuses (a key or number
                // the stores cannot hold, or nesting), which `from_value` names as fields too,
                // unless it refused a non-object without looking inside.
                Err(error) if !value.is_object() => {
                    prop_assert_eq!(refused.fields()[0].message.as_str(), "must be a JSON object");
                    prop_assert!(!error.to_string().is_empty());
                }
                Err(error) => {
                    let message = error.to_string();
                    prop_assert!(
                        ["field names", "out of range", "nested deeper"]
                            .iter()
                            .any(|reason| message.contains(reason)),
                        "{}", message
                    );
                    prop_assert!(refused.fields().iter().any(|field| {
                        field.message.contains("field names")
                            || field.message.contains("out of range")
                            || field.message.contains("nesting deeper")
                    }), "{:?}", refused);
                }
            },
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
        text in prop_oneof![any_text(24), "[0-9.]{0,24}", "0*[0-9]{1,18}(\\.[0-9]{0,3})?"]
    ) {
        match Amount::parse(&text) {
            Ok(amount) => {
                prop_assert!(text.len() <= MAX_AMOUNT_LEN);
                prop_assert!(amount.hundredths() > 0);
                let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
                prop_assert!(!whole.is_empty() && whole.bytes().all(|b| b.is_ascii_digit()));
                prop_assert!(fraction.len() <= 2 && fraction.bytes().all(|b| b.is_ascii_digit()));
                let hundredths = format!("{whole}{fraction:0<2}").parse::<u128>().unwrap();
                prop_assert_eq!(amount.hundredths(), hundredths);
                prop_assert_eq!(Amount::parse(&amount.to_string()), Ok(amount));
            }
            Err(refused) => prop_assert!(!refused.message.is_empty()),
        }
    }
}
