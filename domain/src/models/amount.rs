//! Money amounts and currencies.

use std::fmt;

use crate::errors::FieldError;

/// The longest amount text accepted.
pub const MAX_AMOUNT_LEN: usize = 20;

/// A positive decimal amount with at most two decimals, kept exactly (as minor units and scale).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Amount {
    /// The amount times 10^`decimals`.
    units: u128,
    /// How many decimals the client wrote (0, 1 or 2), so the text round-trips.
    decimals: u8,
}

impl Amount {
    /// Parses a decimal string such as `"100.21"`: digits, an optional point and one or two
    /// decimals, greater than zero, at most 20 characters.
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        let invalid = || {
            FieldError::new(
                "",
                "must be a positive decimal string with at most 2 decimals, e.g. \"100.21\"",
            )
        };
        if text.len() > MAX_AMOUNT_LEN {
            return Err(FieldError::new(
                "",
                format!("must be at most {MAX_AMOUNT_LEN} characters"),
            ));
        }
        let (whole, fraction) = match text.split_once('.') {
            Some((whole, fraction)) if (1..=2).contains(&fraction.len()) => (whole, fraction),
            Some(_) => return Err(invalid()),
            None => (text, ""),
        };
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) {
            return Err(invalid());
        }
        let units = whole
            .bytes()
            .chain(fraction.bytes())
            .fold(0u128, |acc, digit| acc * 10 + u128::from(digit - b'0'));
        if units == 0 {
            return Err(FieldError::new("", "must be greater than zero"));
        }
        // At most 20 digits fit easily in u128, so the fold above cannot overflow.
        Ok(Self {
            units,
            decimals: fraction.len() as u8,
        })
    }

    /// The amount in hundredths (minor units of a two-decimal currency).
    pub fn hundredths(&self) -> u128 {
        self.units * 10u128.pow(u32::from(2 - self.decimals))
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scale = 10u128.pow(u32::from(self.decimals));
        let whole = self.units / scale;
        match self.decimals {
            0 => write!(f, "{whole}"),
            d => write!(
                f,
                "{whole}.{:0width$}",
                self.units % scale,
                width = usize::from(d)
            ),
        }
    }
}

/// An ISO 4217 currency code, checked against the maintained `iso_currency` list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency(iso_currency::Currency);

impl Currency {
    /// Parses an upper-case three-letter ISO 4217 code such as `"GBP"`.
    pub fn parse(code: &str) -> Result<Self, FieldError> {
        iso_currency::Currency::from_code(code)
            .map(Self)
            .ok_or_else(|| FieldError::new("", "must be an ISO 4217 currency code, e.g. \"GBP\""))
    }

    /// The three-letter code.
    pub fn code(&self) -> &'static str {
        self.0.code()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amount_keeps_its_text_exactly() {
        for text in ["100.21", "0.5", "7", "99999999999999999.99", "0010.00"] {
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
            "1.001",
            "1.",
            ".5",
            "1e3",
            "1,00",
            " 1",
            "+1",
            "123456789012345678901",
        ] {
            assert!(Amount::parse(text).is_err(), "{text:?} should be refused");
        }
    }

    #[test]
    fn amount_hundredths_scale_to_two_decimals() {
        assert_eq!(Amount::parse("250000").unwrap().hundredths(), 25_000_000);
        assert_eq!(Amount::parse("1.5").unwrap().hundredths(), 150);
        assert_eq!(Amount::parse("1.05").unwrap().hundredths(), 105);
    }

    #[test]
    fn currency_accepts_iso_codes_only() {
        assert_eq!(Currency::parse("GBP").unwrap().code(), "GBP");
        for code in ["gbp", "XXXX", "ABC", ""] {
            assert!(Currency::parse(code).is_err(), "{code:?} should be refused");
        }
    }
}
