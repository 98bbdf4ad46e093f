//! The strict reading of JSON: one set of rules for every document the server reads.
//!
//! `serde_json` alone keeps the last of two duplicate keys, which lets two parsers disagree about
//! one payment, and turns integers beyond 64 bits into lossy floats. The strict reading refuses
//! both (and any number beyond the signed 64-bit range, so `1e20` and `100000000000000000000`
//! are read alike), refuses keys that document stores treat as operators or paths, and bounds
//! nesting.
//!
//! The rules live here only. [`AttributesReader`](crate::AttributesReader) applies them to
//! payment attributes (over JSON text and over a parsed tree alike) and owns their nesting bound;
//! the HTTP adapter's envelope parser applies them to the rest of a request document through the
//! functions below, and [`read_text`] applies the number rule to integers as written.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use serde::de;
use serde_json::de::StrRead;
use serde_json::Number;

/// A breach of the strict rules, with what the reader needs to name it.
#[derive(Debug, Clone, PartialEq)]
pub enum Breach<'a> {
    /// A key appears twice in one object.
    DuplicateKey(&'a str),
    /// A key a document store cannot hold (see [`key_problem`]).
    Key {
        /// The key as read.
        key: &'a str,
        /// Why it cannot be stored.
        problem: &'static str,
    },
    /// An object or array sits deeper than `max_level` levels (the outermost value is level 1).
    TooDeep {
        /// The deepest level allowed.
        max_level: usize,
    },
    /// A number outside the signed 64-bit range.
    OutOfRange(Number),
    /// A float that is not finite (JSON text cannot hold one; another deserializer might).
    NotFinite,
}

impl Breach<'_> {
    /// The breach as a deserializer's error: a reading of JSON text stops there, and
    /// `serde_json` adds the position to the message.
    pub fn to_error<E: de::Error>(&self) -> E {
        E::custom(self)
    }

    /// The reason given when the breach is reported as a field error at its path (the reading
    /// of a parsed tree, where there is no position and every breach is reported).
    pub fn field_message(&self) -> String {
        match self {
            Breach::DuplicateKey(_) => "the field appears more than once".to_owned(),
            Breach::Key { problem, .. } => (*problem).to_owned(),
            Breach::TooDeep { max_level } => format!("nesting deeper than {max_level} levels"),
            Breach::OutOfRange(_) => {
                "number out of range: must lie within the signed 64-bit integer range".to_owned()
            }
            Breach::NotFinite => "numbers must be finite".to_owned(),
        }
    }
}

impl fmt::Display for Breach<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Breach::DuplicateKey(key) => write!(f, "duplicate field {key:?}"),
            Breach::Key { key, problem } => write!(f, "field {key:?}: {problem}"),
            Breach::TooDeep { max_level } => {
                write!(f, "the document is nested deeper than {max_level} levels")
            }
            Breach::OutOfRange(number) => write!(
                f,
                "the number {number} is out of range: numbers must lie within the signed 64-bit \
                 integer range"
            ),
            Breach::NotFinite => f.write_str("numbers must be finite"),
        }
    }
}

/// Why a key cannot be stored, if it cannot: document stores give `$` and `.` special meaning.
#[inline]
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

/// The key rule: no key starts with `$` or holds `.` or NUL.
#[inline]
pub fn check_key(key: &str) -> Result<(), Breach<'_>> {
    match key_problem(key) {
        Some(problem) => Err(Breach::Key { key, problem }),
        None => Ok(()),
    }
}

/// The nesting rule: an object or array may open at `level` (the outermost value is level 1)
/// only if that is at most `max_level`.
#[inline]
pub fn check_nesting(level: usize, max_level: usize) -> Result<(), Breach<'static>> {
    if level > max_level {
        return Err(Breach::TooDeep { max_level });
    }
    Ok(())
}

/// 2^63, the first number past the signed 64-bit range (exact as an `f64`).
const I64_BOUND: f64 = 9_223_372_036_854_775_808.0;

/// Whether `number` lies within the signed 64-bit integer range, whether written as an integer
/// or with a fraction or exponent: JSON does not tell `1e20` from `100000000000000000000`, and
/// the API document bounds numbers by value.
#[inline]
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

/// The number rule for an unsigned integer as a deserializer reports it.
#[inline]
pub fn check_u64(value: u64) -> Result<(), Breach<'static>> {
    match i64::try_from(value) {
        Ok(_) => Ok(()),
        Err(_) => Err(Breach::OutOfRange(Number::from(value))),
    }
}

/// The number rule for a float as a deserializer reports it: the number, if it is finite and in
/// range.
#[inline]
pub fn check_f64(value: f64) -> Result<Number, Breach<'static>> {
    let number = Number::from_f64(value).ok_or(Breach::NotFinite)?;
    if number_in_range(&number) {
        Ok(number)
    } else {
        Err(Breach::OutOfRange(number))
    }
}

/// Objects with more keys than this look for a repeated key in a hash set instead of a scan.
const SCAN_LIMIT: usize = 16;

/// The keys of one object read so far, for the duplicate rule: a scan while they are few (most
/// objects), a hash set beyond. Keys borrowed from the input are not copied.
#[derive(Debug, Default)]
pub struct DistinctKeys<'de> {
    seen: Vec<Cow<'de, str>>,
    many: Option<HashSet<Cow<'de, str>>>,
}

impl<'de> DistinctKeys<'de> {
    /// No keys yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `key`; a breach if the object already had it.
    // A `Cow`, not a `&str`: cloning it keeps a key borrowed from the input uncopied.
    #[allow(clippy::ptr_arg)]
    #[inline]
    pub fn insert<'k>(&mut self, key: &'k Cow<'de, str>) -> Result<(), Breach<'k>> {
        let repeated = match &mut self.many {
            Some(set) => !set.insert(key.clone()),
            None if self.seen.len() < SCAN_LIMIT => {
                let found = self.seen.contains(key);
                self.seen.push(key.clone());
                found
            }
            None => {
                let mut set: HashSet<Cow<'de, str>> = self.seen.drain(..).collect();
                let found = !set.insert(key.clone());
                self.many = Some(set);
                found
            }
        };
        if repeated {
            return Err(Breach::DuplicateKey(key));
        }
        Ok(())
    }
}

/// Runs `read` over `text` as one whole JSON text (nothing but whitespace may follow the value),
/// with the number rule applied to integers as written; the refusal is the reading's message.
///
/// An integer beyond 64 bits reaches a deserializer's visitor as a rounded float, and one just
/// below the signed range rounds to its very bound, which is in range: such integers are found
/// in the text itself, wherever a run of digits is long enough to hold one, and named as
/// written.
pub fn read_text<T>(
    text: &str,
    read: impl FnOnce(&mut serde_json::Deserializer<StrRead<'_>>) -> serde_json::Result<T>,
) -> Result<T, String> {
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
        Ok(value) => match has_long_digit_run(text.as_bytes())
            .then(oversized)
            .flatten()
        {
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

#[cfg(test)]
#[path = "strict_tests.rs"]
mod tests;
