//! Properties of the domain's parsers: any input is either a valid value or refused with the
//! reasons named, never a panic; valid attributes keep every unmodelled field exactly.

use domain::{Amount, PaymentAttributes, MAX_AMOUNT_LEN};
use proptest::prelude::*;
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
