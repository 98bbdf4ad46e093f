//! The attribute rules as README, ARCHITECTURE.md and the API document write them, as plain code
//! over a parsed `serde_json::Value`: the oracle the property tests hold the domain's one reader
//! (`domain::AttributesReader`, over text and over trees) against. Slow and obvious on purpose;
//! nothing here is used by the server.

use serde_json::{Number, Value};

/// The deepest nesting inside attributes, the attributes object counting as level 1.
pub const MAX_ATTRIBUTES_DEPTH: usize = 30;

/// Fields that hold a date wherever they appear.
const DATE_FIELDS: [&str; 3] = ["processing_date", "birth_date", "date_of_birth"];

/// Scheme limits as written: scheme name (any case), the largest amount allowed.
const SCHEME_LIMITS: [(&str, &str); 2] = [("FPS", "250000.00"), ("Bacs", "20000000.00")];

/// How many levels of objects and arrays `value` holds (a scalar holds none).
pub fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(fields) => 1 + fields.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// A field path as the server writes it: `a.b[2].c`; an empty key adds nothing.
fn join(parent: &str, key: &str) -> String {
    match (parent.is_empty(), key.is_empty()) {
        (_, true) => parent.to_owned(),
        (true, false) => key.to_owned(),
        (false, false) => format!("{parent}.{key}"),
    }
}

/// A key starts with `$` or holds `.` or NUL.
fn bad_key(key: &str) -> bool {
    key.starts_with('$') || key.contains('.') || key.contains('\0')
}

/// A number lies within the signed 64-bit range, however it is written.
fn in_range(number: &Number) -> bool {
    const BOUND: f64 = 9_223_372_036_854_775_808.0;
    number.as_i64().is_some()
        || (number.is_f64()
            && number
                .as_f64()
                .is_some_and(|f| (-BOUND..BOUND).contains(&f)))
}

/// The path of every breach of the strict rules in `attributes` (a bad key, a number out of
/// range, an object or array opening beyond [`MAX_ATTRIBUTES_DEPTH`] levels, whose content is
/// not looked at), in document order. A repeated key cannot be in a parsed value.
pub fn strict_breaches(attributes: &Value) -> Vec<String> {
    fn walk(value: &Value, path: &str, level: usize, out: &mut Vec<String>) {
        match value {
            Value::Object(_) | Value::Array(_) if level > MAX_ATTRIBUTES_DEPTH => {
                out.push(path.to_owned());
            }
            Value::Object(fields) => {
                for (key, item) in fields {
                    let here = join(path, key);
                    if bad_key(key) {
                        out.push(here.clone());
                    }
                    walk(item, &here, level + 1, out);
                }
            }
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    walk(item, &format!("{path}[{index}]"), level + 1, out);
                }
            }
            Value::Number(number) if !in_range(number) => out.push(path.to_owned()),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(attributes, "", 1, &mut out);
    out
}

/// The fields the payment rules refuse in `attributes`, an object within the strict rules:
/// sorted, each once.
pub fn payment_rule_breaches(attributes: &Value) -> Vec<String> {
    let mut out = Vec::new();
    date_breaches(attributes, "", &mut out);
    let amount = match &attributes["amount"] {
        Value::String(text) => decimal(text).filter(|_| text.len() <= 20),
        _ => None,
    };
    if amount.is_none() {
        out.push("amount".to_owned());
    }
    let allowed_decimals = attributes["currency"].as_str().and_then(currency_decimals);
    if allowed_decimals.is_none() {
        out.push("currency".to_owned());
    }
    if let (Some((_, decimals)), Some(allowed)) = (amount, allowed_decimals) {
        if decimals > allowed {
            out.push("amount".to_owned());
        }
    }
    match &attributes["payment_scheme"] {
        Value::Null => {}
        Value::String(scheme) => {
            let limit = SCHEME_LIMITS
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(scheme));
            if let (Some((_, limit)), Some(amount)) = (limit, amount) {
                if exceeds(amount, decimal(limit).expect("a limit is a decimal")) {
                    out.push("amount".to_owned());
                }
            }
        }
        _ => out.push("payment_scheme".to_owned()),
    }
    out.sort();
    out.dedup();
    out
}

/// Paths of date fields, at any depth, holding neither `null` nor a real `YYYY-MM-DD` date.
fn date_breaches(value: &Value, path: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(fields) => {
            for (key, item) in fields {
                let here = join(path, key);
                let real_date = match item {
                    Value::Null => true,
                    Value::String(text) => domain::is_calendar_date(text),
                    _ => false,
                };
                if DATE_FIELDS.contains(&key.as_str()) && !real_date {
                    out.push(here.clone());
                }
                date_breaches(item, &here, out);
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                date_breaches(item, &format!("{path}[{index}]"), out);
            }
        }
        _ => {}
    }
}

/// A positive decimal written `digits[.digits]`: its value scaled by 10^18, and its decimals.
fn decimal(text: &str) -> Option<(u128, usize)> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || text.ends_with('.') {
        return None;
    }
    if fraction.len() > 18 || whole.trim_start_matches('0').len() > 20 {
        return None;
    }
    let scaled = format!("{}{fraction:0<18}", whole.trim_start_matches('0'));
    let value: u128 = scaled.trim_start_matches('0').parse().unwrap_or(0);
    (value > 0).then_some((value, fraction.len()))
}

fn exceeds((amount, _): (u128, usize), (limit, _): (u128, usize)) -> bool {
    amount > limit
}

/// The decimals an amount in `code` may have (its ISO 4217 exponent), if `code` is a currency
/// payments accept: one with a minor unit.
pub fn currency_decimals(code: &str) -> Option<usize> {
    iso_currency::Currency::from_code(code)?
        .exponent()
        .map(usize::from)
}
