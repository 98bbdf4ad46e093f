//! Authentication at the edge: every `/v1/` request becomes a [`Caller`] (put in the request's
//! extensions for the handlers) or is refused with our JSON body and `WWW-Authenticate`
//! (RFC 6750).

use axum::extract::FromRequestParts;
use axum::http::header::WWW_AUTHENTICATE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::response::{IntoResponse, Response};

use crate::auth::{Authentication, Caller, Refusal};
use crate::http::error::ApiError;
use crate::http::error_code::ErrorCode;

/// The realm named in `WWW-Authenticate`.
const REALM: &str = "payment-server";

/// The caller of a request with `method` and `headers`, or the refusal to answer instead.
pub async fn authenticate(
    auth: &Authentication,
    method: &Method,
    headers: &HeaderMap,
) -> Result<Caller, Response> {
    auth.authenticate(method, headers).await.map_err(|refusal| {
        // The reason only: never the token.
        tracing::debug!(refusal = ?refusal, "request not authenticated");
        refused(&refusal)
    })
}

/// Our JSON refusal for `refusal`, with the `WWW-Authenticate` challenge RFC 6750 asks for.
pub fn refused(refusal: &Refusal) -> Response {
    let (error, challenge) = match refusal {
        Refusal::MissingToken => (
            ApiError::new(
                ErrorCode::Unauthenticated,
                "this request needs an Authorization: Bearer token",
            ),
            format!("Bearer realm=\"{REALM}\""),
        ),
        Refusal::InvalidToken(reason) => (
            ApiError::new(ErrorCode::Unauthenticated, reason.to_string()),
            // The reasons are fixed texts without quotes or backslashes.
            format!(
                "Bearer realm=\"{REALM}\", error=\"invalid_token\", error_description=\"{reason}\""
            ),
        ),
        Refusal::InsufficientScope(scope) => (
            ApiError::new(
                ErrorCode::InsufficientScope,
                format!("this request needs the scope {}", scope.as_str()),
            ),
            format!(
                "Bearer realm=\"{REALM}\", error=\"insufficient_scope\", scope=\"{}\"",
                scope.as_str()
            ),
        ),
        Refusal::NoOrganisation => {
            return ApiError::new(
                ErrorCode::Forbidden,
                "the token holds no organisation, so it may touch no payment",
            )
            .into_response()
        }
    };
    let mut response = error.into_response();
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response.headers_mut().insert(WWW_AUTHENTICATE, value);
    }
    response
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    /// The caller the edge authenticated. Every `/v1/` request has one; a handler reached
    /// without one is a wiring bug, answered 500 rather than served without tenancy.
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.remove::<Caller>().ok_or_else(|| {
            tracing::error!("a payment handler was reached without an authenticated caller");
            ApiError::internal()
        })
    }
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::*;
    use crate::auth::{Scope, TokenError};

    fn challenge(response: &Response) -> Option<&str> {
        response
            .headers()
            .get(WWW_AUTHENTICATE)
            .and_then(|value| value.to_str().ok())
    }

    #[test]
    fn refusals_carry_the_challenge_rfc_6750_asks_for() {
        let missing = refused(&Refusal::MissingToken);
        assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(challenge(&missing), Some("Bearer realm=\"payment-server\""));

        let expired = refused(&Refusal::InvalidToken(TokenError::Expired));
        assert_eq!(expired.status(), StatusCode::UNAUTHORIZED);
        assert!(challenge(&expired)
            .unwrap()
            .contains("error=\"invalid_token\""));

        let scope = refused(&Refusal::InsufficientScope(Scope::Write));
        assert_eq!(scope.status(), StatusCode::FORBIDDEN);
        assert!(challenge(&scope)
            .unwrap()
            .contains("error=\"insufficient_scope\", scope=\"payments:write\""));

        let none = refused(&Refusal::NoOrganisation);
        assert_eq!(none.status(), StatusCode::FORBIDDEN);
        assert_eq!(challenge(&none), None);
    }
}
