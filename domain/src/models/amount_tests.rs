use super::*;

#[test]
fn amount_keeps_its_text_exactly() {
    for text in [
        "100.21",
        "0.5",
        "7",
        "99999999999999999.99",
        "0010.00",
        "1.234",
    ] {
        assert_eq!(
            Amount::parse(text).unwrap().to_string(),
            text.trim_start_matches("00")
        );
    }
}

#[test]
fn amount_rejects_bad_shapes() {
    for text in [
        "",
        "0",
        "0.00",
        "-1.00",
        "1.",
        ".5",
        "1e3",
        "1,00",
        " 1",
        "+1",
        "1.2.3",
        "123456789012345678901",
    ] {
        assert!(Amount::parse(text).is_err(), "{text:?} should be refused");
    }
}

#[test]
fn amount_in_minor_units_scales_up_and_refuses_to_round() {
    let amount = |text| Amount::parse(text).unwrap();
    assert_eq!(amount("250000").in_minor_units(2), Some(25_000_000));
    assert_eq!(amount("1.5").in_minor_units(2), Some(150));
    assert_eq!(amount("1.05").in_minor_units(2), Some(105));
    assert_eq!(amount("1.234").in_minor_units(3), Some(1234));
    assert_eq!(amount("100").in_minor_units(0), Some(100));
    assert_eq!(amount("100.5").in_minor_units(0), None);
    assert_eq!(amount("1.234").in_minor_units(2), None);
}

#[test]
fn amounts_compare_by_value_whatever_their_decimals() {
    let amount = |text| Amount::parse(text).unwrap();
    assert_eq!(amount("1.5").cmp_value(&amount("1.50")), Ordering::Equal);
    assert_ne!(amount("1.5"), amount("1.50"));
    assert_eq!(
        amount("250000.001").cmp_value(&amount("250000")),
        Ordering::Greater
    );
    assert_eq!(
        amount("0.000000000000000001").cmp_value(&amount("99999999999999999999")),
        Ordering::Less
    );
}

#[test]
fn currency_accepts_iso_codes_with_a_minor_unit_only() {
    assert_eq!(Currency::parse("GBP").unwrap().code(), "GBP");
    for code in ["gbp", "XXXX", "ABC", ""] {
        let refused = Currency::parse(code).unwrap_err();
        assert!(
            refused.message.contains("ISO 4217 currency code"),
            "{code:?}: {refused}"
        );
    }
    for code in ["XAU", "XAG", "XDR", "XTS", "XXX"] {
        let refused = Currency::parse(code).unwrap_err();
        assert!(
            refused
                .message
                .contains(&format!("defines none for {code}")),
            "{refused}"
        );
    }
}

#[test]
fn currency_exponents_follow_iso_4217() {
    for (code, exponent) in [
        ("GBP", 2),
        ("EUR", 2),
        ("JPY", 0),
        ("KRW", 0),
        ("KWD", 3),
        ("BHD", 3),
        ("CLF", 4),
    ] {
        assert_eq!(
            Currency::parse(code).unwrap().exponent(),
            exponent,
            "{code}"
        );
    }
}

#[test]
fn an_amount_has_at_most_its_currency_s_decimals() {
    let minor_units = |amount, code| {
        Currency::parse(code)
            .unwrap()
            .minor_units(Amount::parse(amount).unwrap())
    };
    assert_eq!(minor_units("100", "JPY"), Ok(100));
    assert_eq!(minor_units("1.234", "KWD"), Ok(1234));
    assert_eq!(minor_units("1.005", "BHD"), Ok(1005));
    assert_eq!(minor_units("1.2", "GBP"), Ok(120));
    let refusal = |amount, code| minor_units(amount, code).unwrap_err().message;
    assert_eq!(
        refusal("100.50", "JPY"),
        "must have no decimals: JPY has no minor unit (ISO 4217)"
    );
    assert_eq!(
        refusal("1.2345", "KWD"),
        "must have at most 3 decimals for KWD (its ISO 4217 minor unit)"
    );
    assert_eq!(
        refusal("1.001", "GBP"),
        "must have at most 2 decimals for GBP (its ISO 4217 minor unit)"
    );
}
