use serde::Deserialize;
use serde_json::Value;

use super::*;

/// `text` read as a plain value, with the number rule applied to integers as written.
fn read_plain(text: &str) -> Result<Value, String> {
    read_text(text, |reader| Value::deserialize(reader))
}

#[test]
fn breaches_read_as_the_messages_clients_are_answered_with() {
    let cases = [
        (Breach::DuplicateKey("id"), "duplicate field \"id\""),
        (
            check_key("$where").unwrap_err(),
            "field \"$where\": field names must not start with '$'",
        ),
        (
            check_nesting(33, 32).unwrap_err(),
            "the document is nested deeper than 32 levels",
        ),
        (
            check_u64(u64::MAX).unwrap_err(),
            "the number 18446744073709551615 is out of range: numbers must lie within the \
             signed 64-bit integer range",
        ),
        (check_f64(f64::NAN).unwrap_err(), "numbers must be finite"),
    ];
    for (breach, message) in cases {
        assert_eq!(breach.to_string(), message);
        assert_eq!(breach.to_error::<serde_json::Error>().to_string(), message);
    }
    assert_eq!(
        check_nesting(31, 30).unwrap_err().field_message(),
        "nesting deeper than 30 levels"
    );
}

#[test]
fn keys_the_stores_cannot_hold_are_named() {
    for (key, problem) in [
        ("$set", "field names must not start with '$'"),
        ("a.b", "field names must not contain '.'"),
        ("a\0", "field names must not contain NUL characters"),
    ] {
        assert_eq!(key_problem(key), Some(problem), "{key:?}");
    }
    for key in ["", "a$", "amount", "é ☃"] {
        assert_eq!(check_key(key), Ok(()), "{key:?}");
    }
}

#[test]
fn nesting_is_allowed_up_to_the_bound_inclusive() {
    assert_eq!(check_nesting(30, 30), Ok(()));
    assert_eq!(
        check_nesting(31, 30),
        Err(Breach::TooDeep { max_level: 30 })
    );
}

#[test]
fn numbers_are_in_range_exactly_within_signed_64_bits_however_written() {
    assert_eq!(check_u64(i64::MAX as u64), Ok(()));
    assert!(check_u64(i64::MAX as u64 + 1).is_err());
    for inside in [-9.2e18, 9.2e18, 0.5, -9_223_372_036_854_775_808.0] {
        assert!(check_f64(inside).is_ok(), "{inside}");
    }
    for outside in [9_223_372_036_854_775_808.0, -9.3e18, 1e300, f64::INFINITY] {
        assert!(check_f64(outside).is_err(), "{outside}");
    }
}

#[test]
fn a_repeated_key_is_found_among_few_and_among_many() {
    for count in [1, SCAN_LIMIT, SCAN_LIMIT + 1, 100] {
        let keys: Vec<Cow<'_, str>> = (0..count).map(|i| Cow::Owned(format!("k{i}"))).collect();
        let mut distinct = DistinctKeys::new();
        for key in &keys {
            assert_eq!(distinct.insert(key), Ok(()), "{key} of {count}");
        }
        for key in [&keys[0], &keys[count - 1]] {
            assert_eq!(
                distinct.insert(key),
                Err(Breach::DuplicateKey(key)),
                "{count}"
            );
        }
    }
}

#[test]
fn integers_beyond_i64_are_refused_as_written_but_strings_and_floats_are_not() {
    assert!(read_plain("[9223372036854775807, -9223372036854775808]").is_ok());
    let just_below = read_plain("[-9223372036854775809]").unwrap_err();
    assert!(
        just_below.contains("the integer -9223372036854775809 is out of range"),
        "{just_below}"
    );
    let long = read_plain(&format!("[{}]", "7".repeat(60))).unwrap_err();
    assert!(long.contains("... (60 digits)"), "{long}");
    assert!(read_plain(r#"["123456789012345678901234567890", 1.5e18]"#).is_ok());
    assert!(read_plain(r#"["a \" 99999999999999999999999"]"#).is_ok());
}

#[test]
fn only_one_whole_value_is_read() {
    assert!(read_plain("{} {}").is_err());
    assert!(read_plain("").is_err());
    assert!(read_plain(" {} \n").is_ok());
}

#[test]
fn every_run_of_19_digits_is_found_wherever_it_sits() {
    for length in 0..60 {
        for offset in 0..40 {
            for run in [18, 19, 25] {
                let mut text = "x".repeat(offset);
                text.push_str(&"7".repeat(run));
                text.push_str(&"y".repeat(length));
                assert_eq!(has_long_digit_run(text.as_bytes()), run >= 19, "{text}");
            }
        }
    }
    assert!(!has_long_digit_run(
        b"123456789012345678 123456789012345678"
    ));
    assert!(has_long_digit_run(b"1 1234567890123456789"));
}
