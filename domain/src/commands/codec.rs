//! The bytes of a command in the log: one JSON object, readable by any client of the log.
//!
//! ```text
//! {"format":1,"id":"…","action":"update","payment_id":"…","organisation_id":"…",
//!  "accepted_at":1765000000000,"request_id":"…","attributes":{…},"version":3,"if_match":3}
//! ```
//!
//! `attributes` is the payment's canonical attributes text, copied as is; decoding checks it
//! with the same rules as a request, so a command that was edited in the log cannot store what
//! the API would refuse.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use thiserror::Error;

use crate::commands::{
    CommandAction, CommandBody, CommandRecord, CommandStatus, PaymentCommand, Timestamp,
};
use crate::models::{
    CommandId, OrganisationId, PaymentAttributes, PaymentContent, PaymentId, Version, VersionCheck,
};

/// The format number written today; decoding refuses any other.
const FORMAT: u32 = 1;

/// Bytes in the log that are not a command this version can apply.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("undecodable command: {0}")]
pub struct CommandDecodeError(pub String);

/// A command as JSON: `A` is `&PaymentAttributes` when writing, `&RawValue` when reading.
#[derive(Serialize, Deserialize)]
struct Wire<A> {
    format: u32,
    id: CommandId,
    action: CommandAction,
    payment_id: PaymentId,
    organisation_id: OrganisationId,
    accepted_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    request_id: Option<String>,
    /// `data.version` of an update, or `?version=` of a delete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    version: Option<Version>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    if_match: Option<Version>,
    // An absent `Option` field reads as `None` (no `default`, which would ask `A: Default`).
    #[serde(skip_serializing_if = "Option::is_none")]
    attributes: Option<A>,
}

impl PaymentCommand {
    /// The command's bytes in the log.
    pub fn encode(&self) -> Vec<u8> {
        let (content, version, if_match) = match &self.body {
            CommandBody::Create { content } => (Some(content), None, None),
            CommandBody::Update { content, check } => {
                let (document, if_match) = check.parts();
                (Some(content), document, if_match)
            }
            CommandBody::Delete { expected } => (None, *expected, None),
        };
        let written = Wire {
            format: FORMAT,
            id: self.id,
            action: self.action(),
            payment_id: self.payment_id,
            organisation_id: self.organisation_id,
            accepted_at: self.accepted_at,
            request_id: self.request_id.clone(),
            version,
            if_match,
            attributes: content.map(|content| &content.attributes),
        };
        // Plain fields and attributes that are canonical JSON text by construction: writing
        // them into a Vec cannot fail.
        serde_json::to_vec(&written).expect("a command always serializes")
    }

    /// The accepted record of the command in `bytes`, when at least its identity can be read
    /// (to record a command that cannot be decoded whole as rejected).
    pub fn decode_record(bytes: &[u8]) -> Option<CommandRecord> {
        let wire: Wire<serde::de::IgnoredAny> = serde_json::from_slice(bytes).ok()?;
        Some(CommandRecord {
            id: wire.id,
            action: wire.action,
            payment_id: wire.payment_id,
            organisation_id: wire.organisation_id,
            accepted_at: wire.accepted_at,
            status: CommandStatus::Accepted,
        })
    }

    /// Reads a command from its bytes in the log, checking the attributes again.
    pub fn decode(bytes: &[u8]) -> Result<Self, CommandDecodeError> {
        let wire: Wire<&RawValue> =
            serde_json::from_slice(bytes).map_err(|e| CommandDecodeError(e.to_string()))?;
        if wire.format != FORMAT {
            return Err(CommandDecodeError(format!(
                "format {} (this server reads format {FORMAT})",
                wire.format
            )));
        }
        let content = |attributes: Option<&RawValue>| {
            let attributes = attributes.ok_or_else(|| {
                CommandDecodeError(format!("{} without attributes", wire.action.as_str()))
            })?;
            let value = serde_json::from_str(attributes.get())
                .map_err(|e| CommandDecodeError(e.to_string()))?;
            let attributes = PaymentAttributes::from_value(value)
                .map_err(|e| CommandDecodeError(format!("attributes: {e}")))?;
            Ok::<_, CommandDecodeError>(PaymentContent {
                organisation_id: wire.organisation_id,
                attributes,
            })
        };
        let body = match wire.action {
            CommandAction::Create => CommandBody::Create {
                content: content(wire.attributes)?,
            },
            CommandAction::Update => CommandBody::Update {
                content: content(wire.attributes)?,
                check: VersionCheck::from_parts(wire.version, wire.if_match)
                    .ok_or_else(|| CommandDecodeError("update without a version check".into()))?,
            },
            CommandAction::Delete => CommandBody::Delete {
                expected: wire.version,
            },
        };
        Ok(Self {
            id: wire.id,
            payment_id: wire.payment_id,
            organisation_id: wire.organisation_id,
            accepted_at: wire.accepted_at,
            request_id: wire.request_id,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn content() -> PaymentContent {
        PaymentContent {
            organisation_id: OrganisationId::parse("743d5b63-8e6f-432e-a8fa-c5d8d2ee5fcb").unwrap(),
            attributes: PaymentAttributes::from_value(
                json!({"amount": "10.00", "currency": "GBP", "note": "é", "n": [1, 2.5]}),
            )
            .unwrap(),
        }
    }

    fn command(body: CommandBody) -> PaymentCommand {
        PaymentCommand {
            id: CommandId::generate(),
            payment_id: PaymentId::generate(),
            organisation_id: content().organisation_id,
            accepted_at: Timestamp::from_millis(1_765_000_000_123),
            request_id: Some("req-1".into()),
            body,
        }
    }

    #[test]
    fn every_action_survives_the_round_trip_through_bytes() {
        let v = |n| Version::new(n).unwrap();
        for body in [
            CommandBody::Create { content: content() },
            CommandBody::Update {
                content: content(),
                check: VersionCheck::Both {
                    document: v(3),
                    if_match: v(3),
                },
            },
            CommandBody::Update {
                content: content(),
                check: VersionCheck::IfMatch(v(7)),
            },
            CommandBody::Delete { expected: None },
            CommandBody::Delete {
                expected: Some(v(2)),
            },
        ] {
            let sent = command(body);
            let read = PaymentCommand::decode(&sent.encode()).unwrap();
            assert_eq!(read, sent);
            assert_eq!(read.body, sent.body);
        }
    }

    #[test]
    fn attributes_edited_in_the_log_into_an_invalid_payment_are_refused() {
        let sent = command(CommandBody::Create { content: content() });
        let text = String::from_utf8(sent.encode()).unwrap();
        let edited = text.replace("\"10.00\"", "\"-1\"");
        assert!(PaymentCommand::decode(edited.as_bytes()).is_err());
    }

    #[test]
    fn garbage_and_unknown_formats_are_refused() {
        assert!(PaymentCommand::decode(b"not json").is_err());
        let sent = command(CommandBody::Delete { expected: None });
        let text = String::from_utf8(sent.encode()).unwrap();
        let future = text.replace("\"format\":1", "\"format\":2");
        let refused = PaymentCommand::decode(future.as_bytes()).unwrap_err();
        assert!(refused.0.contains("format 2"), "{refused}");
        // Its identity is still readable, so it can be recorded as rejected.
        let record = PaymentCommand::decode_record(future.as_bytes()).unwrap();
        assert_eq!(record.id, sent.id);
    }
}
