//! Verification keys from a JWKS document (RFC 7517), from a file or a URL: read at start-up,
//! read again on a schedule and when a token names a key not in the set (key rotation), with
//! no restart.

use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock, Weak};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;

use super::fetch::Fetcher;
use super::token::TokenError;

/// The least time between two reads caused by unknown key ids, so tokens with made-up `kid`s
/// cannot turn into a stream of requests to the identity provider.
const UNKNOWN_KEY_REFETCH_INTERVAL: Duration = Duration::from_secs(1);

/// Where the document is.
pub(super) enum Source {
    /// A local file (`--jwt-jwks-file`), e.g. mounted from a secret store.
    File(PathBuf),
    /// A URL (`--jwt-jwks-url`), usually the identity provider's `jwks_uri`.
    Url(Box<Fetcher>),
}

impl Source {
    fn describe(&self) -> String {
        match self {
            Source::File(path) => path.display().to_string(),
            Source::Url(fetcher) => fetcher.url().to_owned(),
        }
    }

    async fn read(&self) -> Result<Vec<u8>, String> {
        match self {
            Source::File(path) => tokio::fs::read(path).await.map_err(|e| e.to_string()),
            Source::Url(fetcher) => fetcher.get().await,
        }
    }
}

/// One usable key.
struct VerificationKey {
    kid: Option<String>,
    algorithm: Algorithm,
    key: Arc<DecodingKey>,
}

/// The usable keys of one document.
#[derive(Default)]
pub(super) struct KeySet(Vec<VerificationKey>);

#[derive(Deserialize)]
struct Document {
    keys: Vec<serde_json::Value>,
}

impl KeySet {
    /// The signing keys of a JWKS document; keys this server cannot use (encryption keys,
    /// symmetric keys, other curves or algorithms) are left out with a warning.
    pub(super) fn parse(bytes: &[u8]) -> Result<Self, String> {
        let document: Document = serde_json::from_slice(bytes)
            .map_err(|e| format!("not a JWKS document ({{\"keys\": [...]}}): {e}"))?;
        let mut keys = Vec::new();
        for (index, value) in document.keys.into_iter().enumerate() {
            match usable_key(value) {
                Ok(key) => keys.push(key),
                Err(reason) => tracing::warn!(index, %reason, "JWKS key left out"),
            }
        }
        Ok(Self(keys))
    }

    /// The key `kid` names; without a `kid`, the set's only key.
    fn find(&self, kid: Option<&str>) -> Option<&VerificationKey> {
        match kid {
            Some(kid) => self.0.iter().find(|key| key.kid.as_deref() == Some(kid)),
            None => match self.0.as_slice() {
                [only] => Some(only),
                _ => None,
            },
        }
    }

    pub(super) fn len(&self) -> usize {
        self.0.len()
    }
}

fn usable_key(value: serde_json::Value) -> Result<VerificationKey, String> {
    let jwk: Jwk = serde_json::from_value(value).map_err(|e| e.to_string())?;
    if jwk.common.public_key_use == Some(PublicKeyUse::Encryption) {
        return Err("an encryption key (use: enc)".into());
    }
    let algorithm = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
            Algorithm::ES256
        }
        AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => {
            Algorithm::EdDSA
        }
        AlgorithmParameters::OctetKey(_) => {
            return Err("a symmetric key (HS256 is configured with --jwt-hs256-secret-file)".into())
        }
        _ => return Err("a curve other than P-256 or Ed25519".into()),
    };
    let expected = match algorithm {
        Algorithm::RS256 => KeyAlgorithm::RS256,
        Algorithm::ES256 => KeyAlgorithm::ES256,
        _ => KeyAlgorithm::EdDSA,
    };
    if let Some(declared) = jwk.common.key_algorithm.filter(|alg| *alg != expected) {
        return Err(format!(
            "alg {declared} (this server verifies RS256, ES256 and EdDSA)"
        ));
    }
    let key = DecodingKey::from_jwk(&jwk).map_err(|e| e.to_string())?;
    Ok(VerificationKey {
        kid: jwk.common.key_id,
        algorithm,
        key: Arc::new(key),
    })
}

/// The current key set of a source, and when it was last read because of an unknown key.
pub(super) struct Jwks {
    source: Source,
    keys: RwLock<Arc<KeySet>>,
    unknown_key_refetch: tokio::sync::Mutex<Option<Instant>>,
}

impl Jwks {
    /// Reads `source` once and keeps it fresh every `refresh`. A file that cannot be read or
    /// holds no usable key stops the start; a URL that does not answer is only warned about
    /// (the identity provider may come up later: tokens are refused until then).
    pub(super) async fn open(source: Source, refresh: Duration) -> Result<Arc<Self>, String> {
        let jwks = Arc::new(Self {
            source,
            keys: RwLock::new(Arc::default()),
            unknown_key_refetch: tokio::sync::Mutex::new(None),
        });
        match (jwks.reload().await, &jwks.source) {
            (Err(error), Source::File(_)) => return Err(error),
            (Err(error), Source::Url(_)) => {
                tracing::warn!(%error, "JWKS not read at start-up; tokens are refused until it is")
            }
            (Ok(_), _) => {}
        }
        tokio::spawn(refresh_every(Arc::downgrade(&jwks), refresh));
        Ok(jwks)
    }

    /// The algorithm and key of `kid`, reading the source again first when the key is unknown.
    pub(super) async fn key_for(
        &self,
        kid: Option<&str>,
    ) -> Result<(Algorithm, Arc<DecodingKey>), TokenError> {
        if let Some(found) = self.lookup(kid) {
            return Ok(found);
        }
        self.refetch_for_unknown_key().await;
        self.lookup(kid).ok_or(TokenError::UnknownKey)
    }

    fn lookup(&self, kid: Option<&str>) -> Option<(Algorithm, Arc<DecodingKey>)> {
        let keys = self.keys.read().unwrap_or_else(PoisonError::into_inner);
        keys.find(kid).map(|key| (key.algorithm, key.key.clone()))
    }

    /// One read at a time, at most one per [`UNKNOWN_KEY_REFETCH_INTERVAL`]; requests that
    /// arrive meanwhile wait for it and then look again.
    async fn refetch_for_unknown_key(&self) {
        let mut last = self.unknown_key_refetch.lock().await;
        if last.is_some_and(|at| at.elapsed() < UNKNOWN_KEY_REFETCH_INTERVAL) {
            return;
        }
        *last = Some(Instant::now());
        if let Err(error) = self.reload().await {
            tracing::warn!(%error, "JWKS not read again for an unknown key");
        }
    }

    /// Reads the source and replaces the key set; the number of usable keys. A document
    /// without one (a file caught half-written, a broken deployment) leaves the keys as they
    /// were.
    async fn reload(&self) -> Result<usize, String> {
        let bytes = self.source.read().await;
        let set = bytes
            .and_then(|bytes| KeySet::parse(&bytes))
            .and_then(|set| match set.len() {
                0 => Err("no usable key".to_owned()),
                _ => Ok(set),
            })
            .map_err(|e| format!("JWKS {}: {e}", self.source.describe()))?;
        let count = set.len();
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(set);
        tracing::debug!(keys = count, "JWKS read");
        Ok(count)
    }
}

/// Reads the document again every `interval` for as long as anyone uses it.
async fn refresh_every(jwks: Weak<Jwks>, interval: Duration) {
    loop {
        tokio::time::sleep(interval).await;
        let Some(jwks) = jwks.upgrade() else {
            return;
        };
        if let Err(error) = jwks.reload().await {
            tracing::warn!(%error, "JWKS not refreshed; the keys read before stay in use");
        }
    }
}
