//! Strict JSON: one reading of every request document, or a clear refusal.
//!
//! The rules are the domain's strict reading ([`domain::strict`]): duplicate keys, keys that
//! document stores treat as operators or paths, nesting and numbers beyond the signed 64-bit
//! range are refused. This module only walks the envelope of a payment request into a small
//! tree, applying those rules, and hands `data.attributes` to [`AttributesReader`], which
//! applies them to the attributes while it reads them.

use std::fmt;

use domain::strict::{self, Breach};
use domain::{AttributesReader, PaymentAttributes, ValidationError};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::de::StrRead;
use serde_json::map::Entry;
use serde_json::{Map, Value};

/// The level of `data.attributes` in `{"data": {"attributes": ...}}`.
const ATTRIBUTES_LEVEL: usize = 3;

/// The deepest nesting of objects and arrays accepted in a request document: as deep as the
/// attributes may go below their level, which [`AttributesReader`] decides.
pub const MAX_DOCUMENT_DEPTH: usize = AttributesReader::at_level(ATTRIBUTES_LEVEL).max_level();

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
    /// What `data.attributes` held, read by [`AttributesReader`]: the attributes or the rules
    /// they break; `None` when there was no `data.attributes` (or no `data` object).
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

/// Runs `read` over `bytes` as one whole JSON text (see [`strict::read_text`]).
fn read_strict<T>(
    bytes: &[u8],
    read: impl FnOnce(&mut serde_json::Deserializer<StrRead<'_>>) -> serde_json::Result<T>,
) -> Result<T, String> {
    let text =
        std::str::from_utf8(bytes).map_err(|e| format!("the body is not valid UTF-8: {e}"))?;
    strict::read_text(text, read)
}

/// A breach of the strict rules as the reading's error.
fn refuse<E: de::Error>(breach: Breach<'_>) -> E {
    breach.to_error()
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
        strict::check_nesting(self.depth, MAX_DOCUMENT_DEPTH).map_err(refuse)
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
        strict::check_u64(value).map_err(refuse)?;
        Ok(Value::Number(value.into()))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Value, E> {
        strict::check_f64(value).map(Value::Number).map_err(refuse)
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
            strict::check_key(&key).map_err(refuse)?;
            let role = match (self.role, key.as_str()) {
                (Role::Document, "data") => Role::Data,
                (Role::Data, "attributes") => {
                    if let Some(slot) = self.attributes.as_deref_mut() {
                        if attributes_seen {
                            return Err(refuse(Breach::DuplicateKey(&key)));
                        }
                        attributes_seen = true;
                        let reader = AttributesReader::at_level(self.depth + 1);
                        *slot = Some(map.next_value_seed(reader)?);
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
                    return Err(refuse(Breach::DuplicateKey(entry.key())));
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
    fn breaches_are_refused_with_one_message_in_the_envelope_and_in_the_attributes() {
        let refusal = |text: &str| parse_payment_document(text.as_bytes()).unwrap_err();
        for (envelope, attributes, message) in [
            (
                r#"{"data": {"x": 1, "x": 2}}"#,
                r#"{"data": {"attributes": {"x": 1, "x": 2}}}"#,
                "duplicate field \"x\"",
            ),
            (
                r#"{"data": {"$x": 1}}"#,
                r#"{"data": {"attributes": {"$x": 1}}}"#,
                "field \"$x\": field names must not start with '$'",
            ),
            (
                r#"{"data": {"x": 9223372036854775808}}"#,
                r#"{"data": {"attributes": {"x": 9223372036854775808}}}"#,
                "the integer 9223372036854775808 is out of range: integers must fit in a signed \
                 64-bit integer",
            ),
            (
                r#"{"data": {"x": 1e19}}"#,
                r#"{"data": {"attributes": {"x": 1e19}}}"#,
                "the number 1e+19 is out of range: numbers must lie within the signed 64-bit \
                 integer range",
            ),
        ] {
            assert!(
                refusal(envelope).starts_with(message),
                "{}",
                refusal(envelope)
            );
            assert!(
                refusal(attributes).starts_with(message),
                "{}",
                refusal(attributes)
            );
        }
        let deep = |levels: usize| {
            format!(
                r#"{{"data": {{"attributes": {{"x": {}{}}}}}}}"#,
                "[".repeat(levels),
                "]".repeat(levels)
            )
        };
        assert!(parse_payment_document(deep(29).as_bytes()).is_ok());
        assert!(refusal(&deep(30)).starts_with("the document is nested deeper than 32 levels"));
        assert_eq!(
            refusal(r#"{"data": {"attributes": {}, "attributes": {}}}"#),
            "duplicate field \"attributes\" at line 1 column 40"
        );
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
}
