//! Tokens for the authentication tests, minted with real keys: the checked-in RSA test key,
//! and EC P-256 and Ed25519 keys generated per run; plus a JWKS server on a loopback port.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, Ed25519KeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::{json, Value};

use crate::TestApp;

/// The HS256 secret the test servers read from their secret file.
pub const HS256_SECRET: &str = "a development secret of more than thirty-two bytes";
/// The issuer and audience the strict test servers require.
pub const ISSUER: &str = "https://idp.test/";
/// See [`ISSUER`].
pub const AUDIENCE: &str = "payment-server";
/// Both scopes.
pub const READ_WRITE: &str = "payments:read payments:write";

/// Seconds since the epoch.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs() as i64
}

/// Claims for `organisations` with `scope`, valid for ten minutes, from [`ISSUER`] for
/// [`AUDIENCE`].
pub fn claims(organisations: &[&str], scope: &str) -> Value {
    json!({
        "sub": "client-under-test",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now(),
        "exp": now() + 600,
        "scope": scope,
        "organisation_ids": organisations,
    })
}

/// A signing key with the public half as a JWK.
pub struct Signer {
    /// The `kid`.
    pub kid: String,
    algorithm: Algorithm,
    key: EncodingKey,
    jwk: Value,
}

impl Signer {
    /// The checked-in 2048-bit RSA test key (RS256).
    pub fn rsa(kid: &str) -> Signer {
        let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/auth");
        let der_text = std::fs::read_to_string(fixtures.join("rsa-test-key.pk1.der.b64"))
            .expect("the RSA test key");
        let der = STANDARD
            .decode(der_text.trim())
            .expect("base64 of the RSA test key");
        let public: Value = serde_json::from_slice(
            &std::fs::read(fixtures.join("rsa-test-key.public.json")).expect("its public half"),
        )
        .expect("JSON");
        Signer {
            kid: kid.into(),
            algorithm: Algorithm::RS256,
            key: EncodingKey::from_rsa_der(&der),
            jwk: json!({"kty": "RSA", "n": public["n"], "e": public["e"], "alg": "RS256"}),
        }
    }

    /// A fresh EC P-256 key (ES256).
    pub fn ec(kid: &str) -> Signer {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .expect("a P-256 key");
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .expect("its key pair");
        // An uncompressed point: 0x04, x, y.
        let point = pair.public_key().as_ref();
        Signer {
            kid: kid.into(),
            algorithm: Algorithm::ES256,
            key: EncodingKey::from_ec_der(pkcs8.as_ref()),
            jwk: json!({
                "kty": "EC", "crv": "P-256", "alg": "ES256",
                "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
                "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
            }),
        }
    }

    /// A fresh Ed25519 key (EdDSA).
    pub fn ed(kid: &str) -> Signer {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).expect("an Ed25519 key");
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("its key pair");
        Signer {
            kid: kid.into(),
            algorithm: Algorithm::EdDSA,
            key: EncodingKey::from_ed_der(pkcs8.as_ref()),
            jwk: json!({
                "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA",
                "x": URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()),
            }),
        }
    }

    /// An HS256 key with `secret` (no `kid`).
    pub fn hs256(secret: &[u8]) -> Signer {
        Signer {
            kid: String::new(),
            algorithm: Algorithm::HS256,
            key: EncodingKey::from_secret(secret),
            jwk: Value::Null,
        }
    }

    /// The public key as a JWK with its `kid` and `use: sig`.
    pub fn jwk(&self) -> Value {
        let mut jwk = self.jwk.clone();
        jwk["kid"] = json!(self.kid);
        jwk["use"] = json!("sig");
        jwk
    }

    /// The RSA modulus of an RSA signer's public key, as bytes (what an attacker would use as
    /// an HS256 secret in an algorithm-confusion attempt).
    pub fn public_bytes(&self) -> Vec<u8> {
        let member = self.jwk["n"].as_str().or(self.jwk["x"].as_str());
        URL_SAFE_NO_PAD
            .decode(member.expect("an asymmetric key"))
            .expect("base64url")
    }

    /// `claims` signed, with the `kid` in the header (when it has one).
    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(self.algorithm);
        if !self.kid.is_empty() {
            header.kid = Some(self.kid.clone());
        }
        jsonwebtoken::encode(&header, claims, &self.key).expect("a signed token")
    }

    /// `claims` signed with HS256 under this signer's `kid`, the public key's bytes as the
    /// secret: the algorithm-confusion attack on a server that lets the token pick the algorithm.
    pub fn confused(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.kid.clone());
        let key = EncodingKey::from_secret(&self.public_bytes());
        jsonwebtoken::encode(&header, claims, &key).expect("a signed token")
    }
}

/// `claims` with `alg: none` and no signature.
pub fn unsigned(claims: &Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{header}.{body}.")
}

/// A JWKS document of `signers`.
pub fn jwks(signers: &[&Signer]) -> Value {
    json!({"keys": signers.iter().map(|signer| signer.jwk()).collect::<Vec<_>>()})
}

/// A file in the temporary directory holding `text`, removed when dropped. Written under
/// another name and renamed, so a server reading it never sees it half-written.
pub struct TempFile(pub PathBuf);

impl TempFile {
    /// A new file with `text`.
    pub fn new(name: &str, text: &str) -> TempFile {
        let path = std::env::temp_dir().join(format!(
            "payment-server-{}-{}-{name}",
            std::process::id(),
            crate::new_organisation_id()
        ));
        let file = TempFile(path);
        file.write(text);
        file
    }

    /// Replaces the content.
    pub fn write(&self, text: &str) {
        let staging = self.0.with_extension("staging");
        std::fs::write(&staging, text).expect("a writable temporary directory");
        std::fs::rename(&staging, &self.0).expect("a rename in the same directory");
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A JWKS document served over HTTP on a loopback port, counting its reads.
pub struct JwksServer {
    /// `http://127.0.0.1:PORT/jwks.json`.
    pub url: String,
    document: Arc<Mutex<Value>>,
    reads: Arc<AtomicUsize>,
    _server: TestApp,
}

impl JwksServer {
    /// Serves `document`.
    pub async fn start(document: Value) -> JwksServer {
        let shared = Arc::new(Mutex::new(document));
        let reads = Arc::new(AtomicUsize::new(0));
        let (served, counted) = (shared.clone(), reads.clone());
        let router = axum::Router::new().route(
            "/jwks.json",
            axum::routing::get(move || {
                let document = served.lock().expect("unpoisoned").clone();
                counted.fetch_add(1, Ordering::SeqCst);
                async move { axum::Json(document) }
            }),
        );
        let server = TestApp::spawn_serving(|listener, signal| async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(signal)
                .await
                .expect("the JWKS server runs");
        })
        .await;
        JwksServer {
            url: format!("{}/jwks.json", server.base_url),
            document: shared,
            reads,
            _server: server,
        }
    }

    /// Publishes `document` instead.
    pub fn publish(&self, document: Value) {
        *self.document.lock().expect("unpoisoned") = document;
    }

    /// How often the document was read.
    pub fn reads(&self) -> usize {
        self.reads.load(Ordering::SeqCst)
    }
}
