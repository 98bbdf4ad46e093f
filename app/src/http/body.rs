//! Response bodies that carry payments, written directly instead of through serde.
//!
//! A payment's attributes are stored as JSON text and its ids, type and version never need
//! escaping, so writing a payment is copying. Through serde, escaping the ids of a 100-item page
//! cost about a fifth of the request's CPU (docs/benchmarks/README.md). The bytes are exactly
//! what serializing [`PaymentResource`](super::dto::PaymentResource) gives; a test holds it so.

use domain::{Payment, PAYMENT_TYPE};
use serde::Serialize;

use super::dto::PageLinks;

/// Bytes a payment takes beyond its attributes (two ids, the type, the version, the keys).
const RESOURCE_OVERHEAD: usize = 160;

/// `{"data": <payment>, "links": {"self": ...}}`; `link_is_plain` when the link holds nothing
/// JSON escapes (see [`Links::are_plain`](super::links::Links::are_plain)).
pub fn payment_body(payment: &Payment, self_link: &str, link_is_plain: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(resource_size(payment) + self_link.len() + 32);
    out.extend_from_slice(b"{\"data\":");
    write_resource(&mut out, payment);
    out.extend_from_slice(b",\"links\":{\"self\":");
    if link_is_plain {
        out.push(b'"');
        out.extend_from_slice(self_link.as_bytes());
        out.push(b'"');
    } else {
        write_json_string(&mut out, self_link);
    }
    out.extend_from_slice(b"}}");
    out
}

/// `{"data": [<payment>, ...], "links": {...}}`.
pub fn list_body(payments: &[Payment], links: &PageLinks) -> serde_json::Result<Vec<u8>> {
    let size = payments.iter().map(resource_size).sum::<usize>() + 512;
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(b"{\"data\":[");
    for (index, payment) in payments.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        write_resource(&mut out, payment);
    }
    out.extend_from_slice(b"],\"links\":");
    links.serialize(&mut serde_json::Serializer::new(&mut out))?;
    out.push(b'}');
    Ok(out)
}

/// Appends `text` as a JSON string, escaped as `serde_json` escapes it.
pub fn write_json_string(out: &mut Vec<u8>, text: &str) {
    // Writing into a Vec cannot fail.
    let _ = text.serialize(&mut serde_json::Serializer::new(out));
}

fn resource_size(payment: &Payment) -> usize {
    payment.attributes().as_json().len() + RESOURCE_OVERHEAD
}

/// `uuid` as 36 bytes of lower-case hyphenated text, the form `Uuid`'s `Display` writes; by
/// table, two digits per byte (every response writes two or three ids).
pub fn hyphenated(uuid: &uuid::Uuid) -> [u8; 36] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    const PAIRS: [[u8; 2]; 256] = {
        let mut pairs = [[0; 2]; 256];
        let mut byte = 0;
        while byte < 256 {
            pairs[byte] = [DIGITS[byte >> 4], DIGITS[byte & 0xf]];
            byte += 1;
        }
        pairs
    };
    let mut text = [b'-'; 36];
    let mut at = 0;
    for (index, byte) in uuid.as_bytes().iter().enumerate() {
        if matches!(index, 4 | 6 | 8 | 10) {
            at += 1;
        }
        text[at..at + 2].copy_from_slice(&PAIRS[usize::from(*byte)]);
        at += 2;
    }
    text
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
    use serde_json::json;

    use super::*;
    use crate::http::dto::{PaymentResource, SelfLink};

    /// The envelope serde would write (a struct, so its field order is kept).
    #[derive(Serialize)]
    struct Envelope<D, L> {
        data: D,
        links: L,
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
        let self_link = "https://example.com/v1/payments/\"x\"";
        let expected = serde_json::to_vec(&Envelope {
            data: PaymentResource::from(&payment),
            links: SelfLink { self_link },
        })
        .unwrap();
        let written = payment_body(&payment, self_link, false);
        assert_eq!(
            String::from_utf8(written).unwrap(),
            String::from_utf8(expected).unwrap()
        );
        let plain_link = "https://example.com/v1/payments/x";
        let expected = serde_json::to_vec(&Envelope {
            data: PaymentResource::from(&payment),
            links: SelfLink {
                self_link: plain_link,
            },
        })
        .unwrap();
        assert_eq!(payment_body(&payment, plain_link, true), expected);
    }

    #[test]
    fn hyphenated_ids_read_as_uuid_writes_them() {
        for uuid in [
            uuid::Uuid::nil(),
            uuid::Uuid::max(),
            uuid::Uuid::now_v7(),
            uuid::Uuid::from_u128(0x0123_4567_89ab_cdef_fedc_ba98_7654_3210),
        ] {
            assert_eq!(hyphenated(&uuid).as_slice(), uuid.to_string().as_bytes());
        }
    }

    #[test]
    fn list_body_is_what_serde_writes_for_the_page() {
        let payments = [payment(0), payment(u64::from(u32::MAX))];
        let links = PageLinks {
            self_link: "/v1/payments?page%5Bsize%5D=2".into(),
            next: Some("/v1/payments?page%5Bafter%5D=x".into()),
        };
        let resources: Vec<PaymentResource> = payments.iter().map(Into::into).collect();
        let expected = serde_json::to_vec(&Envelope {
            data: resources,
            links: &links,
        })
        .unwrap();
        let written = list_body(&payments, &links).unwrap();
        assert_eq!(
            String::from_utf8(written).unwrap(),
            String::from_utf8(expected).unwrap()
        );
        let empty = list_body(&[], &links).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&empty).unwrap();
        assert_eq!(value["data"], json!([]));
    }
}
