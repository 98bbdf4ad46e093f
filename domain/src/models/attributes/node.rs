//! One value of the attributes being read: the walk of [`AttributesReader`](super::AttributesReader)
//! over a deserializer, applying the strict rules and the payment rules' field roles while it
//! writes the compact text.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::ser::{CompactFormatter, Formatter};

use super::reader::{Breaches, Captured, Reading};
use super::text::{write_borrowed_str, write_str};
use super::{DATE_FIELDS, NOT_A_DATE};
use crate::errors::FieldError;
use crate::models::date::is_calendar_date;
use crate::models::strict::{self, Breach, DistinctKeys};

/// What the value being read is to the rules.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
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

/// One value being read at `path`, nesting `level`.
pub(super) struct Node<'r, 'p> {
    pub(super) reading: &'r mut Reading,
    pub(super) path: &'p Path<'p>,
    pub(super) level: usize,
    pub(super) role: Role,
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

    /// Reports `breach` of the strict rules at `path`: the reading's error, or a field error
    /// when reading a tree.
    fn breach<E: de::Error>(&mut self, path: &Path<'_>, breach: Breach<'_>) -> Result<(), E> {
        match self.reading.breaches {
            Breaches::Fail => Err(breach.to_error()),
            Breaches::Collect => {
                let error = FieldError::new(path.to_string(), breach.field_message());
                self.reading.errors.push(error);
                Ok(())
            }
        }
    }

    /// Whether an object or array may open here; when it may not and the reading goes on, the
    /// caller skips its content.
    fn open<E: de::Error>(&mut self) -> Result<bool, E> {
        match strict::check_nesting(self.level, self.reading.max_level) {
            Ok(()) => Ok(true),
            Err(breach) => {
                let path = self.path;
                self.breach(path, breach).map(|()| false)
            }
        }
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
        self.other();
        if let Err(breach) = strict::check_u64(value) {
            let path = self.path;
            return self.breach(path, breach);
        }
        let _ = CompactFormatter.write_u64(&mut self.reading.out, value);
        Ok(())
    }

    fn visit_f64<E: de::Error>(mut self, value: f64) -> Result<(), E> {
        self.other();
        if let Err(breach) = strict::check_f64(value) {
            let path = self.path;
            return self.breach(path, breach);
        }
        let _ = CompactFormatter.write_f64(&mut self.reading.out, value);
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
        self.other();
        if !self.open()? {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(());
        }
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
        if self.role == Role::Root {
            self.reading.root_is_object = true;
        } else {
            self.other();
        }
        if !self.open()? {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(());
        }
        let is_top = self.level == self.reading.top_level;
        let mut keys = DistinctKeys::new();
        self.reading.out.push(b'{');
        let mut first = true;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let path = Path::Key(self.path, &key);
            if let Err(breach) = strict::check_key(&key) {
                self.breach(&path, breach)?;
            }
            if let Err(breach) = keys.insert(&key) {
                self.breach(&path, breach)?;
            }
            if !first {
                self.reading.out.push(b',');
            }
            first = false;
            match &key {
                Cow::Borrowed(text) => write_borrowed_str(&mut self.reading.out, text),
                Cow::Owned(text) => write_str(&mut self.reading.out, text),
            }
            self.reading.out.push(b':');
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
