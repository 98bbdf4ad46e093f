//! Domain errors: one enum per use case, plus the storage error the repository port reports.

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::models::{Forbidden, PaymentId, Version};

/// One refused field: where it is (a dotted path such as `data.attributes.amount`) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Dotted path of the offending field; empty when the value itself is the subject.
    pub field: String,
    /// Human-readable reason.
    pub message: String,
}

impl FieldError {
    /// A new field error.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The same error located under `parent` (`amount` under `attributes` is `attributes.amount`).
    pub fn under(mut self, parent: &str) -> Self {
        self.field = join_path(parent, &self.field);
        self
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

impl std::error::Error for FieldError {}

/// Joins two dotted path segments, either of which may be empty.
pub(crate) fn join_path(parent: &str, child: &str) -> String {
    match (parent.is_empty(), child.is_empty()) {
        (true, _) => child.to_owned(),
        (_, true) => parent.to_owned(),
        _ => format!("{parent}.{child}"),
    }
}

/// A payment document that breaks one or more rules; never empty.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{}", summary(.0))]
pub struct ValidationError(pub Vec<FieldError>);

impl ValidationError {
    /// A validation error with a single cause.
    pub fn single(error: FieldError) -> Self {
        Self(vec![error])
    }

    /// Every refused field.
    pub fn fields(&self) -> &[FieldError] {
        &self.0
    }

    /// The same errors located under `parent`.
    pub fn under(self, parent: &str) -> Self {
        Self(self.0.into_iter().map(|e| e.under(parent)).collect())
    }
}

impl From<FieldError> for ValidationError {
    fn from(error: FieldError) -> Self {
        Self::single(error)
    }
}

fn summary(errors: &[FieldError]) -> String {
    let parts: Vec<String> = errors.iter().map(ToString::to_string).collect();
    parts.join("; ")
}

/// A storage failure as reported through the repository port.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize, Deserialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum RepositoryError {
    /// The storage could not be reached or timed out; the operation may be retried.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// The storage answered with something unexpected (corrupt data, a driver bug).
    #[error("storage failure: {0}")]
    Internal(String),
    /// The payment is larger than the storage can hold (MongoDB: 16 MiB per document); a retry
    /// cannot succeed, a smaller payment can.
    #[error("payment too large for the storage: {0}")]
    TooLarge(String),
}

/// Why a payment could not be created.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize, Deserialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum CreatePaymentError {
    /// A payment with this id already exists with other content.
    #[error("payment {id} already exists with different content")]
    Conflict {
        /// The id the client asked for.
        id: PaymentId,
    },
    /// The caller does not act for the organisation named (see [`crate::Access`]).
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    /// The storage failed.
    #[error(transparent)]
    Storage(#[from] RepositoryError),
}

/// Why a payment could not be fetched.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GetPaymentError {
    /// No payment has this id.
    #[error("payment {id} not found")]
    NotFound {
        /// The id looked up.
        id: PaymentId,
    },
    /// The storage failed.
    #[error(transparent)]
    Storage(#[from] RepositoryError),
}

/// Why a payment could not be updated.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize, Deserialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum UpdatePaymentError {
    /// No payment has this id.
    #[error("payment {id} not found")]
    NotFound {
        /// The id to update.
        id: PaymentId,
    },
    /// The version in the document is not the stored version (someone else updated it first).
    #[error("version conflict: expected {expected}, stored version is {actual}")]
    VersionConflict {
        /// The version the client sent.
        expected: Version,
        /// The version currently stored.
        actual: Version,
    },
    /// The `If-Match` precondition does not hold.
    #[error("precondition failed: If-Match {expected}, stored version is {actual}")]
    PreconditionFailed {
        /// The version named by `If-Match`.
        expected: Version,
        /// The version currently stored.
        actual: Version,
    },
    /// The stored version cannot be incremented any further.
    #[error("payment {id} has reached the highest version")]
    VersionExhausted {
        /// The id to update.
        id: PaymentId,
    },
    /// The caller does not act for the organisation named (see [`crate::Access`]).
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    /// The storage failed.
    #[error(transparent)]
    Storage(#[from] RepositoryError),
}

/// Why a payment could not be deleted.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize, Deserialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum DeletePaymentError {
    /// No payment has this id.
    #[error("payment {id} not found")]
    NotFound {
        /// The id to delete.
        id: PaymentId,
    },
    /// The version given is not the stored version.
    #[error("version conflict: expected {expected}, stored version is {actual}")]
    VersionConflict {
        /// The version the client sent.
        expected: Version,
        /// The version currently stored.
        actual: Version,
    },
    /// The storage failed.
    #[error(transparent)]
    Storage(#[from] RepositoryError),
}

/// Why payments could not be listed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ListPaymentsError {
    /// The caller does not act for the organisation named (see [`crate::Access`]).
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    /// The storage failed.
    #[error(transparent)]
    Storage(#[from] RepositoryError),
}
