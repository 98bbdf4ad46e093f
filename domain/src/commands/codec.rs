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
//!
//! A command of a caller restricted to some organisations is **format 2**: format 1 plus
//! `"organisations":["…",…]` (what it may touch) and `"subject":"…"` (who sent it, when known).
//! Format 1 (written before authentication existed, or by a server without it) reads as acting
//! for every organisation. A restricted command is never written as format 1, so a server that
//! only reads format 1 refuses it (rejected, `internal_error`) instead of applying it without
//! its restriction.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use thiserror::Error;

use crate::commands::{
    CommandAction, CommandBody, CommandRecord, CommandStatus, PaymentCommand, Timestamp,
};
use crate::models::{
    Access, CommandId, OrganisationId, PaymentAttributes, PaymentContent, PaymentId, Version,
    VersionCheck,
};

/// The format of a command acting for every organisation.
const UNRESTRICTED_FORMAT: u32 = 1;
/// The format of a command restricted to `organisations`.
const RESTRICTED_FORMAT: u32 = 2;

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
    /// Format 2: the sender's `sub`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    subject: Option<String>,
    /// Format 2: the organisations the sender acts for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    organisations: Option<Vec<OrganisationId>>,
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
        let organisations = self.access.held().map(<[OrganisationId]>::to_vec);
        let written = Wire {
            format: match organisations {
                Some(_) => RESTRICTED_FORMAT,
                None => UNRESTRICTED_FORMAT,
            },
            id: self.id,
            action: self.action(),
            payment_id: self.payment_id,
            organisation_id: self.organisation_id,
            accepted_at: self.accepted_at,
            request_id: self.request_id.clone(),
            version,
            if_match,
            subject: self.subject.clone(),
            organisations,
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
        let access = match (wire.format, wire.organisations) {
            (UNRESTRICTED_FORMAT, None) => Access::Unrestricted,
            (RESTRICTED_FORMAT, Some(organisations)) => Access::organisations(organisations),
            (UNRESTRICTED_FORMAT | RESTRICTED_FORMAT, _) => {
                return Err(CommandDecodeError(format!(
                    "format {} with{} organisations",
                    wire.format,
                    if wire.format == UNRESTRICTED_FORMAT {
                        ""
                    } else {
                        "out"
                    }
                )))
            }
            (format, _) => {
                return Err(CommandDecodeError(format!(
                    "format {format} (this server reads formats \
                     {UNRESTRICTED_FORMAT} and {RESTRICTED_FORMAT})"
                )))
            }
        };
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
            subject: wire.subject,
            access,
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
            subject: None,
            access: Access::Unrestricted,
            body,
        }
    }

    fn restricted(body: CommandBody) -> PaymentCommand {
        PaymentCommand {
            subject: Some("client-7".into()),
            access: Access::organisations([
                content().organisation_id,
                OrganisationId::parse("0b9c63a2-3c6e-4d3e-9e55-0d1c8e3a7f10").unwrap(),
            ]),
            ..command(body)
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
        let future = text.replace("\"format\":1", "\"format\":3");
        let refused = PaymentCommand::decode(future.as_bytes()).unwrap_err();
        assert!(refused.0.contains("format 3"), "{refused}");
        // Its identity is still readable, so it can be recorded as rejected.
        let record = PaymentCommand::decode_record(future.as_bytes()).unwrap();
        assert_eq!(record.id, sent.id);
    }

    #[test]
    fn a_restricted_command_keeps_its_organisations_and_subject_as_format_2() {
        let sent = restricted(CommandBody::Delete { expected: None });
        let bytes = sent.encode();
        let wire: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(wire["format"], 2);
        assert_eq!(wire["subject"], "client-7");
        assert_eq!(wire["organisations"].as_array().map(Vec::len), Some(2));
        assert_eq!(PaymentCommand::decode(&bytes).unwrap(), sent);
    }

    #[test]
    fn a_format_1_command_written_before_authentication_acts_for_every_organisation() {
        let written_before = format!(
            r#"{{"format":1,"id":"{}","action":"delete","payment_id":"{}","organisation_id":"{}","accepted_at":1765000000000}}"#,
            CommandId::generate(),
            PaymentId::generate(),
            content().organisation_id
        );
        let read = PaymentCommand::decode(written_before.as_bytes()).unwrap();
        assert_eq!(read.access, Access::Unrestricted);
        assert_eq!(read.subject, None);
        let unrestricted = command(CommandBody::Delete { expected: None }).encode();
        let wire: serde_json::Value = serde_json::from_slice(&unrestricted).unwrap();
        assert_eq!(wire["format"], 1);
        assert!(wire.get("organisations").is_none());
    }

    #[test]
    fn a_command_whose_format_and_organisations_disagree_is_refused() {
        let restricted =
            String::from_utf8(restricted(CommandBody::Delete { expected: None }).encode()).unwrap();
        // Dropping the restriction by editing the format must not widen the access.
        let widened = restricted.replace("\"format\":2", "\"format\":1");
        assert!(PaymentCommand::decode(widened.as_bytes()).is_err());
        let unrestricted =
            String::from_utf8(command(CommandBody::Delete { expected: None }).encode()).unwrap();
        let unlisted = unrestricted.replace("\"format\":1", "\"format\":2");
        assert!(PaymentCommand::decode(unlisted.as_bytes()).is_err());
    }
}
