//! The schemaless attributes of a payment: every field survives untouched, the modelled ones are
//! checked once here.

mod node;
mod reader;
mod text;

use std::fmt;
use std::sync::Arc;

use serde::de::{DeserializeSeed, Deserializer};
use serde::ser::Error as _;
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

pub use reader::AttributesReader;

use crate::errors::{FieldError, ValidationError};
use crate::models::amount::{Amount, Currency};

/// The deepest nesting of objects and arrays accepted inside `attributes`, the attributes object
/// itself counting as one level. With the `{"data": {"attributes": ...}}` envelope a request
/// document is then at most 32 levels deep.
pub const MAX_ATTRIBUTES_DEPTH: usize = 30;

/// Fields that must hold a real calendar date written `YYYY-MM-DD`, wherever they appear.
pub const DATE_FIELDS: [&str; 3] = ["processing_date", "birth_date", "date_of_birth"];

/// The complaint about a date field that holds no real date.
const NOT_A_DATE: &str = "must be a real calendar date written YYYY-MM-DD";

/// Amount ceilings of the payment schemes that have one (scheme name, limit, limit as text).
/// Both schemes settle in sterling: the limits are GBP amounts, compared with the amount by value
/// whatever its currency (the domain converts nothing).
const SCHEME_LIMITS: [(&str, Amount, &str); 2] = [
    ("FPS", Amount::from_parts(25_000_000, 2), "250000.00"),
    ("Bacs", Amount::from_parts(2_000_000_000, 2), "20000000.00"),
];

/// Validated payment attributes.
///
/// Holds the attributes as compact JSON text (cheap to clone, to store and to serve) together
/// with the modelled fields already parsed. Unmodelled fields are kept exactly as given.
#[derive(Clone)]
pub struct PaymentAttributes {
    json: Arc<str>,
    amount: Amount,
    currency: Currency,
    /// The amount in the currency's minor units, exact by the decimals rule.
    minor_units: u128,
}

impl PaymentAttributes {
    /// Validates a JSON object as payment attributes.
    ///
    /// Rules: `amount` is a decimal string (see [`Amount::parse`]) with at most as many decimals
    /// as the currency's minor unit has (its ISO 4217 exponent: JPY none, GBP 2, KWD 3);
    /// `currency` is an ISO 4217 code with a minor unit (see [`Currency::parse`]: XAU, XXX and
    /// the like are refused); date fields ([`DATE_FIELDS`]) are real `YYYY-MM-DD` dates;
    /// `payment_scheme` FPS allows at most 250000.00 and Bacs at most 20000000.00 (GBP amounts,
    /// compared by value whatever the currency); and the [strict
    /// rules](crate::strict): no key anywhere starts with `$` or contains `.` or NUL, nesting is
    /// at most [`MAX_ATTRIBUTES_DEPTH`], every number lies within the signed 64-bit range. The
    /// map is read by [`AttributesReader`], the reader of request bodies; every broken rule is
    /// reported, each with its field path.
    pub fn parse(fields: Map<String, Value>) -> Result<Self, ValidationError> {
        Self::read_tree(&fields)
    }

    /// Runs [`AttributesReader`] over a parsed tree, where every breach of the strict rules is
    /// a field error.
    fn read_tree<'de, D: Deserializer<'de>>(tree: D) -> Result<Self, ValidationError> {
        match AttributesReader::for_tree().deserialize(tree) {
            Ok(read) => read,
            // A tree reading reports breaches as field errors and reads every value it skips,
            // so only a broken deserializer fails it: reported, not hidden.
            Err(error) => Err(FieldError::new("", error.to_string()).into()),
        }
    }

    /// The rules on the modelled fields, once the whole tree has been read (`errors` holds
    /// what that found); `text` is the compact text the reader wrote.
    fn finish(
        modelled: Modelled<'_>,
        mut errors: Vec<FieldError>,
        text: Vec<u8>,
    ) -> Result<Self, ValidationError> {
        let amount = modelled
            .amount
            .parse_required("amount", Amount::parse, &mut errors);
        let currency = modelled
            .currency
            .parse_required("currency", Currency::parse, &mut errors);
        let minor_units = match (amount, currency) {
            (Some(amount), Some(currency)) => collect(
                currency.minor_units(amount).map_err(|e| e.under("amount")),
                &mut errors,
            ),
            _ => None,
        };
        if let Some(amount) = amount {
            check_scheme_limit(&modelled.payment_scheme, amount, &mut errors);
        }
        match (amount, currency, minor_units) {
            (Some(amount), Some(currency), Some(minor_units)) if errors.is_empty() => {
                // The reader writes whole strings and ASCII only; a failure here is its bug,
                // reported rather than hidden.
                let json = String::from_utf8(text)
                    .map_err(|e| ValidationError::single(FieldError::new("", e.to_string())))?;
                Ok(Self {
                    json: Arc::from(json),
                    amount,
                    currency,
                    minor_units,
                })
            }
            _ => Err(ValidationError(errors)),
        }
    }

    /// Validates any JSON value as payment attributes; it must be an object.
    pub fn from_value(value: Value) -> Result<Self, ValidationError> {
        match &value {
            Value::Object(fields) => Self::read_tree(fields),
            _ => Err(FieldError::new("", "must be a JSON object").into()),
        }
    }

    /// The amount.
    pub fn amount(&self) -> Amount {
        self.amount
    }

    /// The currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The amount in minor units of the currency (pence for GBP, yen for JPY, fils for KWD):
    /// exact, since the amount has no more decimals than the currency's minor unit.
    pub fn minor_units(&self) -> u128 {
        self.minor_units
    }

    /// The attributes as compact JSON text (an object).
    pub fn as_json(&self) -> &str {
        &self.json
    }

    /// The attributes as a JSON object, unmodelled fields included.
    pub fn to_map(&self) -> Map<String, Value> {
        // Cannot fail: the text was written by `AttributesReader` from an object it read whole,
        // and is what serde_json writes for that object (its tests and the property tests hold
        // it to that). An empty map here would make different attributes compare equal.
        serde_json::from_str(&self.json).expect("the attributes text is a JSON object")
    }

    /// One field by name.
    pub fn get(&self, field: &str) -> Option<Value> {
        self.to_map().remove(field)
    }
}

impl PartialEq for PaymentAttributes {
    /// Equal when they hold the same JSON values; key order does not matter.
    fn eq(&self, other: &Self) -> bool {
        self.as_json() == other.as_json() || self.to_map() == other.to_map()
    }
}

impl Eq for PaymentAttributes {}

impl fmt::Debug for PaymentAttributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_json())
    }
}

impl Serialize for PaymentAttributes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // The text is JSON written by serde_json, so this never fails; serializing it as a raw
        // value writes it unchanged (the response path copies `as_json` instead).
        let raw: &RawValue = serde_json::from_str(&self.json).map_err(S::Error::custom)?;
        raw.serialize(serializer)
    }
}

fn collect<T>(result: Result<T, FieldError>, errors: &mut Vec<FieldError>) -> Option<T> {
    result.map_err(|e| errors.push(e)).ok()
}

/// What a modelled field of the attributes holds.
#[derive(Debug, Clone, Copy)]
enum Field<'a> {
    /// The key is not there.
    Absent,
    /// `null`.
    Null,
    /// A string.
    Str(&'a str),
    /// Any other value.
    Other,
}

impl<'a> Field<'a> {
    /// The value `parse` makes of this required string field named `name`, or `None` with the
    /// reason in `errors`.
    fn parse_required<T>(
        self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, FieldError>,
        errors: &mut Vec<FieldError>,
    ) -> Option<T> {
        let text = self.required_str(name, errors)?;
        collect(parse(text).map_err(|e| e.under(name)), errors)
    }

    fn required_str(self, name: &str, errors: &mut Vec<FieldError>) -> Option<&'a str> {
        match self {
            Field::Str(text) => Some(text),
            Field::Absent => {
                errors.push(FieldError::new(name, "is required"));
                None
            }
            Field::Null | Field::Other => {
                errors.push(FieldError::new(name, "must be a string"));
                None
            }
        }
    }
}

/// The fields of the attributes the rules look at beyond the tree-wide ones.
#[derive(Debug, Clone, Copy)]
struct Modelled<'a> {
    amount: Field<'a>,
    currency: Field<'a>,
    payment_scheme: Field<'a>,
}

fn check_scheme_limit(scheme: &Field<'_>, amount: Amount, errors: &mut Vec<FieldError>) {
    let scheme = match scheme {
        Field::Absent | Field::Null => return,
        Field::Str(scheme) => scheme,
        Field::Other => {
            errors.push(FieldError::new("payment_scheme", "must be a string"));
            return;
        }
    };
    let limit = SCHEME_LIMITS
        .iter()
        .find(|(name, _, _)| name.eq_ignore_ascii_case(scheme));
    if let Some((name, limit, limit_text)) = limit {
        if amount.cmp_value(limit).is_gt() {
            errors.push(FieldError::new(
                "amount",
                format!("must be at most {limit_text} for payment scheme {name}"),
            ));
        }
    }
}
