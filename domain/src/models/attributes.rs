//! The schemaless attributes of a payment: every field survives untouched, the modelled ones are
//! checked once here.

use std::fmt;
use std::sync::Arc;

use serde::ser::Error as _;
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Number, Value};

use crate::errors::{FieldError, ValidationError};
use crate::models::amount::{Amount, Currency};
use crate::models::date::is_calendar_date;

/// The deepest nesting of objects and arrays accepted inside `attributes`, the attributes object
/// itself counting as one level. With the `{"data": {"attributes": ...}}` envelope a request
/// document is then at most 32 levels deep.
pub const MAX_ATTRIBUTES_DEPTH: usize = 30;

/// Fields that must hold a real calendar date written `YYYY-MM-DD`, wherever they appear.
pub const DATE_FIELDS: [&str; 3] = ["processing_date", "birth_date", "date_of_birth"];

/// The complaint about a date field that holds no real date.
pub(super) const NOT_A_DATE: &str = "must be a real calendar date written YYYY-MM-DD";

/// Amount ceilings of the payment schemes that have one (scheme name, limit in hundredths).
const SCHEME_LIMITS: [(&str, u128, &str); 2] = [
    ("FPS", 25_000_000, "250000.00"),
    ("Bacs", 2_000_000_000, "20000000.00"),
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
}

impl PaymentAttributes {
    /// Validates a JSON object as payment attributes.
    ///
    /// Rules: `amount` is a decimal string (see [`Amount::parse`]); `currency` is an ISO 4217
    /// code; date fields ([`DATE_FIELDS`]) are real `YYYY-MM-DD` dates; `payment_scheme` FPS
    /// allows at most 250000.00 and Bacs at most 20000000.00; no key anywhere starts with `$` or
    /// contains `.` or NUL; nesting is at most [`MAX_ATTRIBUTES_DEPTH`]; every integer fits in
    /// an `i64`, and so does every other number. Every broken rule is reported, each with its field
    /// path.
    pub fn parse(fields: Map<String, Value>) -> Result<Self, ValidationError> {
        let mut errors = Vec::new();
        check_tree(&fields, &Path::Root, 1, &mut errors);
        let modelled = Modelled {
            amount: Field::of(fields.get("amount")),
            currency: Field::of(fields.get("currency")),
            payment_scheme: Field::of(fields.get("payment_scheme")),
        };
        Self::finish(modelled, errors, || serde_json::to_string(&fields))
    }

    /// The rules on the modelled fields, once the whole tree has been checked (`errors` holds
    /// what that found); `json` writes the compact text when every rule holds.
    pub(super) fn finish(
        modelled: Modelled<'_>,
        mut errors: Vec<FieldError>,
        json: impl FnOnce() -> serde_json::Result<String>,
    ) -> Result<Self, ValidationError> {
        let amount = modelled
            .amount
            .parse_required("amount", Amount::parse, &mut errors);
        let currency = modelled
            .currency
            .parse_required("currency", Currency::parse, &mut errors);
        if let Some(amount) = amount {
            check_scheme_limit(&modelled.payment_scheme, amount, &mut errors);
        }
        match (amount, currency) {
            (Some(amount), Some(currency)) if errors.is_empty() => {
                let json = json()
                    .map_err(|e| ValidationError::single(FieldError::new("", e.to_string())))?;
                Ok(Self {
                    json: Arc::from(json),
                    amount,
                    currency,
                })
            }
            _ => Err(ValidationError(errors)),
        }
    }

    /// Validates any JSON value as payment attributes; it must be an object.
    pub fn from_value(value: Value) -> Result<Self, ValidationError> {
        match value {
            Value::Object(fields) => Self::parse(fields),
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

    /// The attributes as compact JSON text (an object).
    pub fn as_json(&self) -> &str {
        &self.json
    }

    /// The attributes as a JSON object, unmodelled fields included.
    pub fn to_map(&self) -> Map<String, Value> {
        // The text was produced by serde_json from a `Map`, so it always parses back into one.
        serde_json::from_str(&self.json).unwrap_or_default()
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
pub(super) enum Field<'a> {
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
    fn of(value: Option<&'a Value>) -> Self {
        match value {
            None => Field::Absent,
            Some(Value::Null) => Field::Null,
            Some(Value::String(text)) => Field::Str(text),
            Some(_) => Field::Other,
        }
    }

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
pub(super) struct Modelled<'a> {
    pub(super) amount: Field<'a>,
    pub(super) currency: Field<'a>,
    pub(super) payment_scheme: Field<'a>,
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
        if amount.hundredths() > *limit {
            errors.push(FieldError::new(
                "amount",
                format!("must be at most {limit_text} for payment scheme {name}"),
            ));
        }
    }
}

/// Where a value sits in the attributes, rendered as a dotted path (`a.b[2].c`) only when a rule
/// fails: valid documents, the common case on every write, build no path strings at all.
#[derive(Clone, Copy)]
pub(super) enum Path<'a> {
    Root,
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl Path<'_> {
    /// Whether the path renders as empty text (the root, or only empty keys below it).
    fn is_empty(&self) -> bool {
        match self {
            Path::Root => true,
            Path::Key(parent, key) => key.is_empty() && parent.is_empty(),
            Path::Index(..) => false,
        }
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root => Ok(()),
            // Same joining rule as `errors::join_path`: an empty side adds no separator.
            Path::Key(parent, "") => parent.fmt(f),
            Path::Key(parent, key) if parent.is_empty() => f.write_str(key),
            Path::Key(parent, key) => write!(f, "{parent}.{key}"),
            Path::Index(parent, index) => write!(f, "{parent}[{index}]"),
        }
    }
}

fn too_deep(path: &Path<'_>) -> FieldError {
    FieldError::new(
        path.to_string(),
        format!("nesting deeper than {MAX_ATTRIBUTES_DEPTH} levels"),
    )
}

/// Checks keys, nesting, integer ranges and date fields of the whole tree below `fields`.
fn check_tree(
    fields: &Map<String, Value>,
    path: &Path<'_>,
    depth: usize,
    errors: &mut Vec<FieldError>,
) {
    if depth > MAX_ATTRIBUTES_DEPTH {
        errors.push(too_deep(path));
        return;
    }
    for (key, value) in fields {
        let field = Path::Key(path, key);
        if let Some(problem) = key_problem(key) {
            errors.push(FieldError::new(field.to_string(), problem));
        }
        if DATE_FIELDS.contains(&key.as_str()) {
            check_date(value, &field, errors);
        }
        check_value(value, &field, depth, errors);
    }
}

fn check_value(value: &Value, path: &Path<'_>, depth: usize, errors: &mut Vec<FieldError>) {
    match value {
        Value::Object(fields) => check_tree(fields, path, depth + 1, errors),
        Value::Array(items) => {
            if depth + 1 > MAX_ATTRIBUTES_DEPTH {
                errors.push(too_deep(path));
                return;
            }
            for (index, item) in items.iter().enumerate() {
                check_value(item, &Path::Index(path, index), depth + 1, errors);
            }
        }
        Value::Number(number) if !number_in_range(number) => {
            errors.push(FieldError::new(
                path.to_string(),
                "number out of range: must lie within the signed 64-bit integer range",
            ));
        }
        _ => {}
    }
}

/// 2^63, the first number past the signed 64-bit range (exact as an `f64`).
const I64_BOUND: f64 = 9_223_372_036_854_775_808.0;

/// Whether `number` lies within the signed 64-bit integer range, whether written as an integer
/// or with a fraction or exponent: JSON does not tell `1e20` from `100000000000000000000`, and
/// the API document bounds numbers by value.
pub fn number_in_range(number: &Number) -> bool {
    if number.is_i64() {
        return true;
    }
    if number.is_u64() {
        return false;
    }
    number
        .as_f64()
        .is_some_and(|value| (-I64_BOUND..I64_BOUND).contains(&value))
}

/// Why a key cannot be stored, if it cannot: document stores give `$` and `.` special meaning.
pub fn key_problem(key: &str) -> Option<&'static str> {
    if key.starts_with('$') {
        return Some("field names must not start with '$'");
    }
    if key.as_bytes().contains(&b'.') {
        Some("field names must not contain '.'")
    } else if key.as_bytes().contains(&0) {
        Some("field names must not contain NUL characters")
    } else {
        None
    }
}

fn check_date(value: &Value, path: &Path<'_>, errors: &mut Vec<FieldError>) {
    match value {
        Value::Null => {}
        Value::String(text) if is_calendar_date(text) => {}
        _ => errors.push(FieldError::new(path.to_string(), NOT_A_DATE)),
    }
}
