//! The schemas of payment attributes: the part of a payment the server mostly stores as sent,
//! with the rules it still enforces at every depth.

use std::sync::LazyLock;

use domain::{Currency, DATE_FIELDS, MAX_AMOUNT_LEN};
use serde_json::json;
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::schema::{
    AnyOfBuilder, ArrayBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::RefOr;
use utoipa::Number;

use super::examples;
use super::schemas::{nullable, object, reference, string};

/// A positive decimal, leading zeros allowed, zero refused; how many decimals it may have is
/// its currency's minor unit (the `if`/`then` conditions of the attributes schema).
pub const AMOUNT_PATTERN: &str = r"^(0*[1-9][0-9]*(\.[0-9]+)?|0+\.[0-9]*[1-9][0-9]*)$";
/// Attribute keys: none starts with `$`, none holds `.` or NUL (document-store operators and
/// paths).
pub const KEY_PATTERN: &str = r"^([^$.\u0000][^.\u0000]*)?$";
/// `YYYY-MM-DD` from year 0001 (with `format: date` for the calendar).
const DATE_PATTERN: &str =
    r"^([0-9]{3}[1-9]|[0-9]{2}[1-9][0-9]|[0-9][1-9][0-9]{2}|[1-9][0-9]{3})-[0-9]{2}-[0-9]{2}$";
/// Scheme limits: (scheme pattern, amount pattern for amounts up to the limit). The server
/// matches scheme names case-insensitively; the limits are GBP amounts, compared by value
/// whatever the currency.
const SCHEME_LIMITS: [(&str, &str); 2] = [
    // FPS: at most 250000.00.
    (
        "^[Ff][Pp][Ss]$",
        r"^0*([0-9]{1,5}|1[0-9]{5}|2[0-4][0-9]{4})(\.[0-9]+)?$|^0*250000(\.0+)?$",
    ),
    // Bacs: at most 20000000.00.
    (
        "^[Bb][Aa][Cc][Ss]$",
        r"^0*([0-9]{1,7}|1[0-9]{7})(\.[0-9]+)?$|^0*20000000(\.0+)?$",
    ),
];

/// Every ISO 4217 code the server accepts, found by asking the domain about every candidate, so
/// the list is the server's by construction.
static CURRENCY_CODES: LazyLock<Vec<String>> = LazyLock::new(|| {
    let letters = || b'A'..=b'Z';
    letters()
        .flat_map(|a| letters().flat_map(move |b| letters().map(move |c| [a, b, c])))
        .map(|code| String::from_utf8_lossy(&code).into_owned())
        .filter(|code| Currency::parse(code).is_ok())
        .collect()
});

/// The accepted currencies grouped by ISO 4217 exponent (the decimals of the minor unit), in
/// ascending order of exponent, as the domain knows them.
fn currencies_by_exponent() -> Vec<(u8, Vec<&'static str>)> {
    let mut groups: Vec<(u8, Vec<&'static str>)> = Vec::new();
    for code in CURRENCY_CODES.iter() {
        let Ok(currency) = Currency::parse(code) else {
            continue;
        };
        let exponent = currency.exponent();
        match groups.iter_mut().find(|(known, _)| *known == exponent) {
            Some((_, codes)) => codes.push(currency.code()),
            None => groups.push((exponent, vec![currency.code()])),
        }
    }
    groups.sort_by_key(|(exponent, _)| *exponent);
    groups
}

/// The decimals rule as `if`/`then` schemas: for the currencies of each exponent, the amount
/// pattern allowing at most that many decimals.
fn decimals_by_currency() -> Vec<serde_json::Value> {
    currencies_by_exponent()
        .into_iter()
        .map(|(exponent, codes)| {
            let decimals = match exponent {
                0 => String::new(),
                n => format!(r"(\.[0-9]{{1,{n}}})?"),
            };
            json!({
                "if": {
                    "properties": {"currency": {"enum": codes}},
                    "required": ["currency"]
                },
                "then": {"properties": {"amount": {"pattern": format!("^[0-9]+{decimals}$")}}}
            })
        })
        .collect()
}

fn date() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(nullable(Type::String))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
        .pattern(Some(DATE_PATTERN))
}

/// Adds the date fields the server checks at every depth of the attributes.
fn with_date_fields(mut builder: ObjectBuilder) -> ObjectBuilder {
    for field in DATE_FIELDS {
        builder = builder.property(field, date());
    }
    builder
}

fn amount() -> ObjectBuilder {
    string()
        .pattern(Some(AMOUNT_PATTERN))
        .max_length(Some(MAX_AMOUNT_LEN))
        .description(Some(
            "A positive decimal string with at most as many decimals as the currency's minor \
             unit (its ISO 4217 exponent): none for JPY, 2 for GBP, 3 for KWD.",
        ))
        .examples(["100.21"])
}

fn currency() -> ObjectBuilder {
    string()
        .enum_values(Some(CURRENCY_CODES.iter().cloned()))
        .description(Some(
            "An ISO 4217 currency code with a minor unit; codes for which ISO 4217 defines \
             none (XAU, XDR, XXX, ...) are refused.",
        ))
        .examples(["GBP"])
}

/// Any JSON value an attribute may hold, recursively: integers within 64 bits, object keys
/// under [`KEY_PATTERN`], date fields as dates.
pub fn attribute_value() -> RefOr<Schema> {
    let within_64_bits = with_date_fields(ObjectBuilder::new())
        .schema_type(SchemaType::from_iter([
            Type::Null,
            Type::Boolean,
            Type::String,
            Type::Number,
            Type::Object,
        ]))
        .minimum(Some(Number::Int(i64::MIN as isize)))
        .maximum(Some(Number::Int(i64::MAX as isize)))
        .property_names(Some(string().pattern(Some(KEY_PATTERN))))
        .additional_properties(Some(reference("AttributeValue")));
    AnyOfBuilder::new()
        .item(ArrayBuilder::new().items(reference("AttributeValue")))
        .item(within_64_bits)
        .into()
}

/// The attributes object: `amount` and `currency` required, everything else kept as sent.
pub fn payment_attributes() -> RefOr<Schema> {
    // The decimals rule and the scheme limits need `if`/`then`, which utoipa's object model
    // lacks; extensions are serialized as plain keys of the schema object, so they carry these
    // keywords through.
    let mut conditions = decimals_by_currency();
    conditions.extend(SCHEME_LIMITS.iter().map(|(scheme, amount)| {
        json!({
            "if": {
                "properties": {"payment_scheme": {"type": "string", "pattern": scheme}},
                "required": ["payment_scheme"]
            },
            "then": {"properties": {"amount": {"pattern": amount}}}
        })
    }));
    with_date_fields(object())
        .description(Some(
            "Payment attributes. `amount` and `currency` are required and checked: `amount` has \
             at most as many decimals as the currency's minor unit (ISO 4217 exponent: JPY \
             none, GBP 2, KWD 3). Every other field is stored and returned as sent, with these \
             rules at every depth: keys do not start with `$` and hold no `.` or NUL, integers \
             fit in 64 bits, nesting is at most 30 levels, and `processing_date`, `birth_date` \
             and `date_of_birth` are real calendar dates. `payment_scheme` FPS limits `amount` \
             to 250000.00, Bacs to 20000000.00 (GBP amounts, compared by value whatever the \
             currency; scheme names in any case).",
        ))
        .required("amount")
        .required("currency")
        .property("amount", amount())
        .property("currency", currency())
        .property(
            "payment_scheme",
            ObjectBuilder::new().schema_type(nullable(Type::String)),
        )
        .property_names(Some(string().pattern(Some(KEY_PATTERN))))
        .additional_properties(Some(reference("AttributeValue")))
        .extensions(Some(Extensions::from_iter([("allOf", conditions)])))
        .examples([examples::attributes()])
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_currency_list_holds_the_accepted_codes_only() {
        assert!(CURRENCY_CODES.contains(&"GBP".to_owned()));
        assert!(CURRENCY_CODES.contains(&"EUR".to_owned()));
        assert!(!CURRENCY_CODES.contains(&"ABC".to_owned()));
        assert!(!CURRENCY_CODES.contains(&"XAU".to_owned()));
        assert!(!CURRENCY_CODES.contains(&"XXX".to_owned()));
        assert!(CURRENCY_CODES.len() > 150, "{}", CURRENCY_CODES.len());
    }

    #[test]
    fn every_accepted_currency_has_its_decimals_pattern() {
        let groups = currencies_by_exponent();
        let exponents: Vec<u8> = groups.iter().map(|(exponent, _)| *exponent).collect();
        assert_eq!(exponents, [0, 2, 3, 4]);
        let grouped: usize = groups.iter().map(|(_, codes)| codes.len()).sum();
        assert_eq!(grouped, CURRENCY_CODES.len());
        let yen = groups.iter().find(|(_, codes)| codes.contains(&"JPY"));
        assert_eq!(yen.map(|(exponent, _)| *exponent), Some(0));
    }
}
