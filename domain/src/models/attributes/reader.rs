//! Payment attributes read in one pass: checked against the strict rules and the payment rules
//! while their canonical text is written, with no `Value` tree in between.
//!
//! Building a map (a hashed, ordered map with an allocation per key and per string), walking it,
//! then serializing it again was most of the CPU time of a `POST` (docs/benchmarks/README.md).
//! [`AttributesReader`] reads the attributes from any `serde` deserializer and writes what
//! `serde_json` writes for the same value, byte for byte: keys in their order, strings escaped
//! and numbers written as `serde_json` writes them. It is the only implementation of the
//! attribute rules: the request path runs it over JSON text, [`PaymentAttributes::parse`] and
//! [`PaymentAttributes::from_value`] (library callers, the MongoDB adapter) over a parsed tree,
//! which is itself a deserializer.

use serde::de::{self, DeserializeSeed};

use super::node::{Node, Path, Role};
use super::{Field, Modelled, PaymentAttributes, MAX_ATTRIBUTES_DEPTH};
use crate::errors::{FieldError, ValidationError};
use crate::models::strict;

/// Reads payment attributes from a `serde` deserializer, checking them and writing their compact
/// text in one pass: the text is byte for byte what `serde_json` writes for the same value.
///
/// Its value is the attributes, or the payment rules they break (amount, currency, dates, scheme
/// limits) as a [`ValidationError`] naming each field. A breach of the [strict
/// rules](crate::strict) (a duplicate key, a key starting with `$` or holding `.` or NUL, nesting
/// deeper than [`MAX_ATTRIBUTES_DEPTH`] levels, a number outside the signed 64-bit range) is the
/// deserializer's error instead, at once and with its position: the input is not accepted JSON.
/// [`PaymentAttributes::parse`] and [`PaymentAttributes::from_value`] run the same reader over a
/// tree, where each breach is a field error at its path instead and every one is reported.
///
/// ```
/// use domain::AttributesReader;
///
/// let text = r#"{ "amount": "10.00", "currency": "GBP", "note": "\u00e9", "n": 1.50 }"#;
/// let attributes = AttributesReader::new().read_str(text)?.unwrap();
/// assert_eq!(attributes.as_json(), r#"{"amount":"10.00","currency":"GBP","note":"é","n":1.5}"#);
///
/// let refused = AttributesReader::new().read_str(r#"{"amount": "1", "amount": "2"}"#);
/// assert_eq!(refused.unwrap_err(), "duplicate field \"amount\" at line 1 column 24");
/// # Ok::<(), String>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct AttributesReader {
    level: usize,
    breaches: Breaches,
}

/// How a reading reports a breach of the strict rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Breaches {
    /// As the deserializer's error, at once (JSON text: it is not accepted JSON).
    Fail,
    /// As a field error at its path, the reading going on (a parsed tree: every breach named).
    Collect,
}

impl AttributesReader {
    /// For attributes that are the whole document.
    pub const fn new() -> Self {
        Self::at_level(1)
    }

    /// For attributes found at nesting `level` (1 or more) of a larger document, the document
    /// itself being level 1. The attributes may still be [`MAX_ATTRIBUTES_DEPTH`] levels deep,
    /// which the reader counts from the document: deeper nesting is refused with "the document
    /// is nested deeper than [`max_level`](Self::max_level) levels".
    pub const fn at_level(level: usize) -> Self {
        Self {
            level,
            breaches: Breaches::Fail,
        }
    }

    /// The reader of a parsed tree, which reports every breach as a field error.
    pub(super) const fn for_tree() -> Self {
        Self {
            level: 1,
            breaches: Breaches::Collect,
        }
    }

    /// The deepest level of the document the attributes may reach: the attributes object
    /// counts as one of their [`MAX_ATTRIBUTES_DEPTH`] levels.
    pub const fn max_level(&self) -> usize {
        self.level.saturating_sub(1) + MAX_ATTRIBUTES_DEPTH
    }

    /// Reads attributes that are the whole JSON `text`: the attributes or the payment rules they
    /// break, or the reason the text is not accepted JSON (with the strict rules, integers beyond
    /// 64 bits named as written; see [`strict::read_text`]).
    pub fn read_str(
        self,
        text: &str,
    ) -> Result<Result<PaymentAttributes, ValidationError>, String> {
        strict::read_text(text, |reader| self.deserialize(reader))
    }
}

impl Default for AttributesReader {
    fn default() -> Self {
        Self::new()
    }
}

impl<'de> DeserializeSeed<'de> for AttributesReader {
    type Value = Result<PaymentAttributes, ValidationError>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        let mut reading = Reading {
            out: Vec::with_capacity(512),
            errors: Vec::new(),
            top_level: self.level,
            max_level: self.max_level(),
            breaches: self.breaches,
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
        Ok(PaymentAttributes::finish(modelled, errors, out))
    }
}

/// The state of one reading.
pub(super) struct Reading {
    /// The compact text written so far.
    pub(super) out: Vec<u8>,
    /// The payment rules broken so far (and, reading a tree, the strict rules).
    pub(super) errors: Vec<FieldError>,
    /// The level of the attributes object: its keys are the modelled fields.
    pub(super) top_level: usize,
    /// The deepest level an object or array may open at.
    pub(super) max_level: usize,
    pub(super) breaches: Breaches,
    pub(super) amount: Captured,
    pub(super) currency: Captured,
    pub(super) payment_scheme: Captured,
    pub(super) root_is_object: bool,
}

/// A modelled field as read.
pub(super) enum Captured {
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

#[cfg(test)]
#[path = "reader_tests.rs"]
mod tests;
