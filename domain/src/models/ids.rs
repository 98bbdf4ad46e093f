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
    fn generated_payment_ids_increase_over_time() {
        let first = PaymentId::generate();
        let second = PaymentId::generate();
        assert!(first < second);
        assert_eq!(first.as_uuid().get_version_num(), 7);
    }
}
