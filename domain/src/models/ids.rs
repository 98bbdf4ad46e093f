//! Identifier newtypes: a payment id can never be passed where an organisation id is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::errors::FieldError;

/// Defines a UUID-backed identifier newtype with parsing and display.
macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// Wraps an already-parsed UUID.
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// Parses the textual UUID form (hyphenated, simple, braced or URN).
            pub fn parse(text: &str) -> Result<Self, FieldError> {
                Uuid::parse_str(text)
                    .map(Self)
                    .map_err(|_| FieldError::new("", concat!($what, " must be a UUID")))
            }

            /// The underlying UUID.
            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // Always the lowercase hyphenated form, so ids sort and compare as text too.
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl FromStr for $name {
            type Err = FieldError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Self::parse(text)
            }
        }
    };
}

uuid_id!(
    /// The identity of one payment. Server-generated ids are UUIDv7, so they sort by creation time.
    PaymentId,
    "a payment id"
);

uuid_id!(
    /// The organisation that owns a payment.
    OrganisationId,
    "an organisation id"
);

uuid_id!(
    /// The identity of one asynchronous write (a command in the log). UUIDv7, so time-ordered.
    CommandId,
    "a command id"
);

impl CommandId {
    /// A fresh time-ordered (UUIDv7) command id.
    pub fn generate() -> Self {
        Self(Uuid::now_v7())
    }

    /// The page this id belongs to: its first 64 bits.
    pub fn page(&self) -> CommandPage {
        CommandPage(self.0.as_u64_pair().0)
    }
}

/// A page of command ids: the ids of one page share their first 64 bits (a UUIDv7's timestamp,
/// version and `rand_a`) and differ in their last 62, which are random. An API instance issues
/// the ids of the commands it accepts from its current page and turns to a new page whenever it
/// stores the accepted records, so a store can file one page's records together (one document
/// on MongoDB) and still find any of them from the id alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CommandPage(u64);

impl CommandPage {
    /// A new page: the first 64 bits of a UUIDv7 of this millisecond, with 12 random bits
    /// (`rand_a`; the generator's own would count, the same for pages of one millisecond).
    pub fn generate() -> Self {
        const RAND_A: u64 = 0xfff;
        let time = Uuid::now_v7().as_u64_pair().0;
        let random = Uuid::new_v4().as_u64_pair().0;
        Self((time & !RAND_A) | (random & RAND_A))
    }

    /// A fresh id of this page: a UUIDv7 of the page's millisecond with 62 random bits.
    pub fn id(self) -> CommandId {
        // A v4's second half is 62 random bits under the RFC 9562 variant bits.
        CommandId(Uuid::from_u64_pair(self.0, Uuid::new_v4().as_u64_pair().1))
    }

    /// The page's 64 bits.
    pub const fn bits(self) -> u64 {
        self.0
    }
}

impl fmt::Display for CommandPage {
    /// Sixteen lowercase hex digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl PaymentId {
    /// The lowest id (the nil UUID): every other id sorts after it.
    pub const MIN: PaymentId = PaymentId(Uuid::nil());

    /// A fresh time-ordered (UUIDv7) payment id.
    pub fn generate() -> Self {
        Self(Uuid::now_v7())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payment_id_parses_and_displays_lowercase_hyphenated() {
        let id = PaymentId::parse("4EE3A8D8-CA7B-4290-A52C-DD5B6165EC43").unwrap();
        assert_eq!(id.to_string(), "4ee3a8d8-ca7b-4290-a52c-dd5b6165ec43");
    }

    #[test]
    fn organisation_id_rejects_non_uuid_text() {
        let err = OrganisationId::parse("not-a-uuid").unwrap_err();
        assert!(err.message.contains("UUID"), "{err:?}");
    }

    #[test]
    fn the_ids_of_a_page_share_it_and_are_distinct_uuid_v7s() {
        let page = CommandPage::generate();
        let ids: Vec<CommandId> = (0..1000).map(|_| page.id()).collect();
        let distinct: std::collections::HashSet<_> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len());
        for id in &ids {
            assert_eq!(id.page(), page);
            assert_eq!(id.as_uuid().get_version_num(), 7, "{id}");
            assert_eq!(id.as_uuid().get_variant(), uuid::Variant::RFC4122, "{id}");
            assert_eq!(CommandId::parse(&id.to_string()).unwrap(), *id);
        }
        assert_eq!(page.to_string().len(), 16);
        // Pages of one millisecond differ in 12 random bits: 20 of them collide rarely.
        let pages: std::collections::HashSet<_> =
            (0..20).map(|_| CommandPage::generate()).collect();
        assert!(pages.len() >= 18, "{pages:?}");
    }

    #[test]
    fn generated_payment_ids_increase_over_time() {
        let first = PaymentId::generate();
        let second = PaymentId::generate();
        assert!(first < second);
        assert_eq!(first.as_uuid().get_version_num(), 7);
    }
}
