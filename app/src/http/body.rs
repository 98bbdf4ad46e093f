//! Response bodies that carry payments, written directly instead of through serde.
//!
//! A payment's attributes are stored as JSON text and its ids, type and version never need
//! escaping, so writing a payment is copying. Through serde, escaping the ids of a 100-item page
//! cost about a fifth of the request's CPU (docs/benchmarks/README.md). The bytes are exactly
//! what serde writes for the resource; a test holds it so.

use domain::{Payment, PAYMENT_TYPE};

use super::json_text::{hyphenated, write_json_string, write_unescaped};

/// Bytes a payment takes beyond its attributes (two ids, the type, the version, the keys).
const RESOURCE_OVERHEAD: usize = 160;

/// `{"data": <payment>, "links": {"self": <self_link>}}`; `links_are_plain` when the link holds
/// nothing JSON escapes (see [`Links::are_plain`](super::links::Links::are_plain)).
pub fn payment_body(payment: &Payment, self_link: &str, links_are_plain: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(resource_size(payment) + self_link.len() + 32);
    out.extend_from_slice(b"{\"data\":");
    write_resource(&mut out, payment);
    out.extend_from_slice(b",\"links\":{\"self\":");
    write_link(&mut out, self_link, links_are_plain);
    out.extend_from_slice(b"}}");
    out
}

/// `{"data": [<payment>, ...], "links": {"self": <self_link>, "next": <next>}}`, `next` only
/// when there is one; `links_are_plain` as for [`payment_body`].
pub fn list_body(
    payments: &[Payment],
    self_link: &str,
    next: Option<&str>,
    links_are_plain: bool,
) -> Vec<u8> {
    let links = self_link.len() + next.map_or(0, str::len);
    let size = payments.iter().map(resource_size).sum::<usize>() + links + 64;
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(b"{\"data\":[");
    for (index, payment) in payments.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        write_resource(&mut out, payment);
    }
    out.extend_from_slice(b"],\"links\":{\"self\":");
    write_link(&mut out, self_link, links_are_plain);
    if let Some(next) = next {
        out.extend_from_slice(b",\"next\":");
        write_link(&mut out, next, links_are_plain);
    }
    out.extend_from_slice(b"}}");
    out
}

fn write_link(out: &mut Vec<u8>, link: &str, plain: bool) {
    if plain {
        write_unescaped(out, link);
    } else {
        write_json_string(out, link);
    }
}

fn resource_size(payment: &Payment) -> usize {
    payment.attributes().as_json().len() + RESOURCE_OVERHEAD
}

/// Appends one payment resource: `{"type","id","version","organisation_id","attributes"}`.
fn write_resource(out: &mut Vec<u8>, payment: &Payment) {
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(PAYMENT_TYPE.as_bytes());
    out.extend_from_slice(b"\",\"id\":\"");
    out.extend_from_slice(&hyphenated(payment.id().as_uuid()));
    out.extend_from_slice(b"\",\"version\":");
    out.extend_from_slice(
        itoa::Buffer::new()
            .format(payment.version().value())
            .as_bytes(),
    );
    out.extend_from_slice(b",\"organisation_id\":\"");
    out.extend_from_slice(&hyphenated(payment.organisation_id().as_uuid()));
    out.extend_from_slice(b"\",\"attributes\":");
    out.extend_from_slice(payment.attributes().as_json().as_bytes());
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use domain::{OrganisationId, PaymentAttributes, PaymentId, Version};
    use serde::Serialize;
    use serde_json::json;

    use super::*;

    /// A payment resource as serde writes it (a struct, so its field order is kept): the
    /// reference the direct writer is held to.
    #[derive(Serialize)]
    struct Resource<'a> {
        #[serde(rename = "type")]
        kind: &'static str,
        id: String,
        version: u64,
        organisation_id: String,
        attributes: &'a PaymentAttributes,
    }

    impl<'a> From<&'a Payment> for Resource<'a> {
        fn from(payment: &'a Payment) -> Self {
            Self {
                kind: PAYMENT_TYPE,
                id: payment.id().to_string(),
                version: payment.version().value(),
                organisation_id: payment.organisation_id().to_string(),
                attributes: payment.attributes(),
            }
        }
    }

    #[derive(Serialize)]
    struct Links<'a> {
        #[serde(rename = "self")]
        self_link: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        next: Option<&'a str>,
    }

    #[derive(Serialize)]
    struct Envelope<D> {
        data: D,
        links: Links<'static>,
    }

    fn payment(version: u64) -> Payment {
        let attributes = PaymentAttributes::from_value(json!({
            "amount": "10.00", "currency": "GBP", "reference": "quote \" backslash \\ é \u{1}",
            "nested": {"list": [1, 2.5, null, true]}
        }))
        .unwrap();
        Payment::new(
            PaymentId::generate(),
            Version::new(version).unwrap(),
            OrganisationId::from_uuid(uuid::Uuid::now_v7()),
            attributes,
        )
    }

    #[test]
    fn payment_body_is_what_serde_writes_for_the_resource() {
        let payment = payment(12);
        for self_link in [
            "https://example.com/v1/payments/\"x\"",
            "https://example.com/v1/payments/x",
        ] {
            let expected = serde_json::to_string(&Envelope {
                data: Resource::from(&payment),
                links: Links {
                    self_link,
                    next: None,
                },
            })
            .unwrap();
            let plain = !crate::http::json_text::needs_escape(self_link);
            let written = payment_body(&payment, self_link, plain);
            assert_eq!(String::from_utf8(written).unwrap(), expected);
            let checked = payment_body(&payment, self_link, false);
            assert_eq!(String::from_utf8(checked).unwrap(), expected);
        }
    }

    #[test]
    fn list_body_is_what_serde_writes_for_the_page() {
        let payments = [payment(0), payment(u64::from(u32::MAX))];
        let resources: Vec<Resource> = payments.iter().map(Into::into).collect();
        let links = Links {
            self_link: "/v1/payments?page%5Bsize%5D=2",
            next: Some("/v1/payments?page%5Bafter%5D=x"),
        };
        let written = list_body(&payments, links.self_link, links.next, true);
        let expected = serde_json::to_string(&Envelope {
            data: resources,
            links,
        })
        .unwrap();
        assert_eq!(String::from_utf8(written).unwrap(), expected);
        let empty = list_body(&[], "/v1/payments", None, false);
        let value: serde_json::Value = serde_json::from_slice(&empty).unwrap();
        assert_eq!(
            value,
            json!({"data": [], "links": {"self": "/v1/payments"}})
        );
    }
}
