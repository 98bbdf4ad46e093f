//! Mints a development token for a server started with `--auth jwt --jwt-hs256-secret-file`
//! (e.g. `docker compose up`, whose secret is `dev/jwt-hs256-secret`):
//!
//! ```sh
//! cargo run -q -p app --example mint_token -- --secret-file dev/jwt-hs256-secret \
//!     --organisation 743d5b63-8e6f-432e-a8fa-c5d8d2ee5fcb
//! ```
//!
//! It prints the token only, so `TOKEN=$(...)` works. Development only: production tokens come
//! from your identity provider, signed with keys the server reads from a JWKS.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use app::auth::{READ_SCOPE, WRITE_SCOPE};
use clap::Parser;
use domain::OrganisationId;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::json;

/// Mints an HS256 token the payment server accepts with `--jwt-hs256-secret-file`.
#[derive(Parser)]
struct Args {
    /// The file holding the server's HS256 secret (surrounding whitespace is trimmed, as the
    /// server does).
    #[arg(long)]
    secret_file: PathBuf,
    /// An organisation the token acts for (repeat for several).
    #[arg(long = "organisation", required = true)]
    organisations: Vec<String>,
    /// The scopes, space-separated.
    #[arg(long, default_value_t = format!("{READ_SCOPE} {WRITE_SCOPE}"))]
    scope: String,
    /// The caller, as the access log shows it.
    #[arg(long, default_value = "developer")]
    sub: String,
    /// The claim the server reads organisations from (its --jwt-organisations-claim).
    #[arg(long, default_value = "organisation_ids")]
    organisations_claim: String,
    /// `iss`, when the server checks one (--jwt-issuer).
    #[arg(long)]
    issuer: Option<String>,
    /// `aud`, when the server checks one (--jwt-audience).
    #[arg(long)]
    audience: Option<String>,
    /// How long the token is valid, in seconds.
    #[arg(long, default_value_t = 3600)]
    ttl_seconds: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match mint(&args) {
        Ok(token) => {
            println!("{token}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("mint_token: {error}");
            ExitCode::FAILURE
        }
    }
}

fn mint(args: &Args) -> Result<String, String> {
    for organisation in &args.organisations {
        OrganisationId::parse(organisation)
            .map_err(|_| format!("--organisation {organisation:?} is not a UUID"))?;
    }
    let secret = std::fs::read(&args.secret_file)
        .map_err(|e| format!("{}: {e}", args.secret_file.display()))?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs();
    let mut claims = json!({
        "sub": args.sub,
        "iat": now,
        "exp": now + args.ttl_seconds,
        "scope": args.scope,
    });
    claims[&args.organisations_claim] = json!(args.organisations);
    if let Some(issuer) = &args.issuer {
        claims["iss"] = json!(issuer);
    }
    if let Some(audience) = &args.audience {
        claims["aud"] = json!(audience);
    }
    let key = EncodingKey::from_secret(secret.trim_ascii());
    jsonwebtoken::encode(&Header::default(), &claims, &key).map_err(|e| e.to_string())
}
