//! Authentication of API requests (`--auth none|jwt`): who is calling, with which scopes, for
//! which organisations.
//!
//! This is the inbound side only: a bearer token becomes a [`Caller`]. What a caller may touch
//! is the domain's rule ([`domain::Access`]), applied by the use cases; the HTTP edge calls
//! [`Authentication::authenticate`] for every `/v1/` request and hands the caller to the
//! handlers.

mod fetch;
mod jwks;
mod options;
mod token;

use std::sync::Arc;

use axum::http::{HeaderMap, Method};
use domain::Access;

pub use options::{AuthMode, AuthOptions};
pub use token::{JwtVerifier, TokenError, MAX_ORGANISATIONS};

/// The scope that lets a token read payments (`GET`).
pub const READ_SCOPE: &str = "payments:read";
/// The scope that lets a token write payments (`POST`, `PUT`, `DELETE`).
pub const WRITE_SCOPE: &str = "payments:write";

/// A permission a token grants in its `scope` claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// `payments:read`.
    Read,
    /// `payments:write`.
    Write,
}

impl Scope {
    /// The scope a request with `method` needs: reading for `GET` and `HEAD`, writing otherwise.
    /// The edge and the API document both ask this, so they cannot disagree.
    pub fn required_for(method: &Method) -> Scope {
        match *method {
            Method::GET | Method::HEAD => Scope::Read,
            _ => Scope::Write,
        }
    }

    /// The scope as the `scope` claim spells it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Scope::Read => READ_SCOPE,
            Scope::Write => WRITE_SCOPE,
        }
    }
}

/// Who sent a request, once authenticated.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The token's `sub`, when it has one (for logs: "who changed this payment").
    pub subject: Option<Arc<str>>,
    /// The organisations it acts for.
    pub access: Access,
}

impl Caller {
    /// A caller acting for every organisation: every request with `--auth none`.
    pub fn unrestricted() -> Self {
        Self {
            subject: None,
            access: Access::Unrestricted,
        }
    }
}

/// Why a request was not let through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No `Authorization: Bearer` header at all (401, a bare `WWW-Authenticate: Bearer`).
    MissingToken,
    /// A token that is not accepted (401, `error="invalid_token"`).
    InvalidToken(TokenError),
    /// A valid token without the scope the request needs (403 `insufficient_scope`).
    InsufficientScope(Scope),
    /// A valid token that holds no organisation (403 `forbidden`).
    NoOrganisation,
}

/// How this server authenticates requests. Cheap to clone.
#[derive(Clone, Default)]
pub struct Authentication(Option<Arc<JwtVerifier>>);

impl std::fmt::Debug for Authentication {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "jwt" } else { "none" })
    }
}

impl Authentication {
    /// No authentication: every request acts for every organisation.
    pub fn none() -> Self {
        Self(None)
    }

    /// Bearer JWTs checked by `verifier`.
    pub fn jwt(verifier: JwtVerifier) -> Self {
        Self(Some(Arc::new(verifier)))
    }

    /// Whether requests need a token.
    pub fn is_on(&self) -> bool {
        self.0.is_some()
    }

    /// The caller of a request with `method` and `headers`: checks the token, then the scope
    /// the method needs, then that the token holds an organisation. The token is never logged.
    pub async fn authenticate(
        &self,
        method: &Method,
        headers: &HeaderMap,
    ) -> Result<Caller, Refusal> {
        let Some(verifier) = &self.0 else {
            return Ok(Caller::unrestricted());
        };
        let token = bearer_token(headers)?;
        let claims = verifier
            .verify(token)
            .await
            .map_err(Refusal::InvalidToken)?;
        let needed = Scope::required_for(method);
        if !claims.scopes.contains(&needed) {
            return Err(Refusal::InsufficientScope(needed));
        }
        if claims.access.is_empty() {
            return Err(Refusal::NoOrganisation);
        }
        Ok(Caller {
            subject: claims.subject,
            access: claims.access,
        })
    }
}

/// The token of an `Authorization: Bearer <token>` header (the scheme in any case, RFC 9110).
fn bearer_token(headers: &HeaderMap) -> Result<&str, Refusal> {
    let mut values = headers.get_all(axum::http::header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Err(Refusal::MissingToken);
    };
    if values.next().is_some() {
        return Err(Refusal::InvalidToken(TokenError::Malformed(
            "more than one Authorization header",
        )));
    }
    let malformed = || {
        Refusal::InvalidToken(TokenError::Malformed(
            "the Authorization header is not `Bearer <token>`",
        ))
    };
    let text = value.to_str().map_err(|_| malformed())?;
    let (scheme, token) = text.split_once(' ').ok_or_else(malformed)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(malformed());
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(values: &[&'static str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("authorization", HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn the_token_is_read_from_one_bearer_header_in_any_case() {
        assert_eq!(
            bearer_token(&headers(&["Bearer abc.def.ghi"])),
            Ok("abc.def.ghi")
        );
        assert_eq!(bearer_token(&headers(&["bearer  abc"])), Ok("abc"));
        assert_eq!(bearer_token(&headers(&[])), Err(Refusal::MissingToken));
        for refused in [
            &["Basic dXNlcjpwYXNz"][..],
            &["Bearer"],
            &["Bearer "],
            &["Bearer a", "Bearer b"],
        ] {
            assert!(
                matches!(
                    bearer_token(&headers(refused)),
                    Err(Refusal::InvalidToken(_))
                ),
                "{refused:?}"
            );
        }
    }

    #[test]
    fn reads_need_the_read_scope_and_everything_else_the_write_scope() {
        assert_eq!(Scope::required_for(&Method::GET), Scope::Read);
        assert_eq!(Scope::required_for(&Method::HEAD), Scope::Read);
        for method in [Method::POST, Method::PUT, Method::DELETE, Method::PATCH] {
            assert_eq!(Scope::required_for(&method), Scope::Write, "{method}");
        }
    }

    #[tokio::test]
    async fn without_authentication_every_request_acts_for_every_organisation() {
        let caller = Authentication::none()
            .authenticate(&Method::DELETE, &HeaderMap::new())
            .await
            .unwrap();
        assert_eq!(caller.access, Access::Unrestricted);
        assert_eq!(caller.subject, None);
    }
}
