//! What applying a command did, kept so the status resource can answer exactly what the
//! synchronous API would have answered.

use serde::{Deserialize, Serialize};

use crate::errors::{CreatePaymentError, DeletePaymentError, RepositoryError, UpdatePaymentError};
use crate::models::Version;

/// The outcome of a finished command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum CommandOutcome {
    /// A create stored the payment at `version` (the synchronous API's 201).
    Created {
        /// The version it stored (0).
        version: Version,
    },
    /// A create found the identical payment already stored (the synchronous API's 200).
    AlreadyCreated {
        /// The stored version.
        version: Version,
    },
    /// An update stored `version` (200).
    Updated {
        /// The version after the update.
        version: Version,
    },
    /// A delete removed the payment (204).
    Deleted,
    /// Nothing was written: the use case's own error, so the inbound adapter answers it with
    /// the same mapping as the synchronous path.
    Refused(CommandError),
}

impl CommandOutcome {
    /// Whether the command was applied (it wrote, or found its identical create), as opposed to
    /// rejected.
    pub fn is_applied(&self) -> bool {
        !matches!(self, Self::Refused(_))
    }

    /// The payment's version after the command, for applied creates and updates.
    pub fn version(&self) -> Option<Version> {
        match self {
            Self::Created { version }
            | Self::AlreadyCreated { version }
            | Self::Updated { version } => Some(*version),
            Self::Deleted | Self::Refused(_) => None,
        }
    }
}

/// A refused command: the error of the use case it ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", content = "error", rename_all = "snake_case")]
pub enum CommandError {
    /// A refused create.
    Create(CreatePaymentError),
    /// A refused update.
    Update(UpdatePaymentError),
    /// A refused delete.
    Delete(DeletePaymentError),
}

impl CommandError {
    /// The storage failure behind the refusal, if that is what it is.
    pub fn storage(&self) -> Option<&RepositoryError> {
        match self {
            Self::Create(CreatePaymentError::Storage(storage))
            | Self::Update(UpdatePaymentError::Storage(storage))
            | Self::Delete(DeletePaymentError::Storage(storage)) => Some(storage),
            _ => None,
        }
    }
}
