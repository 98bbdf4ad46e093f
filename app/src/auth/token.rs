//! Checking one bearer token: signature, algorithm, time, issuer and audience, then the claims
//! this server reads (`sub`, `scope`, the organisations).

use std::sync::Arc;

use domain::{Access, OrganisationId};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
use thiserror::Error;

use super::jwks::Jwks;
use super::Scope;

/// Most organisations one token may hold (a list without a filter queries each).
pub const MAX_ORGANISATIONS: usize = 100;
/// Longest `sub` accepted, in bytes: it is written into every access line.
const MAX_SUBJECT_BYTES: usize = 256;
/// The algorithms a JWKS key may verify (each key type has exactly one).
const JWKS_ALGORITHMS: [Algorithm; 3] = [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA];

/// Why a token is not accepted. The texts are safe to show the client and to log: none holds
/// any part of the token.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TokenError {
    /// Not a well-formed signed JWT (`alg: none` included), or a malformed header.
    #[error("{0}")]
    Malformed(&'static str),
    /// `exp` has passed (beyond the leeway).
    #[error("the token has expired")]
    Expired,
    /// `nbf` is still ahead (beyond the leeway).
    #[error("the token is not valid yet")]
    NotYetValid,
    /// The signature does not verify with the key.
    #[error("the token's signature does not verify")]
    BadSignature,
    /// No trusted key has the token's `kid`.
    #[error("the token is signed with a key this server does not trust")]
    UnknownKey,
    /// The header's `alg` is not the algorithm of the key it names.
    #[error("the token's algorithm is not the one of its key")]
    WrongAlgorithm,
    /// `iss` is not the configured issuer.
    #[error("the token is from another issuer")]
    WrongIssuer,
    /// `aud` does not name the configured audience.
    #[error("the token is meant for another audience")]
    WrongAudience,
    /// A required claim is absent.
    #[error("the token has no {0} claim")]
    MissingClaim(String),
    /// A claim this server reads has the wrong shape.
    #[error("{0}")]
    BadClaim(&'static str),
}

/// What a verified token says.
#[derive(Debug, Clone)]
pub struct VerifiedClaims {
    /// `sub`.
    pub subject: Option<Arc<str>>,
    /// The scopes of `scope` this server knows.
    pub scopes: Vec<Scope>,
    /// The organisations claim.
    pub access: Access,
}

/// Where verification keys come from.
pub(super) enum Keys {
    /// One HS256 secret (development).
    Secret(Arc<DecodingKey>),
    /// A JWKS document, refetched.
    Jwks(Arc<Jwks>),
}

/// Verifies bearer JWTs. Built once at start-up.
pub struct JwtVerifier {
    keys: Keys,
    /// One validation per algorithm that may be used, prepared once.
    validations: Vec<(Algorithm, Validation)>,
    organisations_claim: String,
}

/// The checks beside the signature, as configured.
pub(super) struct Checks<'a> {
    pub issuer: Option<&'a str>,
    pub audience: Option<&'a str>,
    pub leeway_seconds: u64,
    pub organisations_claim: &'a str,
}

impl JwtVerifier {
    pub(super) fn new(keys: Keys, checks: &Checks<'_>) -> Self {
        let algorithms: &[Algorithm] = match keys {
            Keys::Secret(_) => &[Algorithm::HS256],
            Keys::Jwks(_) => &JWKS_ALGORITHMS,
        };
        let validations = algorithms
            .iter()
            .map(|algorithm| (*algorithm, validation(*algorithm, checks)))
            .collect();
        Self {
            keys,
            validations,
            organisations_claim: checks.organisations_claim.to_owned(),
        }
    }

    /// Checks `token` and reads its claims.
    pub async fn verify(&self, token: &str) -> Result<VerifiedClaims, TokenError> {
        // `alg: none` and unknown algorithms do not parse as a header.
        let header = jsonwebtoken::decode_header(token).map_err(|_| {
            TokenError::Malformed("the token is not a JWT signed with a supported algorithm")
        })?;
        let (algorithm, key) = match &self.keys {
            Keys::Secret(key) => (Algorithm::HS256, key.clone()),
            Keys::Jwks(jwks) => jwks.key_for(header.kid.as_deref()).await?,
        };
        // The key decides the algorithm, never the token: an RS256 public key used as an HS256
        // secret (algorithm confusion) is refused here.
        if header.alg != algorithm {
            return Err(TokenError::WrongAlgorithm);
        }
        let validation = self
            .validations
            .iter()
            .find_map(|(known, validation)| (*known == algorithm).then_some(validation))
            .ok_or(TokenError::WrongAlgorithm)?;
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, validation)
            .map_err(|error| token_error(error.into_kind()))?;
        self.read_claims(&data.claims)
    }

    fn read_claims(&self, claims: &Map<String, Value>) -> Result<VerifiedClaims, TokenError> {
        let subject = match claims.get("sub") {
            None | Some(Value::Null) => None,
            Some(Value::String(sub)) if sub.len() <= MAX_SUBJECT_BYTES => Some(Arc::from(&**sub)),
            Some(_) => {
                return Err(TokenError::BadClaim(
                    "sub must be text of at most 256 bytes",
                ))
            }
        };
        let scopes = match claims.get("scope") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(scope)) => scope
                .split_whitespace()
                .filter_map(|scope| match scope {
                    super::READ_SCOPE => Some(Scope::Read),
                    super::WRITE_SCOPE => Some(Scope::Write),
                    _ => None,
                })
                .collect(),
            Some(_) => return Err(TokenError::BadClaim("scope must be space-separated text")),
        };
        let access = match claims.get(&self.organisations_claim) {
            None | Some(Value::Null) => Access::organisations([]),
            Some(Value::Array(items)) if items.len() <= MAX_ORGANISATIONS => {
                let parsed: Option<Vec<OrganisationId>> = items
                    .iter()
                    .map(|item| {
                        item.as_str()
                            .and_then(|text| OrganisationId::parse(text).ok())
                    })
                    .collect();
                Access::organisations(parsed.ok_or(TokenError::BadClaim(
                    "the organisations claim must be an array of UUIDs",
                ))?)
            }
            Some(_) => {
                return Err(TokenError::BadClaim(
                    "the organisations claim must be an array of at most 100 UUIDs",
                ))
            }
        };
        Ok(VerifiedClaims {
            subject,
            scopes,
            access,
        })
    }
}

fn validation(algorithm: Algorithm, checks: &Checks<'_>) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.leeway = checks.leeway_seconds;
    validation.validate_exp = true;
    validation.validate_nbf = true;
    let mut required = vec!["exp"];
    if let Some(issuer) = checks.issuer {
        validation.set_issuer(&[issuer]);
        required.push("iss");
    }
    match checks.audience {
        Some(audience) => {
            validation.set_audience(&[audience]);
            required.push("aud");
        }
        // Without a configured audience, `aud` is not checked (jsonwebtoken would refuse every
        // token that has one).
        None => validation.validate_aud = false,
    }
    validation.set_required_spec_claims(&required);
    validation
}

fn token_error(kind: ErrorKind) -> TokenError {
    match kind {
        ErrorKind::ExpiredSignature => TokenError::Expired,
        ErrorKind::ImmatureSignature => TokenError::NotYetValid,
        ErrorKind::InvalidSignature => TokenError::BadSignature,
        ErrorKind::InvalidIssuer => TokenError::WrongIssuer,
        ErrorKind::InvalidAudience => TokenError::WrongAudience,
        ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => TokenError::WrongAlgorithm,
        ErrorKind::MissingRequiredClaim(claim) => TokenError::MissingClaim(claim),
        _ => TokenError::Malformed("the token is not a well-formed signed JWT"),
    }
}
