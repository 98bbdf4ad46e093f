//! Asynchronous writes: a **command** is one validated write (create, update or delete) put in
//! the command log and answered `202 Accepted`; a worker applies it later through
//! [`CommandService`], the same use cases the synchronous path calls, and records its
//! **outcome** for the client to read.

mod apply;
mod codec;
mod outcome;

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

pub use apply::CommandService;
pub use codec::CommandDecodeError;
pub use outcome::{CommandError, CommandOutcome};

use crate::models::{
    Access, CommandId, OrganisationId, PaymentContent, PaymentId, Version, VersionCheck,
};

/// A point in time, as milliseconds since the Unix epoch (UTC).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(u64);

impl Timestamp {
    /// A timestamp from milliseconds since the epoch.
    pub const fn from_millis(millis: u64) -> Self {
        Self(millis)
    }

    /// The current time (a clock set before 1970 reads as the epoch).
    pub fn now() -> Self {
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| elapsed.as_millis())
            .unwrap_or_default();
        Self(u64::try_from(millis).unwrap_or(u64::MAX))
    }

    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }
}

/// What a command does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandAction {
    /// `POST /v1/payments`.
    Create,
    /// `PUT /v1/payments/{id}`.
    Update,
    /// `DELETE /v1/payments/{id}`.
    Delete,
}

impl CommandAction {
    /// The wire name: `create`, `update` or `delete`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Delete => "delete",
        }
    }
}

/// The write a command carries, validated before it entered the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandBody {
    /// Create the payment (its id is already chosen: the client learns it with the 202).
    Create {
        /// Owner and attributes.
        content: PaymentContent,
    },
    /// Replace the payment's owner and attributes if the version checks hold.
    Update {
        /// The new owner and attributes.
        content: PaymentContent,
        /// The version checks the client asked for.
        check: VersionCheck,
    },
    /// Delete the payment; with a version, only at that version.
    Delete {
        /// `?version=N`, when given.
        expected: Option<Version>,
    },
}

/// One asynchronous write, as appended to the command log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentCommand {
    /// The command's identity (the status resource's id).
    pub id: CommandId,
    /// The payment written.
    pub payment_id: PaymentId,
    /// The organisation the command acts for: the log key, so one organisation's commands are
    /// applied in order. For a create or update the document's `organisation_id`, for a delete
    /// the stored payment's.
    pub organisation_id: OrganisationId,
    /// When the API accepted it.
    pub accepted_at: Timestamp,
    /// The id of the HTTP request that sent it, for the logs.
    pub request_id: Option<String>,
    /// Who sent it (the token's `sub`), for the logs; `None` without authentication.
    pub subject: Option<String>,
    /// The organisations the sender acts for: the command is applied with this access, so the
    /// ownership of the stored payment is checked when it is applied.
    pub access: Access,
    /// The write.
    pub body: CommandBody,
}

impl PaymentCommand {
    /// Create, update or delete.
    pub fn action(&self) -> CommandAction {
        match self.body {
            CommandBody::Create { .. } => CommandAction::Create,
            CommandBody::Update { .. } => CommandAction::Update,
            CommandBody::Delete { .. } => CommandAction::Delete,
        }
    }

    /// The log key: the organisation id as lowercase hyphenated text.
    pub fn key(&self) -> String {
        self.organisation_id.to_string()
    }

    /// The command's record while it waits in the log.
    pub fn accepted_record(&self) -> CommandRecord {
        CommandRecord {
            id: self.id,
            action: self.action(),
            payment_id: self.payment_id,
            organisation_id: self.organisation_id,
            accepted_at: self.accepted_at,
            status: CommandStatus::Accepted,
        }
    }
}

/// Where a command stands, as the status resource shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum CommandStatus {
    /// In the log, not applied yet.
    Accepted,
    /// A delete whose payment was found and is being removed (shown as accepted): if the worker
    /// dies now, the next delivery knows that a payment it no longer finds was removed by this
    /// command, not missing from the start.
    Deleting,
    /// Applied or refused; never changes again.
    Finished {
        /// When the worker finished it.
        finished_at: Timestamp,
        /// What happened.
        outcome: CommandOutcome,
    },
}

/// What the command store keeps about one command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandRecord {
    /// The command id.
    pub id: CommandId,
    /// Create, update or delete.
    pub action: CommandAction,
    /// The payment written.
    pub payment_id: PaymentId,
    /// The organisation the command acts for (its log key).
    pub organisation_id: OrganisationId,
    /// When the API accepted it.
    pub accepted_at: Timestamp,
    /// Accepted, or finished with an outcome.
    pub status: CommandStatus,
}

impl CommandRecord {
    /// The same record, finished with `outcome` at `finished_at`.
    pub fn finished(mut self, outcome: CommandOutcome, finished_at: Timestamp) -> Self {
        self.status = CommandStatus::Finished {
            finished_at,
            outcome,
        };
        self
    }

    /// The outcome, once finished.
    pub fn outcome(&self) -> Option<&CommandOutcome> {
        match &self.status {
            CommandStatus::Finished { outcome, .. } => Some(outcome),
            CommandStatus::Accepted | CommandStatus::Deleting => None,
        }
    }

    /// When it finished, once finished.
    pub fn finished_at(&self) -> Option<Timestamp> {
        match self.status {
            CommandStatus::Finished { finished_at, .. } => Some(finished_at),
            CommandStatus::Accepted | CommandStatus::Deleting => None,
        }
    }
}
