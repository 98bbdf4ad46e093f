//! Strict JSON: one reading of every document, or a clear refusal.
//!
//! `serde_json` alone keeps the last of two duplicate keys, which lets two parsers disagree about
//! one payment, and turns integers beyond 64 bits into lossy floats. This parser refuses both (and
//! any number beyond the signed 64-bit range, so `1e20` and `100000000000000000000` are read
//! alike), refuses keys that document stores treat as operators or paths, and bounds nesting.

use std::fmt;

use domain::{key_problem, number_in_range, AttributesSeed, PaymentAttributes, ValidationError};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::de::StrRead;
use serde_json::map::Entry;
use serde_json::{Map, Number, Value};

/// The deepest nesting of objects and arrays accepted in a request document.
pub const MAX_DOCUMENT_DEPTH: usize = 32;

/// Parses `bytes` as exactly one JSON document under the strict rules above.
pub fn parse_strict(bytes: &[u8]) -> Result<Value, String> {
    read_strict(bytes, |deserializer| {
        Level::new(1).deserialize(deserializer)
    })
}

/// A payment request document: the envelope, and its `data.attributes` read apart.
#[derive(Debug)]
pub struct PaymentDocument {
    /// The document without `data.attributes`.
    pub envelope: Value,
    /// What `data.attributes` held, read by [`AttributesSeed`]: the attributes or the rules they
    /// break; `None` when there was no `data.attributes` (or no `data` object).
    pub attributes: Option<Result<PaymentAttributes, ValidationError>>,
}

/// Parses `bytes` like [`parse_strict`], reading `data.attributes` straight into
/// [`PaymentAttributes`] without building a tree for it.
pub fn parse_payment_document(bytes: &[u8]) -> Result<PaymentDocument, String> {
    let mut attributes = None;
    let envelope = read_strict(bytes, |deserializer| {
        Level {
            depth: 1,
            role: Role::Document,
            attributes: Some(&mut attributes),
        }
        .deserialize(deserializer)
    })?;
    Ok(PaymentDocument {
        envelope,
        attributes,
    })
}

/// Runs `read` over `bytes` as one whole JSON text, with the strict rules' messages.
fn read_strict<T>(
    bytes: &[u8],
    read: impl FnOnce(&mut serde_json::Deserializer<StrRead<'_>>) -> serde_json::Result<T>,
) -> Result<T, String> {
    let text =
        std::str::from_utf8(bytes).map_err(|e| format!("the body is not valid UTF-8: {e}"))?;
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let result = read(&mut deserializer).and_then(|value| {
        deserializer.end()?;
        Ok(value)
    });
    let oversized = || {
        oversized_integer(text).map(|literal| {
            format!(
                "the integer {} is out of range: integers must fit in a signed 64-bit integer",
                shorten(literal)
            )
        })
    };
    match result {
        // An integer beyond 64 bits reaches the reader as a rounded float, and one just below
        // the signed range rounds to its very bound, which is in range: look for such integers
        // as written, wherever a run of digits is long enough to hold one.
        Ok(value) => match has_long_digit_run(bytes).then(oversized).flatten() {
            Some(message) => Err(message),
            None => Ok(value),
        },
        // Every other out-of-range integer fails the reading; name it as written.
        Err(error) => Err(oversized().unwrap_or_else(|| error.to_string())),
    }
}

/// Digits of the shortest integer literal outside the signed 64-bit range.
const OVERSIZED_DIGITS: usize = 19;

/// Whether `bytes` hold [`OVERSIZED_DIGITS`] or more ASCII digits in a row. Looks at every
/// 16th byte only (and around those that are digits): any such run covers one of them.
fn has_long_digit_run(bytes: &[u8]) -> bool {
    const STRIDE: usize = 16;
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index].is_ascii_digit() {
            let start = bytes[..index]
                .iter()
                .rposition(|byte| !byte.is_ascii_digit())
                .map_or(0, |before| before + 1);
            let end = bytes[index..]
                .iter()
                .position(|byte| !byte.is_ascii_digit())
                .map_or(bytes.len(), |after| index + after);
            if end - start >= OVERSIZED_DIGITS {
                return true;
            }
            index = end;
        }
        index += STRIDE;
    }
    false
}

fn shorten(literal: &str) -> String {
    if literal.len() <= 40 {
        literal.to_owned()
    } else {
        format!("{}... ({} digits)", &literal[..20], literal.len())
    }
}

/// The first integer literal outside strings that does not fit in an `i64`, if any.
fn oversized_integer(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    let mut index = 0;
    let mut in_string = false;
    while index < bytes.len() {
        let byte = bytes[index];
        if in_string {
            match byte {
                b'\\' => index += 1,
                b'"' => in_string = false,
                _ => {}
            }
            index += 1;
            continue;
        }
        if byte == b'"' {
            in_string = true;
        } else if byte == b'-' || byte.is_ascii_digit() {
            let start = index;
            while index < bytes.len()
                && matches!(bytes[index], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
            {
                index += 1;
            }
            let token = &text[start..index];
            let digits = token.strip_prefix('-').unwrap_or(token);
            let is_integer = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
            if is_integer && token.parse::<i64>().is_err() {
                return Some(token);
            }
            continue;
        }
        index += 1;
    }
    None
}

/// `number` as a value if it lies within the signed 64-bit range (see [`number_in_range`]).
fn in_range<E: de::Error>(number: Number) -> Result<Value, E> {
    if number_in_range(&number) {
        Ok(Value::Number(number))
    } else {
        Err(E::custom(format!(
            "the number {number} is out of range: numbers must lie within the signed 64-bit \
             integer range"
        )))
    }
}

/// Where `data.attributes` goes when it is read apart.
type AttributesSlot = Option<Result<PaymentAttributes, ValidationError>>;

/// What a value is in a payment request document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// The document, whose `data` holds the payment.
    Document,
    /// `data`, whose `attributes` are read apart.
    Data,
    /// Anything else.
    Other,
}

/// Deserializes one value at nesting level `depth`.
struct Level<'s> {
    depth: usize,
    role: Role,
    /// Set when reading a payment request document: receives `data.attributes`.
    attributes: Option<&'s mut AttributesSlot>,
}

impl<'de> DeserializeSeed<'de> for Level<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl Level<'_> {
    fn new(depth: usize) -> Self {
        Self {
            depth,
            role: Role::Other,
            attributes: None,
        }
    }

    /// The level of the values inside a container at this level.
    fn nested(&self) -> Level<'static> {
        Level::new(self.depth + 1)
    }

    /// Refuses a container (object or array) that would sit below the deepest level.
    fn check_container<E: de::Error>(&self) -> Result<(), E> {
        if self.depth > MAX_DOCUMENT_DEPTH {
            return Err(E::custom(format!(
                "the document is nested deeper than {MAX_DOCUMENT_DEPTH} levels"
            )));
        }
        Ok(())
    }
}

impl<'de> Visitor<'de> for Level<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Value, E> {
        in_range(Number::from(value))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Value, E> {
        Number::from_f64(value)
            .ok_or_else(|| E::custom("numbers must be finite"))
            .and_then(in_range)
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.check_container()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.nested())? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Value, A::Error> {
        self.check_container()?;
        let mut fields = Map::new();
        let mut attributes_seen = false;
        while let Some(key) = map.next_key::<String>()? {
            if let Some(problem) = key_problem(&key) {
                return Err(de::Error::custom(format!("field {key:?}: {problem}")));
            }
            let role = match (self.role, key.as_str()) {
                (Role::Document, "data") => Role::Data,
                (Role::Data, "attributes") => {
                    if let Some(slot) = self.attributes.as_deref_mut() {
                        if attributes_seen {
                            return Err(de::Error::custom(format!("duplicate field {key:?}")));
                        }
                        attributes_seen = true;
                        let seed = AttributesSeed::nested(self.depth + 1, MAX_DOCUMENT_DEPTH);
                        *slot = Some(map.next_value_seed(seed)?);
                        continue;
                    }
                    Role::Other
                }
                _ => Role::Other,
            };
            let nested = Level {
                depth: self.depth + 1,
                role,
                attributes: match role {
                    Role::Data => self.attributes.as_deref_mut(),
                    Role::Document | Role::Other => None,
                },
            };
            match fields.entry(key) {
                Entry::Occupied(entry) => {
                    return Err(de::Error::custom(format!(
                        "duplicate field {:?}",
                        entry.key()
                    )));
                }
                Entry::Vacant(entry) => {
                    entry.insert(map.next_value_seed(nested)?);
                }
            }
        }
        Ok(Value::Object(fields))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn well_formed_document_parses_with_number_types_kept() {
        let value =
            parse_strict(br#"{"a": 1, "b": -2, "c": 1.0, "d": [true, null, "x"]}"#).unwrap();
        assert_eq!(
            value,
            json!({"a": 1, "b": -2, "c": 1.0, "d": [true, null, "x"]})
        );
        assert!(value["c"].is_f64() && value["a"].is_i64());
    }

    #[test]
    fn duplicate_keys_are_refused() {
        let error = parse_strict(br#"{"data": {"id": "a", "id": "b"}}"#).unwrap_err();
        assert!(error.contains("duplicate field \"id\""), "{error}");
    }

    #[test]
    fn operator_and_dotted_keys_are_refused_anywhere() {
        for body in [
            r#"{"$where": 1}"#,
            r#"{"a": [{"b.c": 1}]}"#,
            "{\"a\\u0000\": 1}",
        ] {
            assert!(parse_strict(body.as_bytes()).is_err(), "{body}");
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let ok = format!("{}{}", "[".repeat(32), "]".repeat(32));
        let deep = format!("{}{}", "[".repeat(33), "]".repeat(33));
        assert!(parse_strict(ok.as_bytes()).is_ok());
        let error = parse_strict(deep.as_bytes()).unwrap_err();
        assert!(error.contains("deeper than 32"), "{error}");
        let very_deep = "[".repeat(100_000);
        assert!(parse_strict(very_deep.as_bytes()).is_err());
    }

    #[test]
    fn integers_beyond_i64_are_refused_but_strings_and_floats_are_not() {
        assert!(parse_strict(b"[9223372036854775807, -9223372036854775808]").is_ok());
        assert!(parse_strict(b"[9223372036854775808]").is_err());
        assert!(parse_strict(b"[-9223372036854775809]").is_err());
        assert!(parse_strict(b"[123456789012345678901234567890]").is_err());
        assert!(parse_strict(br#"["123456789012345678901234567890", 1.5e18]"#).is_ok());
        assert!(parse_strict(b"[1.5e300]").is_err());
        assert!(parse_strict(b"[-9.3e18]").is_err());
        assert!(parse_strict(b"[-9.2e18, 9.2e18]").is_ok());
        assert!(parse_strict(br#"["a \" 99999999999999999999999"]"#).is_ok());
    }

    #[test]
    fn invalid_utf8_and_trailing_data_are_refused() {
        assert!(parse_strict(b"{\"a\": \"\xff\"}")
            .unwrap_err()
            .contains("UTF-8"));
        assert!(parse_strict(b"{} {}").is_err());
        assert!(parse_strict(b"").is_err());
        assert!(parse_strict(b"1e400").is_err());
    }

    #[test]
    fn every_run_of_19_digits_is_found_wherever_it_sits() {
        for length in 0..60 {
            for offset in 0..40 {
                for run in [18, 19, 25] {
                    let mut text = "x".repeat(offset);
                    text.push_str(&"7".repeat(run));
                    text.push_str(&"y".repeat(length));
                    assert_eq!(has_long_digit_run(text.as_bytes()), run >= 19, "{text}");
                }
            }
        }
        assert!(!has_long_digit_run(
            b"123456789012345678 123456789012345678"
        ));
        assert!(has_long_digit_run(b"1 1234567890123456789"));
    }
}
