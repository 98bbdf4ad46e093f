//! The payment aggregate.

use crate::models::{CommandId, OrganisationId, PaymentAttributes, PaymentId, Version};

/// The resource type every payment carries on the wire.
pub const PAYMENT_TYPE: &str = "payments";

/// A stored payment: identity, concurrency version, owner and schemaless attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    id: PaymentId,
    version: Version,
    organisation_id: OrganisationId,
    attributes: PaymentAttributes,
    last_command: Option<CommandId>,
}

impl Payment {
    /// Assembles a payment from already-valid parts.
    pub fn new(
        id: PaymentId,
        version: Version,
        organisation_id: OrganisationId,
        attributes: PaymentAttributes,
    ) -> Self {
        Self {
            id,
            version,
            organisation_id,
            attributes,
            last_command: None,
        }
    }

    /// The same payment, marked as written by the write `command` (see [`Payment::last_command`]).
    pub fn written_by(mut self, command: Option<CommandId>) -> Self {
        self.last_command = command;
        self
    }

    /// The write that produced this version: the command's id for an asynchronous write, an id
    /// of its own for a synchronous one (`None` for payments stored before writes were marked).
    /// Storage keeps it with the payment, so a command delivered again after a crash, or a
    /// write the storage driver retried after it was stored, can tell that its own effect is
    /// already there (exactly-once effect over at-least-once delivery).
    pub fn last_command(&self) -> Option<CommandId> {
        self.last_command
    }

    /// The identity.
    pub fn id(&self) -> PaymentId {
        self.id
    }

    /// The optimistic-concurrency version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The owning organisation.
    pub fn organisation_id(&self) -> OrganisationId {
        self.organisation_id
    }

    /// The attributes.
    pub fn attributes(&self) -> &PaymentAttributes {
        &self.attributes
    }

    /// Whether this payment holds exactly `content` (the idempotent-retry test).
    pub fn has_content(&self, content: &PaymentContent) -> bool {
        self.organisation_id == content.organisation_id && self.attributes == content.attributes
    }
}

/// What a client supplies for a payment: owner and attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentContent {
    /// The owning organisation.
    pub organisation_id: OrganisationId,
    /// The attributes.
    pub attributes: PaymentAttributes,
}

/// A request to create a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPayment {
    /// The id the client chose (safe retries), or `None` for a server-generated UUIDv7.
    pub id: Option<PaymentId>,
    /// Owner and attributes.
    pub content: PaymentContent,
}

/// The version checks a client asks for on an update. At least one is always present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionCheck {
    /// `data.version` in the document: a mismatch is a version conflict.
    Document(Version),
    /// An `If-Match` header only: a mismatch is a failed precondition.
    IfMatch(Version),
    /// Both: `If-Match` is evaluated first, then the document version.
    Both {
        /// `data.version`.
        document: Version,
        /// `If-Match`.
        if_match: Version,
    },
}

impl VersionCheck {
    /// The document version and the `If-Match` version, each when given.
    pub fn parts(self) -> (Option<Version>, Option<Version>) {
        match self {
            Self::Document(document) => (Some(document), None),
            Self::IfMatch(if_match) => (None, Some(if_match)),
            Self::Both { document, if_match } => (Some(document), Some(if_match)),
        }
    }

    /// Combines the optional document version and `If-Match`; `None` when neither is given.
    pub fn from_parts(document: Option<Version>, if_match: Option<Version>) -> Option<Self> {
        match (document, if_match) {
            (Some(document), Some(if_match)) => Some(Self::Both { document, if_match }),
            (Some(document), None) => Some(Self::Document(document)),
            (None, Some(if_match)) => Some(Self::IfMatch(if_match)),
            (None, None) => None,
        }
    }
}

/// A request to replace a payment's owner and attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentUpdate {
    /// The payment to update.
    pub id: PaymentId,
    /// The new owner and attributes.
    pub content: PaymentContent,
    /// The version the client last saw.
    pub check: VersionCheck,
}
