//! JSON strings written exactly as `serde_json` writes them, copied when nothing needs escaping.

use serde::Serialize;

/// Appends `text`, borrowed from the input, as a JSON string. A string `serde_json` lends from
/// its input had no escapes there, so it holds nothing to escape (no quote, backslash or control
/// character) and is copied; the check keeps this true for any other deserializer.
pub(super) fn write_borrowed_str(out: &mut Vec<u8>, text: &str) {
    if needs_escape(text.as_bytes()) {
        write_str(out, text);
        return;
    }
    out.reserve(text.len() + 2);
    out.push(b'"');
    out.extend_from_slice(text.as_bytes());
    out.push(b'"');
}

/// Whether `bytes` hold a quote, a backslash or a control character. Eight bytes at a time
/// (every string of every write passes here): `x - 0x01..01 * n & !x & 0x80..80` is non-zero
/// exactly when some byte of `x` is below `n`, and a byte equals `c` when `x ^ c..c` has a zero
/// byte.
fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let below = |word: u64, n: u8| word.wrapping_sub(ONES * u64::from(n)) & !word & HIGHS;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut eight = [0; 8];
        eight.copy_from_slice(chunk);
        let word = u64::from_le_bytes(eight);
        let found = below(word, 0x20)
            | below(word ^ (ONES * u64::from(b'"')), 1)
            | below(word ^ (ONES * u64::from(b'\\')), 1);
        if found != 0 {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|&byte| byte < 0x20 || byte == b'"' || byte == b'\\')
}

/// Appends `text` as a JSON string, escaped as `serde_json` escapes it.
pub(super) fn write_str(out: &mut Vec<u8>, text: &str) {
    // Writing into a Vec cannot fail.
    let _ = text.serialize(&mut serde_json::Serializer::new(out));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needs_escape_finds_every_byte_that_needs_one_at_every_position() {
        for length in 0..20 {
            for position in 0..length {
                for byte in 0..=u8::MAX {
                    let mut text = vec![b'a'; length];
                    text[position] = byte;
                    let expected = byte < 0x20 || byte == b'"' || byte == b'\\';
                    assert_eq!(
                        needs_escape(&text),
                        expected,
                        "{byte} at {position} of {length}"
                    );
                }
            }
            assert!(!needs_escape(&vec![b'a'; length]));
            assert!(!needs_escape("é☃𝄞~\x7f".repeat(length).as_bytes()));
        }
    }

    #[test]
    fn borrowed_strings_needing_escapes_are_still_escaped() {
        let mut out = Vec::new();
        write_borrowed_str(&mut out, "a\"b\\c\u{1}");
        assert_eq!(String::from_utf8(out).unwrap(), r#""a\"b\\c\u0001""#);
    }
}
