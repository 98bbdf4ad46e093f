//! Strict JSON: one reading of every document, or a clear refusal.
//!
//! `serde_json` alone keeps the last of two duplicate keys, which lets two parsers disagree about
//! one payment, and turns integers beyond 64 bits into lossy floats. This parser refuses both (and
//! any number beyond the signed 64-bit range, so `1e20` and `100000000000000000000` are read
//! alike), refuses keys that document stores treat as operators or paths, and bounds nesting.

use std::fmt;

use domain::{key_problem, number_in_range};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// The deepest nesting of objects and arrays accepted in a request document.
pub const MAX_DOCUMENT_DEPTH: usize = 32;

/// Parses `bytes` as exactly one JSON document under the strict rules above.
pub fn parse_strict(bytes: &[u8]) -> Result<Value, String> {
    let text =
        std::str::from_utf8(bytes).map_err(|e| format!("the body is not valid UTF-8: {e}"))?;
    if let Some(literal) = oversized_integer(text) {
        return Err(format!(
            "the integer {} is out of range: integers must fit in a signed 64-bit integer",
            shorten(literal)
        ));
    }
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = Level(1)
        .deserialize(&mut deserializer)
        .map_err(|e| e.to_string())?;
    deserializer.end().map_err(|e| e.to_string())?;
    Ok(value)
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

/// Deserializes one value at nesting level `.0`.
struct Level(usize);

impl<'de> DeserializeSeed<'de> for Level {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl Level {
    /// The level of the values inside a container at this level.
    fn nested(&self) -> Level {
        Level(self.0 + 1)
    }

    /// Refuses a container (object or array) that would sit below the deepest level.
    fn check_container<E: de::Error>(&self) -> Result<(), E> {
        if self.0 > MAX_DOCUMENT_DEPTH {
            return Err(E::custom(format!(
                "the document is nested deeper than {MAX_DOCUMENT_DEPTH} levels"
            )));
        }
        Ok(())
    }
}

impl<'de> Visitor<'de> for Level {
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

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.check_container()?;
        let mut fields = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if let Some(problem) = key_problem(&key) {
                return Err(de::Error::custom(format!("field {key:?}: {problem}")));
            }
            if fields.contains_key(&key) {
                return Err(de::Error::custom(format!("duplicate field {key:?}")));
            }
            let value = map.next_value_seed(self.nested())?;
            fields.insert(key, value);
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
}
