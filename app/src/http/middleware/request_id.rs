//! Request ids: honoured when the client sends a usable `x-request-id`, generated otherwise, and
//! echoed in every response (by [`super::edge`]).

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use uuid::Uuid;

use crate::http::json_text::hyphenated;

/// The request id header.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The longest client-sent request id kept; longer ones are replaced, so ids stay cheap to log.
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// The id of `request`: the client's `x-request-id` when usable, a fresh random UUID (v4)
/// otherwise.
/// Handlers find it in the request context ([`super::context`]).
pub fn assign(request: &Request) -> HeaderValue {
    request
        .headers()
        .get(&REQUEST_ID_HEADER)
        .filter(|value| is_usable(value))
        .cloned()
        .unwrap_or_else(generate)
}

/// 1 to [`MAX_REQUEST_ID_LEN`] visible ASCII characters: safe to log and to echo.
fn is_usable(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    (1..=MAX_REQUEST_ID_LEN).contains(&bytes.len()) && bytes.iter().all(u8::is_ascii_graphic)
}

fn generate() -> HeaderValue {
    let text = hyphenated(&Uuid::new_v4());
    // A hyphenated UUID is always a valid header value; the fallback is unreachable.
    HeaderValue::from_bytes(&text).unwrap_or_else(|_| HeaderValue::from_static("unknown"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visible_ascii_ids_within_the_bound_are_usable() {
        for id in ["a", "req-42", "4ee3a8d8-ca7b-4290-a52c-dd5b6165ec43", "!~"] {
            assert!(is_usable(&HeaderValue::from_static(id)), "{id:?}");
        }
        assert!(is_usable(
            &HeaderValue::from_str(&"x".repeat(MAX_REQUEST_ID_LEN)).unwrap()
        ));
    }

    #[test]
    fn empty_long_spaced_or_non_ascii_ids_are_not_usable() {
        let long = "x".repeat(MAX_REQUEST_ID_LEN + 1);
        for id in ["", "has space", "tab\there", long.as_str()] {
            assert!(!is_usable(&HeaderValue::from_str(id).unwrap()), "{id:?}");
        }
        assert!(!is_usable(
            &HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap()
        ));
    }

    #[test]
    fn generated_ids_are_uuids() {
        let id = generate();
        assert!(Uuid::parse_str(id.to_str().unwrap()).is_ok());
        assert!(is_usable(&id));
    }
}
