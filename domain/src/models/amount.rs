//! Money amounts and currencies.

use std::cmp::Ordering;
use std::fmt;

use crate::errors::FieldError;

/// The longest amount text accepted.
pub const MAX_AMOUNT_LEN: usize = 20;

/// A positive decimal amount, kept exactly as written (digits and scale).
///
/// On its own an amount may have as many decimals as its 20 characters hold; how many a payment
/// may have is its currency's business ([`Currency::minor_units`]), and
/// [`PaymentAttributes`](crate::PaymentAttributes) hold only amounts their currency can express.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Amount {
    /// The amount times 10^`decimals`.
    units: u128,
    /// How many decimals the client wrote, so the text round-trips.
    decimals: u8,
}

impl Amount {
    /// Parses a decimal string such as `"100.21"`: digits, optionally a point and at least one
    /// decimal, greater than zero, at most 20 characters.
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        let invalid = || FieldError::new("", "must be a positive decimal string, e.g. \"100.21\"");
        if text.len() > MAX_AMOUNT_LEN {
            return Err(FieldError::new(
                "",
                format!("must be at most {MAX_AMOUNT_LEN} characters"),
            ));
        }
        let (whole, fraction) = match text.split_once('.') {
            Some((_, "")) => return Err(invalid()),
            Some(parts) => parts,
            None => (text, ""),
        };
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) {
            return Err(invalid());
        }
        // At most 20 digits fit easily in u128, so the fold cannot overflow.
        let units = whole
            .bytes()
            .chain(fraction.bytes())
            .fold(0u128, |acc, digit| acc * 10 + u128::from(digit - b'0'));
        if units == 0 {
            return Err(FieldError::new("", "must be greater than zero"));
        }
        Ok(Self {
            units,
            // At most 18 decimals fit in 20 characters.
            decimals: fraction.len() as u8,
        })
    }

    /// `units` × 10^-`decimals`, for constants; `units` must be positive.
    pub(crate) const fn from_parts(units: u128, decimals: u8) -> Self {
        Self { units, decimals }
    }

    /// How many decimals the amount was written with (`"1.50"` has 2).
    pub fn decimals(&self) -> u8 {
        self.decimals
    }

    /// The amount in units of 10^-`exponent` (the minor units of a currency with that ISO 4217
    /// exponent), or `None` when it has more decimals than `exponent` and so is no whole number
    /// of them.
    pub fn in_minor_units(&self, exponent: u8) -> Option<u128> {
        let scale = 10u128.checked_pow(u32::from(exponent.checked_sub(self.decimals)?))?;
        self.units.checked_mul(scale)
    }

    /// Compares two amounts by value: `"1.5"` and `"1.50"` are equal here, though not as
    /// written (`==`).
    pub fn cmp_value(&self, other: &Self) -> Ordering {
        // Both scaled to the larger number of decimals: an amount holds at most 20 digits and
        // 18 decimals, so a scaled value stays below 10^38, well within u128.
        let decimals = self.decimals.max(other.decimals);
        let scaled =
            |amount: &Self| amount.units * 10u128.pow(u32::from(decimals - amount.decimals));
        scaled(self).cmp(&scaled(other))
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

/// An ISO 4217 currency with a minor unit, checked against the maintained `iso_currency` list:
/// its exponent says how many decimals an amount in it may have (GBP 2, JPY 0, KWD 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency {
    code: iso_currency::Currency,
    /// The ISO 4217 exponent: the decimals of the minor unit.
    exponent: u8,
}

impl Currency {
    /// Parses an upper-case three-letter ISO 4217 code such as `"GBP"`.
    ///
    /// Codes for which ISO 4217 defines no minor unit (precious metals such as XAU, units of
    /// account such as XDR, the testing code XTS and "no currency" XXX) are refused: no amount
    /// of a payment can be written in them.
    pub fn parse(code: &str) -> Result<Self, FieldError> {
        let currency = iso_currency::Currency::from_code(code).ok_or_else(|| {
            FieldError::new("", "must be an ISO 4217 currency code, e.g. \"GBP\"")
        })?;
        let exponent = currency
            .exponent()
            .and_then(|exponent| u8::try_from(exponent).ok())
            .ok_or_else(|| {
                FieldError::new(
                    "",
                    format!(
                        "must be a currency with a minor unit: ISO 4217 defines none for \
                         {code}, so no payment amount can be written in it"
                    ),
                )
            })?;
        Ok(Self {
            code: currency,
            exponent,
        })
    }

    /// The three-letter code.
    pub fn code(&self) -> &'static str {
        self.code.code()
    }

    /// The ISO 4217 exponent: how many decimals the minor unit has (GBP 2, JPY 0, KWD 3).
    pub fn exponent(&self) -> u8 {
        self.exponent
    }

    /// `amount` in this currency's minor units (pence, yen, fils), refused when it has more
    /// decimals than the currency's exponent allows.
    pub fn minor_units(&self, amount: Amount) -> Result<u128, FieldError> {
        amount.in_minor_units(self.exponent).ok_or_else(|| {
            let code = self.code();
            let message = match self.exponent {
                0 => format!("must have no decimals: {code} has no minor unit (ISO 4217)"),
                1 => format!("must have at most 1 decimal for {code} (its ISO 4217 minor unit)"),
                n => format!("must have at most {n} decimals for {code} (its ISO 4217 minor unit)"),
            };
            FieldError::new("", message)
        })
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
#[path = "amount_tests.rs"]
mod tests;
