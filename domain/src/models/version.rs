//! The optimistic-concurrency version of a payment.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::errors::FieldError;

/// A payment's version: 0 when created, +1 on every update. Bounded by `i64::MAX` so every
/// storage backend (BSON has only signed integers) holds it exactly.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(try_from = "u64", into = "u64")]
pub struct Version(u64);

impl TryFrom<u64> for Version {
    type Error = String;

    fn try_from(value: u64) -> Result<Self, Self::Error> {
        Self::new(value).map_err(|e| e.message)
    }
}

impl From<Version> for u64 {
    fn from(version: Version) -> u64 {
        version.0
    }
}

impl Version {
    /// The version of a newly created payment.
    pub const INITIAL: Version = Version(0);
    /// The highest version a payment can reach.
    pub const MAX: Version = Version(i64::MAX as u64);

    /// A version from a number; fails above [`Version::MAX`].
    pub fn new(value: u64) -> Result<Self, FieldError> {
        if value > Self::MAX.0 {
            return Err(FieldError::new(
                "",
                format!("version must be between 0 and {}", Self::MAX.0),
            ));
        }
        Ok(Self(value))
    }

    /// A version from a signed number, as stored by backends with signed integers only.
    pub fn from_i64(value: i64) -> Result<Self, FieldError> {
        u64::try_from(value)
            .map_err(|_| FieldError::new("", "version must not be negative"))
            .and_then(Self::new)
    }

    /// The version after this one, or `None` at [`Version::MAX`].
    pub fn next(self) -> Option<Version> {
        (self < Self::MAX).then_some(Version(self.0 + 1))
    }

    /// The number.
    pub const fn value(self) -> u64 {
        self.0
    }

    /// The number as a signed integer (always exact: versions never exceed `i64::MAX`).
    pub const fn as_i64(self) -> i64 {
        self.0 as i64
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_above_i64_max_is_refused() {
        assert!(Version::new(i64::MAX as u64).is_ok());
        assert!(Version::new(i64::MAX as u64 + 1).is_err());
        assert!(Version::from_i64(-1).is_err());
    }

    #[test]
    fn next_stops_at_max() {
        assert_eq!(Version::INITIAL.next(), Some(Version(1)));
        assert_eq!(Version::MAX.next(), None);
    }
}
