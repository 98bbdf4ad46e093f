//! The stored form of a payment: the adapter's own BSON document, converted at the boundary so
//! no BSON type reaches `domain`.
//!
//! ```text
//! { _id: "<payment uuid>", version: Int64, organisation_id: "<uuid>",
//!   attributes: { ...the JSON attributes as a sub-document... },
//!   last_command: "<uuid of the write that produced this version>" | null,
//!   created_at: Date, updated_at: Date }
//! ```
//!
//! Ids are the lowercase hyphenated UUID text, which sorts like the UUID itself, so the list
//! cursor is a plain `_id > after`. JSON integers are stored as Int64 (the domain bounds them to
//! `i64`), JSON floats as Double, so each comes back as the JSON kind it was sent as.

use std::fmt;

use domain::{CommandId, OrganisationId, Payment, PaymentAttributes, PaymentId, Version};
use mongodb::bson::{Bson, DateTime, Document};
use serde_json::{Map, Number, Value};

/// `_id`: the payment id as text.
pub(super) const ID: &str = "_id";
/// The optimistic-concurrency version (Int64).
pub(super) const VERSION: &str = "version";
/// The owning organisation's id as text.
pub(super) const ORGANISATION_ID: &str = "organisation_id";
/// The attributes sub-document.
pub(super) const ATTRIBUTES: &str = "attributes";
/// The id of the command that wrote this version (text), null for a synchronous write.
pub(super) const LAST_COMMAND: &str = "last_command";
/// When the payment was first stored (storage metadata, not part of the domain).
pub(super) const CREATED_AT: &str = "created_at";
/// When the payment was last written (storage metadata, not part of the domain).
pub(super) const UPDATED_AT: &str = "updated_at";

/// The largest document MongoDB stores (its `maxBsonObjectSize`).
pub(super) const MAX_DOCUMENT_BYTES: usize = 16 * 1024 * 1024;

/// The size of `document` encoded as BSON, counted without building the bytes; `None` when it
/// cannot be encoded (the write would fail the same way).
pub(super) fn encoded_size(document: &Document) -> Option<usize> {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    document.to_writer(&mut counter).ok().map(|()| counter.0)
}

/// A value that cannot cross the boundary in one direction or the other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ConversionError(String);

impl fmt::Display for ConversionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn invalid(path: impl fmt::Display, problem: impl fmt::Display) -> ConversionError {
    ConversionError(format!("{path}: {problem}"))
}

/// One payment as MongoDB stores it (without the timestamps, which only the database sets).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct PaymentDocument {
    id: String,
    version: i64,
    organisation_id: String,
    attributes: Document,
    last_command: Option<String>,
}

/// The `_id` value of a payment.
pub(super) fn id_value(id: PaymentId) -> Bson {
    Bson::String(id.to_string())
}

impl PaymentDocument {
    /// The stored form of `payment`.
    pub(super) fn from_payment(payment: &Payment) -> Result<Self, ConversionError> {
        let json: Value = serde_json::from_str(payment.attributes().as_json())
            .map_err(|e| invalid(ATTRIBUTES, e))?;
        let attributes = match json_to_bson(&json, &Path::Field(ATTRIBUTES))? {
            Bson::Document(attributes) => attributes,
            _ => return Err(invalid(ATTRIBUTES, "not a JSON object")),
        };
        Ok(Self {
            id: payment.id().to_string(),
            version: payment.version().as_i64(),
            organisation_id: payment.organisation_id().to_string(),
            attributes,
            last_command: payment.last_command().map(|command| command.to_string()),
        })
    }

    /// The whole document for an insert, both timestamps set to `now`.
    pub(super) fn into_new_document(self, now: DateTime) -> Document {
        let mut document = Document::new();
        document.insert(ID, self.id.clone());
        document.extend(self.into_content(now));
        document.insert(CREATED_AT, now);
        document
    }

    /// The fields an update replaces (everything but `_id` and `created_at`), for `$set`.
    pub(super) fn into_content(self, now: DateTime) -> Document {
        let mut document = Document::new();
        document.insert(VERSION, self.version);
        document.insert(ORGANISATION_ID, self.organisation_id);
        document.insert(ATTRIBUTES, self.attributes);
        document.insert(
            LAST_COMMAND,
            self.last_command.map_or(Bson::Null, Bson::String),
        );
        document.insert(UPDATED_AT, now);
        document
    }

    /// Reads a stored document; fields other than the ones we write are ignored.
    pub(super) fn from_document(mut document: Document) -> Result<Self, ConversionError> {
        let id = match document.remove(ID) {
            Some(Bson::String(id)) => id,
            other => return Err(invalid(ID, unexpected("a string", other.as_ref()))),
        };
        let version = stored_version(document.get(VERSION))?;
        let organisation_id = match document.remove(ORGANISATION_ID) {
            Some(Bson::String(organisation)) => organisation,
            other => {
                return Err(invalid(
                    ORGANISATION_ID,
                    unexpected("a string", other.as_ref()),
                ))
            }
        };
        let attributes = match document.remove(ATTRIBUTES) {
            Some(Bson::Document(attributes)) => attributes,
            other => {
                return Err(invalid(
                    ATTRIBUTES,
                    unexpected("a document", other.as_ref()),
                ))
            }
        };
        let last_command = match document.remove(LAST_COMMAND) {
            None | Some(Bson::Null) => None,
            Some(Bson::String(command)) => Some(command),
            other => {
                return Err(invalid(
                    LAST_COMMAND,
                    unexpected("a string or null", other.as_ref()),
                ))
            }
        };
        Ok(Self {
            id,
            version,
            organisation_id,
            attributes,
            last_command,
        })
    }

    /// The domain payment, validated again: a stored document that no longer holds a valid
    /// payment is an error, never a panic.
    pub(super) fn into_payment(self) -> Result<Payment, ConversionError> {
        let id = PaymentId::parse(&self.id).map_err(|e| invalid(ID, e))?;
        let version = to_version(self.version)?;
        let organisation_id = OrganisationId::parse(&self.organisation_id)
            .map_err(|e| invalid(ORGANISATION_ID, e))?;
        let mut fields = Map::new();
        let attributes = Path::Field(ATTRIBUTES);
        for (key, value) in self.attributes {
            let item = bson_to_json(value, &Path::Key(&attributes, &key))?;
            fields.insert(key, item);
        }
        let attributes = PaymentAttributes::parse(fields).map_err(|e| invalid(ATTRIBUTES, e))?;
        let last_command = self
            .last_command
            .as_deref()
            .map(CommandId::parse)
            .transpose()
            .map_err(|e| invalid(LAST_COMMAND, e))?;
        Ok(Payment::new(id, version, organisation_id, attributes).written_by(last_command))
    }
}

/// The version `stored` holds.
pub(super) fn version_of(stored: &Document) -> Result<Version, ConversionError> {
    stored_version(stored.get(VERSION)).and_then(to_version)
}

fn to_version(version: i64) -> Result<Version, ConversionError> {
    Version::from_i64(version).map_err(|e| invalid(VERSION, e))
}

/// The raw version number (Int32 accepted too: other tools may have written it).
fn stored_version(value: Option<&Bson>) -> Result<i64, ConversionError> {
    match value {
        Some(Bson::Int64(version)) => Ok(*version),
        Some(Bson::Int32(version)) => Ok(i64::from(*version)),
        other => Err(invalid(VERSION, unexpected("an integer", other))),
    }
}

fn unexpected(wanted: &str, found: Option<&Bson>) -> String {
    match found {
        None => format!("missing; must be {wanted}"),
        Some(value) => format!("must be {wanted}, found {:?}", value.element_type()),
    }
}

/// Where a value sits in a document (`attributes.a[2].b`), written out only in an error: every
/// value of every payment read or written passes through the conversions below.
#[derive(Clone, Copy)]
pub(super) enum Path<'a> {
    /// A top-level field.
    Field(&'a str),
    /// A key of an object.
    Key(&'a Path<'a>, &'a str),
    /// An element of an array.
    Index(&'a Path<'a>, usize),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Field(name) => f.write_str(name),
            Path::Key(parent, key) => write!(f, "{parent}.{key}"),
            Path::Index(parent, index) => write!(f, "{parent}[{index}]"),
        }
    }
}

/// A JSON value as BSON: integers as Int64, floats as Double, objects as documents.
pub(super) fn json_to_bson(value: &Value, path: &Path<'_>) -> Result<Bson, ConversionError> {
    Ok(match value {
        Value::Null => Bson::Null,
        Value::Bool(flag) => Bson::Boolean(*flag),
        Value::Number(number) => number_to_bson(number, path)?,
        Value::String(text) => Bson::String(text.clone()),
        Value::Array(items) => Bson::Array(
            items
                .iter()
                .enumerate()
                .map(|(index, item)| json_to_bson(item, &Path::Index(path, index)))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(fields) => {
            let mut document = Document::new();
            for (key, item) in fields {
                document.insert(key.clone(), json_to_bson(item, &Path::Key(path, key))?);
            }
            Bson::Document(document)
        }
    })
}

fn number_to_bson(number: &Number, path: &Path<'_>) -> Result<Bson, ConversionError> {
    if let Some(integer) = number.as_i64() {
        return Ok(Bson::Int64(integer));
    }
    if number.is_f64() {
        if let Some(float) = number.as_f64() {
            return Ok(Bson::Double(float));
        }
    }
    // Only integers above i64::MAX are left; the domain refuses them at the edge.
    Err(invalid(
        path,
        format!("{number} does not fit in a BSON number"),
    ))
}

/// A BSON value as JSON; types JSON cannot carry exactly (dates, decimals, binary, ...) are
/// errors, since only this adapter writes the attributes and it never writes them.
pub(super) fn bson_to_json(value: Bson, path: &Path<'_>) -> Result<Value, ConversionError> {
    Ok(match value {
        Bson::Null => Value::Null,
        Bson::Boolean(flag) => Value::Bool(flag),
        Bson::Int32(integer) => Value::from(integer),
        Bson::Int64(integer) => Value::from(integer),
        Bson::Double(float) => Number::from_f64(float)
            .map(Value::Number)
            .ok_or_else(|| invalid(path, format!("{float} is not a JSON number")))?,
        Bson::String(text) => Value::String(text),
        Bson::Array(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(index, item)| bson_to_json(item, &Path::Index(path, index)))
                .collect::<Result<_, _>>()?,
        ),
        Bson::Document(document) => {
            let mut fields = Map::new();
            for (key, item) in document {
                let item = bson_to_json(item, &Path::Key(path, &key))?;
                fields.insert(key, item);
            }
            Value::Object(fields)
        }
        other => {
            return Err(invalid(
                path,
                format!("BSON {:?} has no JSON equivalent", other.element_type()),
            ))
        }
    })
}

#[cfg(test)]
#[path = "document_tests.rs"]
mod tests;
