//! Payment attributes read straight from JSON text: checked and rewritten in compact form in one
//! pass, with no `Value` tree in between.
//!
//! [`PaymentAttributes::parse`] takes a parsed `Map`; building that map (a hashed, ordered map
//! with an allocation per key and per string), walking it, then serializing it again was most of
//! the CPU time of a `POST` (docs/benchmarks/README.md). [`AttributesSeed`] reads the same
//! attributes from a `serde_json` deserializer and writes the same compact text, byte for byte:
//! keys in their order, strings escaped and numbers written as `serde_json` writes them. It
//! enforces, as hard errors carrying the reader's position, what a strict JSON reading
//! enforces everywhere: no duplicate keys, no key starting with `$` or holding `.` or NUL, bounded
//! nesting, every number within the signed 64-bit range. The payment rules (amount, currency,
//! dates, scheme limits) are reported as a [`ValidationError`] like `parse` reports them.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter};
use serde_json::Number;

use super::attributes::{
    key_problem, Field, Modelled, Path, PaymentAttributes, DATE_FIELDS, MAX_ATTRIBUTES_DEPTH,
    NOT_A_DATE,
};
use super::date::is_calendar_date;
use crate::errors::{FieldError, ValidationError};

/// Objects with more keys than this check duplicates with a hash set instead of a scan.
const SCAN_LIMIT: usize = 16;

/// Reads payment attributes from a `serde_json` deserializer, checking them and writing their
/// compact text in one pass, with no `Value` tree in between; the text is byte for byte what
/// [`PaymentAttributes::parse`] keeps for the same value.
///
/// Its value is the attributes, or the payment rules they break (amount, currency, dates, scheme
/// limits), as `parse` reports them. A breach of the strict reading is the deserializer's error
/// instead, with its position: a duplicate key, a key starting with `$` or holding `.` or NUL,
/// nesting beyond the limit, a number outside the signed 64-bit range.
///
/// ```
/// use serde::de::DeserializeSeed;
/// use domain::AttributesSeed;
///
/// let text = r#"{ "amount": "10.00", "currency": "GBP", "note": "\u00e9", "n": 1.50 }"#;
/// let mut reader = serde_json::Deserializer::from_str(text);
/// let attributes = AttributesSeed::new().deserialize(&mut reader)?.unwrap();
/// assert_eq!(attributes.as_json(), r#"{"amount":"10.00","currency":"GBP","note":"é","n":1.5}"#);
///
/// let mut reader = serde_json::Deserializer::from_str(r#"{"amount": "1", "amount": "2"}"#);
/// assert!(AttributesSeed::new().deserialize(&mut reader).is_err());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct AttributesSeed {
    level: usize,
    max_level: usize,
}

impl AttributesSeed {
    /// For attributes that are the whole document: at most [`MAX_ATTRIBUTES_DEPTH`] levels.
    pub fn new() -> Self {
        Self::nested(1, MAX_ATTRIBUTES_DEPTH)
    }

    /// For attributes found at nesting `level` of a larger document (the document itself is
    /// level 1) that may be at most `max_level` levels deep; deeper nesting is refused with
    /// "the document is nested deeper than `max_level` levels".
    pub fn nested(level: usize, max_level: usize) -> Self {
        Self { level, max_level }
    }
}

impl Default for AttributesSeed {
    fn default() -> Self {
        Self::new()
    }
}

impl<'de> DeserializeSeed<'de> for AttributesSeed {
    type Value = Result<PaymentAttributes, ValidationError>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        let mut reading = Reading {
            out: Vec::with_capacity(512),
            errors: Vec::new(),
            top_level: self.level,
            max_level: self.max_level,
            amount: Captured::Absent,
            currency: Captured::Absent,
            payment_scheme: Captured::Absent,
            root_is_object: false,
        };
        deserializer.deserialize_any(Node {
            reading: &mut reading,
            path: &Path::Root,
            level: self.level,
            role: Role::Root,
        })?;
        if !reading.root_is_object {
            return Ok(Err(FieldError::new("", "must be a JSON object").into()));
        }
        let Reading {
            out,
            errors,
            amount,
            currency,
            payment_scheme,
            ..
        } = reading;
        let modelled = Modelled {
            amount: amount.field(),
            currency: currency.field(),
            payment_scheme: payment_scheme.field(),
        };
        Ok(PaymentAttributes::finish(modelled, errors, || {
            // Only whole UTF-8 strings and ASCII were written.
            String::from_utf8(out).map_err(|e| de::Error::custom(e.to_string()))
        }))
    }
}

/// The state of one reading.
struct Reading {
    out: Vec<u8>,
    errors: Vec<FieldError>,
    /// The level of the attributes object: its keys are the modelled fields.
    top_level: usize,
    max_level: usize,
    amount: Captured,
    currency: Captured,
    payment_scheme: Captured,
    root_is_object: bool,
}

/// A modelled field as read.
enum Captured {
    Absent,
    Null,
    Str(String),
    Other,
}

impl Captured {
    fn field(&self) -> Field<'_> {
        match self {
            Captured::Absent => Field::Absent,
            Captured::Null => Field::Null,
            Captured::Str(text) => Field::Str(text),
            Captured::Other => Field::Other,
        }
    }
}

/// What the value being read is to the rules.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// The attributes themselves.
    Root,
    /// A value with no rule of its own.
    Plain,
    /// A date field: `null` or a real `YYYY-MM-DD` date.
    Date,
    /// `amount`, `currency` or `payment_scheme` of the attributes.
    Amount,
    Currency,
    PaymentScheme,
}

impl Role {
    fn of_key(key: &str, is_top: bool) -> Role {
        match key {
            "amount" if is_top => Role::Amount,
            "currency" if is_top => Role::Currency,
            "payment_scheme" if is_top => Role::PaymentScheme,
            _ if DATE_FIELDS.contains(&key) => Role::Date,
            _ => Role::Plain,
        }
    }
}

/// One value being read at `path`, nesting `level`.
struct Node<'r, 'p> {
    reading: &'r mut Reading,
    path: &'p Path<'p>,
    level: usize,
    role: Role,
}

impl Node<'_, '_> {
    /// Records what a value that is not a string or `null` means for its role.
    fn other(&mut self) {
        match self.role {
            Role::Date => self
                .reading
                .errors
                .push(FieldError::new(self.path.to_string(), NOT_A_DATE)),
            _ => self.capture(Captured::Other),
        }
    }

    fn capture(&mut self, value: Captured) {
        let slot = match self.role {
            Role::Amount => &mut self.reading.amount,
            Role::Currency => &mut self.reading.currency,
            Role::PaymentScheme => &mut self.reading.payment_scheme,
            Role::Root | Role::Plain | Role::Date => return,
        };
        *slot = value;
    }

    fn check_container<E: de::Error>(&self) -> Result<(), E> {
        if self.level > self.reading.max_level {
            return Err(E::custom(format!(
                "the document is nested deeper than {} levels",
                self.reading.max_level
            )));
        }
        Ok(())
    }

    fn number<E: de::Error>(&mut self, number: Number) -> Result<(), E> {
        Err(E::custom(format!(
            "the number {number} is out of range: numbers must lie within the signed 64-bit \
             integer range"
        )))
    }

    fn string(&mut self, text: &str, borrowed: bool) {
        if borrowed {
            write_borrowed_str(&mut self.reading.out, text);
        } else {
            write_str(&mut self.reading.out, text);
        }
        match self.role {
            Role::Date if !is_calendar_date(text) => self
                .reading
                .errors
                .push(FieldError::new(self.path.to_string(), NOT_A_DATE)),
            Role::Amount | Role::Currency | Role::PaymentScheme => {
                self.capture(Captured::Str(text.to_owned()));
            }
            _ => {}
        }
    }
}

impl<'de> Visitor<'de> for Node<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(mut self, value: bool) -> Result<(), E> {
        self.reading
            .out
            .extend_from_slice(if value { b"true" } else { b"false" });
        self.other();
        Ok(())
    }

    fn visit_i64<E>(mut self, value: i64) -> Result<(), E> {
        // Writing into a Vec cannot fail.
        let _ = CompactFormatter.write_i64(&mut self.reading.out, value);
        self.other();
        Ok(())
    }

    fn visit_u64<E: de::Error>(mut self, value: u64) -> Result<(), E> {
        if i64::try_from(value).is_err() {
            return self.number(Number::from(value));
        }
        let _ = CompactFormatter.write_u64(&mut self.reading.out, value);
        self.other();
        Ok(())
    }

    fn visit_f64<E: de::Error>(mut self, value: f64) -> Result<(), E> {
        let Some(number) = Number::from_f64(value) else {
            return Err(E::custom("numbers must be finite"));
        };
        if !super::attributes::number_in_range(&number) {
            return self.number(number);
        }
        let _ = CompactFormatter.write_f64(&mut self.reading.out, value);
        self.other();
        Ok(())
    }

    fn visit_borrowed_str<E>(mut self, value: &'de str) -> Result<(), E> {
        self.string(value, true);
        Ok(())
    }

    fn visit_str<E>(mut self, value: &str) -> Result<(), E> {
        self.string(value, false);
        Ok(())
    }

    fn visit_unit<E>(mut self) -> Result<(), E> {
        self.reading.out.extend_from_slice(b"null");
        self.capture(Captured::Null);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        self.check_container()?;
        self.other();
        self.reading.out.push(b'[');
        let mut index = 0;
        loop {
            // Whether another element follows is known only by reading it, so its separator is
            // written first and taken back when the array has ended.
            let start = self.reading.out.len();
            if index > 0 {
                self.reading.out.push(b',');
            }
            let path = Path::Index(self.path, index);
            let element = Node {
                reading: &mut *self.reading,
                path: &path,
                level: self.level + 1,
                role: Role::Plain,
            };
            if seq.next_element_seed(element)?.is_none() {
                self.reading.out.truncate(start);
                break;
            }
            index += 1;
        }
        self.reading.out.push(b']');
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        self.check_container()?;
        if self.role == Role::Root {
            self.reading.root_is_object = true;
        } else {
            self.other();
        }
        let is_top = self.level == self.reading.top_level;
        let mut seen: Vec<Cow<'de, str>> = Vec::new();
        let mut many: Option<HashSet<Cow<'de, str>>> = None;
        self.reading.out.push(b'{');
        let mut written = 0usize;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            if let Some(problem) = key_problem(&key) {
                return Err(de::Error::custom(format!("field {key:?}: {problem}")));
            }
            let duplicate = match &mut many {
                Some(set) => !set.insert(key.clone()),
                None if seen.len() < SCAN_LIMIT => {
                    let found = seen.contains(&key);
                    seen.push(key.clone());
                    found
                }
                None => {
                    let mut set: HashSet<Cow<'de, str>> = seen.drain(..).collect();
                    let found = !set.insert(key.clone());
                    many = Some(set);
                    found
                }
            };
            if duplicate {
                return Err(de::Error::custom(format!("duplicate field {key:?}")));
            }
            if written > 0 {
                self.reading.out.push(b',');
            }
            written += 1;
            match &key {
                Cow::Borrowed(text) => write_borrowed_str(&mut self.reading.out, text),
                Cow::Owned(text) => write_str(&mut self.reading.out, text),
            }
            self.reading.out.push(b':');
            let path = Path::Key(self.path, &key);
            map.next_value_seed(Node {
                reading: &mut *self.reading,
                path: &path,
                level: self.level + 1,
                role: Role::of_key(&key, is_top),
            })?;
        }
        self.reading.out.push(b'}');
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Node<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// A key, borrowed from the input when it holds no escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_borrowed_str<E>(self, value: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(value))
    }

    fn visit_str<E>(self, value: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(value))
    }
}

/// Appends `text`, borrowed from the input, as a JSON string. A string `serde_json` lends from
/// its input had no escapes there, so it holds nothing to escape (no quote, backslash or control
/// character) and is copied; the check keeps this true for any other deserializer.
fn write_borrowed_str(out: &mut Vec<u8>, text: &str) {
    if needs_escape(text.as_bytes()) {
        write_str(out, text);
        return;
    }
    out.reserve(text.len() + 2);
    out.push(b'"');
    out.extend_from_slice(text.as_bytes());
    out.push(b'"');
}

/// Whether `bytes` hold a quote, a backslash or a control character. Eight bytes at a time
/// (every string of every write passes here): `x - 0x01..01 * n & !x & 0x80..80` is non-zero
/// exactly when some byte of `x` is below `n`, and a byte equals `c` when `x ^ c..c` has a zero
/// byte.
fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let below = |word: u64, n: u8| word.wrapping_sub(ONES * u64::from(n)) & !word & HIGHS;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut eight = [0; 8];
        eight.copy_from_slice(chunk);
        let word = u64::from_le_bytes(eight);
        let found = below(word, 0x20)
            | below(word ^ (ONES * u64::from(b'"')), 1)
            | below(word ^ (ONES * u64::from(b'\\')), 1);
        if found != 0 {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|&byte| byte < 0x20 || byte == b'"' || byte == b'\\')
}

/// Appends `text` as a JSON string, escaped as `serde_json` escapes it.
fn write_str(out: &mut Vec<u8>, text: &str) {
    // Writing into a Vec cannot fail.
    let _ = text.serialize(&mut serde_json::Serializer::new(out));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Result<PaymentAttributes, ValidationError>, String> {
        let mut reader = serde_json::Deserializer::from_str(text);
        let read = AttributesSeed::new()
            .deserialize(&mut reader)
            .map_err(|e| e.to_string())?;
        reader.end().map_err(|e| e.to_string())?;
        Ok(read)
    }

    fn text_of(text: &str) -> String {
        read(text).unwrap().unwrap().as_json().to_owned()
    }

    #[test]
    fn the_text_is_what_serde_json_writes_for_the_parsed_value() {
        let input = r#" { "amount" : "1.00", "currency":"GBP",
            "esc\u0061ped": "tab\t \u00e9 \/ \"q\" \\ \u0001", "plain": "é ☃",
            "numbers": [0, -0, 7, -7, 1.50, 2e3, -9223372036854775808, 9223372036854775807],
            "nested": {"a": [true, false, null, {}, []]} } "#;
        let value: serde_json::Value = serde_json::from_str(input).unwrap();
        assert_eq!(text_of(input), serde_json::to_string(&value).unwrap());
    }

    #[test]
    fn duplicates_are_refused_in_small_and_large_objects() {
        let small = r#"{"amount": "1.00", "currency": "GBP", "a": {"x": 1, "x": 2}}"#;
        assert!(read(small).unwrap_err().contains("duplicate field \"x\""));
        let keys: Vec<String> = (0..40).map(|i| format!("\"k{i}\": {i}")).collect();
        let large = format!(
            r#"{{"amount": "1.00", "currency": "GBP", {}, "k33": 0}}"#,
            keys.join(",")
        );
        assert!(read(&large)
            .unwrap_err()
            .contains("duplicate field \"k33\""));
        let distinct = format!(
            r#"{{"amount": "1.00", "currency": "GBP", {}}}"#,
            keys.join(",")
        );
        assert!(read(&distinct).unwrap().is_ok());
    }

    #[test]
    fn keys_the_stores_cannot_hold_are_refused_escaped_or_not() {
        for (text, problem) in [
            (r#"{"$set": 1}"#, "start with '$'"),
            (r#"{"a": [{"b.c": 1}]}"#, "contain '.'"),
            (r#"{"a\u0000": 1}"#, "NUL"),
            (r#"{"\u0024x": 1}"#, "start with '$'"),
        ] {
            let error = read(text).unwrap_err();
            assert!(error.contains(problem), "{text}: {error}");
        }
    }

    #[test]
    fn nesting_numbers_and_non_objects() {
        let deep = format!("{{\"a\": {}{}}}", "[".repeat(30), "]".repeat(30));
        assert!(read(&deep)
            .unwrap_err()
            .contains("nested deeper than 30 levels"));
        let ok = format!(
            "{{\"amount\": \"1.00\", \"currency\": \"GBP\", \"a\": {}{}}}",
            "[".repeat(29),
            "]".repeat(29)
        );
        assert!(read(&ok).unwrap().is_ok());
        assert!(read(r#"{"n": 9223372036854775808}"#)
            .unwrap_err()
            .contains("out of range"));
        assert!(read(r#"{"n": 1e19}"#).unwrap_err().contains("out of range"));
        let refused = read("[1, 2]").unwrap().unwrap_err();
        assert_eq!(refused.fields()[0].message, "must be a JSON object");
    }

    #[test]
    fn payment_rules_are_reported_with_their_paths() {
        let refused = read(
            r#"{"currency": 5, "payment_scheme": "FPS", "p": [{"birth_date": "2001-02-29"}],
                "processing_date": {"x": 1}}"#,
        )
        .unwrap()
        .unwrap_err();
        let fields: Vec<(&str, &str)> = refused
            .fields()
            .iter()
            .map(|f| (f.field.as_str(), f.message.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                ("p[0].birth_date", NOT_A_DATE),
                ("processing_date", NOT_A_DATE),
                ("amount", "is required"),
                ("currency", "must be a string"),
            ]
        );
        let over_limit =
            read(r#"{"amount": "250000.01", "currency": "GBP", "payment_scheme": "FPS"}"#)
                .unwrap()
                .unwrap_err();
        assert_eq!(over_limit.fields()[0].field, "amount");
    }

    #[test]
    fn needs_escape_finds_every_byte_that_needs_one_at_every_position() {
        for length in 0..20 {
            for position in 0..length {
                for byte in 0..=u8::MAX {
                    let mut text = vec![b'a'; length];
                    text[position] = byte;
                    let expected = byte < 0x20 || byte == b'"' || byte == b'\\';
                    assert_eq!(
                        needs_escape(&text),
                        expected,
                        "{byte} at {position} of {length}"
                    );
                }
            }
            assert!(!needs_escape(&vec![b'a'; length]));
            assert!(!needs_escape("é☃𝄞~\x7f".repeat(length).as_bytes()));
        }
    }

    #[test]
    fn borrowed_strings_needing_escapes_are_still_escaped() {
        let mut out = Vec::new();
        write_borrowed_str(&mut out, "a\"b\\c\u{1}");
        assert_eq!(String::from_utf8(out).unwrap(), r#""a\"b\\c\u0001""#);
    }
}
