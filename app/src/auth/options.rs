//! The `--auth` and `--jwt-*` options, and the authentication they describe.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, ValueEnum};
use jsonwebtoken::DecodingKey;

use super::fetch::Fetcher;
use super::jwks::{Jwks, Source};
use super::token::{Checks, JwtVerifier, Keys};
use super::Authentication;

/// Shortest HS256 secret accepted, in bytes (RFC 7518: at least the hash size).
const MIN_SECRET_BYTES: usize = 32;

/// How API requests are authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthMode {
    /// None: every request acts for every organisation.
    None,
    /// A bearer JWT on every `/v1/` request.
    Jwt,
}

/// The authentication options (part of [`crate::Config`]).
#[derive(Debug, Clone, Args)]
pub struct AuthOptions {
    /// How /v1/ requests are authenticated: `jwt` needs `Authorization: Bearer <JWT>`; `none` lets every request act for every organisation. Unset, it is `none` on a loopback --listen address, and on any other the server refuses to start.
    #[arg(long = "auth", env = "PAYMENT_SERVER_AUTH", value_enum)]
    pub mode: Option<AuthMode>,

    /// JWKS file of the token signing keys (RS256, ES256, EdDSA), read again on a schedule and when a token names an unknown key.
    #[arg(long, env = "PAYMENT_SERVER_JWT_JWKS_FILE", value_name = "PATH")]
    pub jwt_jwks_file: Option<PathBuf>,

    /// JWKS URL of the token signing keys (the identity provider's jwks_uri), fetched again on a schedule and when a token names an unknown key.
    #[arg(long, env = "PAYMENT_SERVER_JWT_JWKS_URL", value_name = "URL")]
    pub jwt_jwks_url: Option<String>,

    /// File holding an HS256 secret of at least 32 bytes (surrounding whitespace trimmed), for development; never the secret itself on the command line.
    #[arg(
        long,
        env = "PAYMENT_SERVER_JWT_HS256_SECRET_FILE",
        value_name = "PATH"
    )]
    pub jwt_hs256_secret_file: Option<PathBuf>,

    /// The `iss` tokens must have; unchecked when unset.
    #[arg(long, env = "PAYMENT_SERVER_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,

    /// A value the tokens' `aud` must hold; unchecked when unset.
    #[arg(long, env = "PAYMENT_SERVER_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,

    /// Clock skew allowed when checking `exp` and `nbf`, in seconds.
    #[arg(long, env = "PAYMENT_SERVER_JWT_LEEWAY_SECONDS", default_value_t = 30)]
    pub jwt_leeway_seconds: u64,

    /// The claim listing the organisations (UUIDs) a token acts for.
    #[arg(
        long,
        env = "PAYMENT_SERVER_JWT_ORGANISATIONS_CLAIM",
        default_value = "organisation_ids"
    )]
    pub jwt_organisations_claim: String,

    /// How often the JWKS is read again, in seconds.
    #[arg(
        long,
        env = "PAYMENT_SERVER_JWT_JWKS_REFRESH_SECONDS",
        default_value_t = 300,
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub jwt_jwks_refresh_seconds: u64,
}

impl AuthOptions {
    /// The mode in force for a server on `listen`: `--auth` when given; otherwise `none` on a
    /// loopback address, and an error on any other (a server reachable from elsewhere never
    /// runs without authentication by accident).
    pub fn mode(&self, listen: SocketAddr) -> Result<AuthMode, String> {
        match self.mode {
            Some(mode) => Ok(mode),
            None if listen.ip().is_loopback() => Ok(AuthMode::None),
            None => Err(format!(
                "--listen {listen} is not a loopback address: choose --auth jwt (with a key \
                 source), or --auth none to serve every organisation to anyone who reaches it"
            )),
        }
    }

    /// The authentication these options describe for a server on `listen`; reads the keys.
    pub async fn build(&self, listen: SocketAddr) -> Result<Authentication, String> {
        if self.mode(listen)? == AuthMode::None {
            tracing::warn!(
                "authentication is off (--auth none): every client acts for every organisation"
            );
            return Ok(Authentication::none());
        }
        let keys = match (
            &self.jwt_jwks_file,
            &self.jwt_jwks_url,
            &self.jwt_hs256_secret_file,
        ) {
            (Some(path), None, None) => Keys::Jwks(self.jwks(Source::File(path.clone())).await?),
            (None, Some(url), None) => {
                Keys::Jwks(self.jwks(Source::Url(Box::new(Fetcher::new(url)?))).await?)
            }
            (None, None, Some(path)) => Keys::Secret(Arc::new(read_secret(path)?)),
            _ => {
                return Err(
                    "--auth jwt needs exactly one of --jwt-jwks-file, --jwt-jwks-url \
                            and --jwt-hs256-secret-file"
                        .into(),
                )
            }
        };
        let checks = Checks {
            issuer: self.jwt_issuer.as_deref(),
            audience: self.jwt_audience.as_deref(),
            leeway_seconds: self.jwt_leeway_seconds,
            organisations_claim: &self.jwt_organisations_claim,
        };
        Ok(Authentication::jwt(JwtVerifier::new(keys, &checks)))
    }

    async fn jwks(&self, source: Source) -> Result<Arc<Jwks>, String> {
        Jwks::open(source, Duration::from_secs(self.jwt_jwks_refresh_seconds)).await
    }
}

/// The HS256 key in `path`: its content without surrounding whitespace.
fn read_secret(path: &Path) -> Result<DecodingKey, String> {
    let text = std::fs::read(path)
        .map_err(|e| format!("--jwt-hs256-secret-file {}: {e}", path.display()))?;
    let secret = text.trim_ascii();
    if secret.len() < MIN_SECRET_BYTES {
        return Err(format!(
            "--jwt-hs256-secret-file {}: the secret must be at least {MIN_SECRET_BYTES} bytes",
            path.display()
        ));
    }
    Ok(DecodingKey::from_secret(secret))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::Config;

    fn options(args: &[&str]) -> AuthOptions {
        let mut all = vec!["payment-server"];
        all.extend_from_slice(args);
        Config::try_parse_from(all).unwrap().auth
    }

    #[test]
    fn without_auth_a_loopback_server_runs_open_and_any_other_refuses_to_start() {
        let unset = options(&[]);
        assert_eq!(
            unset.mode("127.0.0.1:8080".parse().unwrap()),
            Ok(AuthMode::None)
        );
        assert_eq!(
            unset.mode("[::1]:8080".parse().unwrap()),
            Ok(AuthMode::None)
        );
        let refused = unset.mode("0.0.0.0:8080".parse().unwrap()).unwrap_err();
        assert!(refused.contains("--auth"), "{refused}");
        let explicit = options(&["--auth", "none"]);
        assert_eq!(
            explicit.mode("0.0.0.0:8080".parse().unwrap()),
            Ok(AuthMode::None)
        );
    }

    #[tokio::test]
    async fn jwt_needs_exactly_one_key_source() {
        let listen = "127.0.0.1:0".parse().unwrap();
        let none = options(&["--auth", "jwt"]).build(listen).await.unwrap_err();
        assert!(none.contains("exactly one"), "{none}");
        let two = options(&[
            "--auth",
            "jwt",
            "--jwt-jwks-url",
            "https://idp.example/jwks",
            "--jwt-hs256-secret-file",
            "/nonexistent",
        ])
        .build(listen)
        .await
        .unwrap_err();
        assert!(two.contains("exactly one"), "{two}");
    }

    #[tokio::test]
    async fn a_short_hs256_secret_is_refused() {
        let path = std::env::temp_dir().join(format!("short-secret-{}", std::process::id()));
        std::fs::write(&path, "  too short \n").unwrap();
        let built = options(&[
            "--auth",
            "jwt",
            "--jwt-hs256-secret-file",
            path.to_str().unwrap(),
        ])
        .build("127.0.0.1:0".parse().unwrap())
        .await;
        std::fs::remove_file(&path).unwrap();
        assert!(built.unwrap_err().contains("at least 32 bytes"));
    }
}
