//! Writing JSON text by hand: the one string escaper and the UUID formatter that response bodies,
//! links, request ids and log lines share. A leaf: it imports nothing of its callers.

use serde::Serialize;

/// Whether JSON escapes anything in `text` inside a string: a control character, `"` or `\`.
pub fn needs_escape(text: &str) -> bool {
    text.bytes()
        .any(|byte| byte < 0x20 || byte == b'"' || byte == b'\\')
}

/// Appends `text` as a JSON string, exactly as `serde_json` writes it: copied between quotes when
/// nothing in it needs escaping (ids, routes: nearly always), escaped by `serde_json` otherwise.
pub fn write_json_string(out: &mut Vec<u8>, text: &str) {
    if needs_escape(text) {
        // Writing into a Vec cannot fail.
        let _ = text.serialize(&mut serde_json::Serializer::new(out));
    } else {
        write_unescaped(out, text);
    }
}

/// Appends `text` between quotes as it is: for text known to need no escaping without looking
/// (a link under a base URL that [`needs_escape`] cleared once; docs/benchmarks/README.md has
/// what looking at every link cost).
pub fn write_unescaped(out: &mut Vec<u8>, text: &str) {
    out.reserve(text.len() + 2);
    out.push(b'"');
    out.extend_from_slice(text.as_bytes());
    out.push(b'"');
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_written_as_serde_json_writes_them() {
        let every_ascii: String = (0u8..128).map(char::from).collect();
        for text in [
            "",
            "plain",
            "/v1/payments/4ee3a8d8-ca7b-4290-a52c-dd5b6165ec43",
            "quote \" backslash \\ tab \t nul \0 del \x7f",
            "é ☃ 𝄞 \u{2028}",
            every_ascii.as_str(),
        ] {
            let mut written = Vec::new();
            write_json_string(&mut written, text);
            assert_eq!(
                String::from_utf8(written).unwrap(),
                serde_json::to_string(text).unwrap(),
                "{text:?}"
            );
        }
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
}
