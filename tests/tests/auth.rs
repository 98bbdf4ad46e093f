//! Tenant isolation with `--auth jwt`: every `/v1/` request needs a valid bearer token with the
//! operation's scope, and no token ever sees, changes or learns of another organisation's
//! payments — in both write modes and on both storages.

use std::time::Duration;

use app::auth::AuthMode;
use app::config::WriteMode;
use app::Config;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tests::auth::{
    claims, jwks, now, unsigned, JwksServer, Signer, TempFile, AUDIENCE, HS256_SECRET, ISSUER,
    READ_WRITE,
};
use tests::{new_organisation_id, payment_document, Backend, Reply, TestApp};

/// A reference only the other organisation's payment carries: no refused answer may hold it.
const THEIR_MARKER: &str = "their-confidential-reference";

/// A server on `backend` in `mode` checking HS256 tokens from [`ISSUER`] for [`AUDIENCE`].
async fn strict_server(backend: Backend, mode: WriteMode) -> TestApp {
    let secret = TempFile::new("secret", &format!("\n  {HS256_SECRET}  \n"));
    TestApp::spawn_with(backend, |config| {
        config.write_mode = mode;
        config.auth.mode = Some(AuthMode::Jwt);
        config.auth.jwt_hs256_secret_file = Some(secret.0.clone());
        config.auth.jwt_issuer = Some(ISSUER.into());
        config.auth.jwt_audience = Some(AUDIENCE.into());
    })
    .await
}

/// A server reading its keys from `url`, issuer and audience unchecked.
async fn jwks_url_server(url: &str) -> TestApp {
    TestApp::spawn_with(Backend::Memory, |config| {
        config.auth.mode = Some(AuthMode::Jwt);
        config.auth.jwt_jwks_url = Some(url.into());
    })
    .await
}

fn hs256() -> Signer {
    Signer::hs256(HS256_SECRET.as_bytes())
}

fn token(organisations: &[&str], scope: &str) -> String {
    hs256().sign(&claims(organisations, scope))
}

/// `claims(...)` with `changes` merged in.
fn claims_with(organisations: &[&str], changes: Value) -> Value {
    let mut claims = claims(organisations, READ_WRITE);
    for (name, value) in changes.as_object().expect("an object") {
        claims[name] = value.clone();
    }
    claims
}

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Reply {
    let mut request = app.request(method, path);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    Reply::send(request).await
}

fn document_with_marker(organisation: &str) -> Value {
    let mut document = payment_document(organisation, "100.21");
    document["data"]["attributes"]["reference"] = json!(THEIR_MARKER);
    document
}

async fn create(app: &TestApp, token: &str, document: &Value) -> String {
    let reply = call(
        app,
        Method::POST,
        "/v1/payments",
        Some(token),
        Some(document),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["data"]["id"].as_str().expect("an id").to_owned()
}

fn update_of(id: &str, organisation: &str, version: u64) -> Value {
    let mut document = payment_document(organisation, "120.00");
    document["data"]["id"] = json!(id);
    document["data"]["version"] = json!(version);
    document
}

/// Every payment route, on `mine` (a payment of `own`).
fn routes(mine: &str, own: &str) -> Vec<(Method, String, Option<Value>)> {
    vec![
        (Method::GET, format!("/v1/payments/{mine}"), None),
        (Method::GET, format!("/v1/payment/{mine}"), None),
        (
            Method::PUT,
            format!("/v1/payments/{mine}"),
            Some(update_of(mine, own, 0)),
        ),
        (Method::DELETE, format!("/v1/payments/{mine}"), None),
        (Method::GET, "/v1/payments".into(), None),
        (
            Method::GET,
            format!("/v1/payments?filter[organisation_id]={own}"),
            None,
        ),
        (
            Method::POST,
            "/v1/payments".into(),
            Some(payment_document(own, "1.00")),
        ),
        (
            Method::GET,
            format!("/v1/payment-commands/{}", new_organisation_id()),
            None,
        ),
    ]
}

fn assert_reveals_nothing_of(reply: &Reply, theirs: &str) {
    let text = reply.body.to_string();
    assert!(!text.contains(theirs), "{text}");
    assert!(!text.contains(THEIR_MARKER), "{text}");
}

async fn cross_tenant_matrix(app: TestApp) {
    let (own, other) = (new_organisation_id(), new_organisation_id());
    let theirs_token = token(&[&other], READ_WRITE);
    let theirs = create(&app, &theirs_token, &document_with_marker(&other)).await;
    let mine_token = token(&[&own], READ_WRITE);
    let mine = create(&app, &mine_token, &payment_document(&own, "100.21")).await;

    // 1. No valid token: 401 with the bearer challenge, whatever the route.
    let bad_tokens: Vec<(&str, Option<String>)> = vec![
        ("missing", None),
        ("not a JWT", Some("not-a-jwt".into())),
        (
            "expired",
            Some(hs256().sign(&claims_with(&[&own], json!({"exp": now() - 120})))),
        ),
        (
            "wrong signature",
            Some(
                Signer::hs256(b"another secret, also more than 32 bytes long")
                    .sign(&claims(&[&own], READ_WRITE)),
            ),
        ),
        (
            "wrong issuer",
            Some(hs256().sign(&claims_with(&[&own], json!({"iss": "https://evil.test/"})))),
        ),
        (
            "wrong audience",
            Some(hs256().sign(&claims_with(&[&own], json!({"aud": "another-api"})))),
        ),
        ("alg none", Some(unsigned(&claims(&[&own], READ_WRITE)))),
    ];
    for (case, bad) in &bad_tokens {
        for (method, path, body) in routes(&mine, &own) {
            let reply = call(&app, method.clone(), &path, bad.as_deref(), body.as_ref()).await;
            reply.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
            let challenge = reply.header("www-authenticate").unwrap_or_default();
            assert!(
                challenge.starts_with("Bearer realm="),
                "{case}: {challenge}"
            );
            assert_eq!(
                challenge.contains("error=\"invalid_token\""),
                bad.is_some(),
                "{case} {method} {path}: {challenge}"
            );
            assert_reveals_nothing_of(&reply, &other);
        }
    }

    // 2. A valid token without the operation's scope: 403 insufficient_scope.
    let read_only = token(&[&own], "payments:read");
    let write_only = token(&[&own], "payments:write");
    for (method, path, body) in routes(&mine, &own) {
        let lacking = match method {
            Method::GET => &write_only,
            _ => &read_only,
        };
        let reply = call(&app, method.clone(), &path, Some(lacking), body.as_ref()).await;
        reply.assert_error(StatusCode::FORBIDDEN, "insufficient_scope");
        let challenge = reply.header("www-authenticate").unwrap_or_default();
        assert!(
            challenge.contains("error=\"insufficient_scope\""),
            "{challenge}"
        );
    }

    // 3. A token holding no organisation: 403 forbidden on every payment route.
    let nobody = token(&[], READ_WRITE);
    for (method, path, body) in routes(&mine, &own) {
        let reply = call(&app, method, &path, Some(&nobody), body.as_ref()).await;
        reply.assert_error(StatusCode::FORBIDDEN, "forbidden");
    }

    // 4. Another organisation's payment does not exist for this token.
    for (method, path, body) in [
        (Method::GET, format!("/v1/payments/{theirs}"), None),
        (Method::GET, format!("/v1/payment/{theirs}"), None),
        (
            Method::PUT,
            format!("/v1/payments/{theirs}"),
            Some(update_of(&theirs, &own, 0)),
        ),
        (Method::DELETE, format!("/v1/payments/{theirs}"), None),
        (
            Method::DELETE,
            format!("/v1/payments/{theirs}?version=0"),
            None,
        ),
    ] {
        let reply = call(&app, method, &path, Some(&mine_token), body.as_ref()).await;
        reply.assert_error(StatusCode::NOT_FOUND, "not_found");
        assert_reveals_nothing_of(&reply, &other);
    }

    // 5. Naming an organisation the token does not hold: 403 forbidden, at once.
    for (method, path, body) in [
        (
            Method::POST,
            "/v1/payments".to_owned(),
            Some(payment_document(&other, "1.00")),
        ),
        (
            Method::PUT,
            format!("/v1/payments/{mine}"),
            Some(update_of(&mine, &other, 0)),
        ),
        (
            Method::GET,
            format!("/v1/payments?filter[organisation_id]={other}"),
            None,
        ),
    ] {
        let reply = call(&app, method, &path, Some(&mine_token), body.as_ref()).await;
        reply.assert_error(StatusCode::FORBIDDEN, "forbidden");
        assert!(!reply.body.to_string().contains(THEIR_MARKER));
    }

    // 6. A list without a filter holds the token's organisations only.
    let listed = call(&app, Method::GET, "/v1/payments", Some(&mine_token), None).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let ids: Vec<&str> = listed.body["data"]
        .as_array()
        .expect("a page")
        .iter()
        .filter_map(|payment| payment["id"].as_str())
        .collect();
    assert_eq!(ids, [mine.as_str()]);

    // 7. The token's own payment: every operation as without authentication.
    let path = format!("/v1/payments/{mine}");
    let read = call(&app, Method::GET, &path, Some(&read_only), None).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    let update = update_of(&mine, &own, 0);
    let updated = call(&app, Method::PUT, &path, Some(&mine_token), Some(&update)).await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    let deleted = call(&app, Method::DELETE, &path, Some(&write_only), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);

    // 8. Nothing above touched the other organisation's payment.
    let path = format!("/v1/payments/{theirs}");
    let kept = call(&app, Method::GET, &path, Some(&theirs_token), None).await;
    assert_eq!(kept.status, StatusCode::OK, "{}", kept.body);
    assert_eq!(kept.body["data"]["version"], 0);
    assert_eq!(kept.body["data"]["attributes"]["reference"], THEIR_MARKER);
}

mod memory {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cross_tenant_matrix() {
        let app = super::strict_server(tests::Backend::Memory, super::WriteMode::Sync).await;
        super::cross_tenant_matrix(app).await;
    }
}

mod memory_async {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cross_tenant_matrix() {
        let app = super::strict_server(tests::Backend::Memory, super::WriteMode::Async).await;
        super::cross_tenant_matrix(app).await;
    }
}

mod mongo {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cross_tenant_matrix() {
        let database = tests::mongo::TestDatabase::create().await;
        let backend = tests::Backend::Mongo(database);
        let app = super::strict_server(backend, super::WriteMode::Sync).await;
        super::cross_tenant_matrix(app).await;
    }
}

mod mongo_async {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cross_tenant_matrix() {
        let database = tests::mongo::TestDatabase::create().await;
        let backend = tests::Backend::Mongo(database);
        let app = super::strict_server(backend, super::WriteMode::Async).await;
        super::cross_tenant_matrix(app).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_asynchronous_update_of_another_organisations_payment_is_accepted_then_rejected_404() {
    let app = strict_server(Backend::Memory, WriteMode::Async)
        .await
        .without_waiting();
    let (own, other) = (new_organisation_id(), new_organisation_id());
    let theirs_token = token(&[&other], READ_WRITE);
    let mine_token = token(&[&own], READ_WRITE);
    let created = call(
        &app,
        Method::POST,
        "/v1/payments",
        Some(&theirs_token),
        Some(&document_with_marker(&other)),
    )
    .await;
    assert_eq!(created.status, StatusCode::ACCEPTED, "{}", created.body);
    let theirs = created.body["data"]["payment_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let location = created.header("location").unwrap().to_owned();
    let finished = app
        .finished_command_as(&location, Some(&theirs_token), Duration::from_secs(60))
        .await;
    assert_eq!(finished["status"], "applied", "{finished}");

    // The body names the caller's own organisation, so only the stored owner can refuse it,
    // and storage is not read before the 202.
    let path = format!("/v1/payments/{theirs}");
    let update = update_of(&theirs, &own, 0);
    let accepted = call(&app, Method::PUT, &path, Some(&mine_token), Some(&update)).await;
    assert_eq!(accepted.status, StatusCode::ACCEPTED, "{}", accepted.body);
    let location = accepted.header("location").unwrap().to_owned();
    let rejected = app
        .finished_command_as(&location, Some(&mine_token), Duration::from_secs(60))
        .await;
    assert_eq!(rejected["status"], "rejected", "{rejected}");
    assert_eq!(rejected["error"]["status"], 404, "{rejected}");
    assert_eq!(rejected["error"]["error_code"], "not_found", "{rejected}");
    assert!(!rejected.to_string().contains(THEIR_MARKER));

    // Another organisation's command is not found either.
    let foreign = call(&app, Method::GET, &location, Some(&theirs_token), None).await;
    foreign.assert_error(StatusCode::NOT_FOUND, "not_found");

    // A delete is keyed by the stored payment, so it is refused at once.
    let deleted = call(&app, Method::DELETE, &path, Some(&mine_token), None).await;
    deleted.assert_error(StatusCode::NOT_FOUND, "not_found");

    // A body naming another organisation is refused before anything is published.
    let moved = update_of(&theirs, &other, 0);
    let forbidden = call(&app, Method::PUT, &path, Some(&mine_token), Some(&moved)).await;
    forbidden.assert_error(StatusCode::FORBIDDEN, "forbidden");

    let kept = call(&app, Method::GET, &path, Some(&theirs_token), None).await;
    assert_eq!(kept.status, StatusCode::OK, "{}", kept.body);
    assert_eq!(kept.body["data"]["version"], 0);
}

#[tokio::test]
async fn a_list_without_a_filter_merges_every_organisation_the_token_holds() {
    let app = strict_server(Backend::Memory, WriteMode::Sync).await;
    let (first, second, outsider) = (
        new_organisation_id(),
        new_organisation_id(),
        new_organisation_id(),
    );
    let both = token(&[&first, &second], READ_WRITE);
    let mut expected = Vec::new();
    for organisation in [&first, &second, &first] {
        expected.push(create(&app, &both, &payment_document(organisation, "1.00")).await);
    }
    create(
        &app,
        &token(&[&outsider], READ_WRITE),
        &payment_document(&outsider, "1.00"),
    )
    .await;

    let mut listed = Vec::new();
    let mut path = "/v1/payments?page[size]=2".to_owned();
    loop {
        let page = call(&app, Method::GET, &path, Some(&both), None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        for payment in page.body["data"].as_array().unwrap() {
            listed.push(payment["id"].as_str().unwrap().to_owned());
        }
        match page.body["links"]["next"].as_str() {
            Some(next) => path = next.to_owned(),
            None => break,
        }
    }

    expected.sort();
    assert_eq!(listed, expected, "in id order, the outsider's left out");
}

#[tokio::test]
async fn time_claims_are_honoured_with_the_configured_leeway() {
    let app = strict_server(Backend::Memory, WriteMode::Sync).await;
    let own = new_organisation_id();
    let path = format!("/v1/payments?filter[organisation_id]={own}");
    for (case, changes, accepted) in [
        (
            "expired within the leeway",
            json!({"exp": now() - 10}),
            true,
        ),
        (
            "expired beyond the leeway",
            json!({"exp": now() - 60}),
            false,
        ),
        (
            "not valid yet, within the leeway",
            json!({"nbf": now() + 10}),
            true,
        ),
        (
            "not valid yet, beyond it",
            json!({"nbf": now() + 120}),
            false,
        ),
        ("without exp", json!({"exp": null}), false),
        ("with a textual exp", json!({"exp": "tomorrow"}), false),
    ] {
        let mut claims = claims_with(&[&own], changes);
        if claims["exp"].is_null() {
            claims.as_object_mut().unwrap().remove("exp");
        }
        let reply = call(&app, Method::GET, &path, Some(&hs256().sign(&claims)), None).await;
        match accepted {
            true => assert_eq!(reply.status, StatusCode::OK, "{case}: {}", reply.body),
            false => {
                reply.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
            }
        }
    }
}

#[tokio::test]
async fn malformed_organisation_claims_are_refused_as_invalid_tokens() {
    let app = strict_server(Backend::Memory, WriteMode::Sync).await;
    for organisations in [json!("not-an-array"), json!(["not-a-uuid"]), json!([42])] {
        let claims = claims_with(&[], json!({ "organisation_ids": organisations }));
        let reply = call(
            &app,
            Method::GET,
            "/v1/payments",
            Some(&hs256().sign(&claims)),
            None,
        )
        .await;
        reply.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    }
}

#[tokio::test]
async fn rs256_es256_and_eddsa_tokens_verify_against_a_jwks_url() {
    let signers = [Signer::rsa("rsa-1"), Signer::ec("ec-1"), Signer::ed("ed-1")];
    let server = JwksServer::start(jwks(&signers.iter().collect::<Vec<_>>())).await;
    let app = jwks_url_server(&server.url).await;
    let own = new_organisation_id();
    for signer in &signers {
        let token = signer.sign(&claims(&[&own], READ_WRITE));
        let reply = call(&app, Method::GET, "/v1/payments", Some(&token), None).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{}: {}",
            signer.kid,
            reply.body
        );
    }
}

#[tokio::test]
async fn algorithm_confusion_and_alg_none_are_refused() {
    let rsa = Signer::rsa("rsa-1");
    let server = JwksServer::start(jwks(&[&rsa])).await;
    let app = jwks_url_server(&server.url).await;
    let own = new_organisation_id();
    let claims = claims(&[&own], READ_WRITE);

    // HS256 under the RSA key's kid, the public key as the HMAC secret.
    let confused = rsa.confused(&claims);
    let reply = call(&app, Method::GET, "/v1/payments", Some(&confused), None).await;
    reply.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    let reply = call(
        &app,
        Method::GET,
        "/v1/payments",
        Some(&unsigned(&claims)),
        None,
    )
    .await;
    reply.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");

    // And the other way round: an HS256 server refuses a token signed with a key pair.
    let hs_app = strict_server(Backend::Memory, WriteMode::Sync).await;
    let rs256 = rsa.sign(&claims);
    let reply = call(&hs_app, Method::GET, "/v1/payments", Some(&rs256), None).await;
    reply.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn a_key_published_at_the_jwks_url_is_accepted_without_a_restart() {
    let old = Signer::ec("2026-old");
    let server = JwksServer::start(jwks(&[&old])).await;
    let app = jwks_url_server(&server.url).await;
    let own = new_organisation_id();
    let new = Signer::ed("2026-new");
    let new_token = new.sign(&claims(&[&own], READ_WRITE));

    let before = call(&app, Method::GET, "/v1/payments", Some(&new_token), None).await;
    before.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    let reads_before = server.reads();

    server.publish(jwks(&[&old, &new]));
    // Unknown keys cause one read a second at most; the refusal above just had its read.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let after = call(&app, Method::GET, "/v1/payments", Some(&new_token), None).await;

    assert_eq!(after.status, StatusCode::OK, "{}", after.body);
    assert_eq!(
        server.reads(),
        reads_before + 1,
        "read again once, for the unknown kid"
    );
    let old_token = old.sign(&claims(&[&own], READ_WRITE));
    let still = call(&app, Method::GET, "/v1/payments", Some(&old_token), None).await;
    assert_eq!(still.status, StatusCode::OK, "{}", still.body);
    assert_eq!(server.reads(), reads_before + 1, "known keys need no read");
}

#[tokio::test]
async fn a_key_published_in_the_jwks_file_is_accepted_without_a_restart() {
    let old = Signer::rsa("file-old");
    let file = TempFile::new("jwks.json", &jwks(&[&old]).to_string());
    let app = TestApp::spawn_with(Backend::Memory, |config| {
        config.auth.mode = Some(AuthMode::Jwt);
        config.auth.jwt_jwks_file = Some(file.0.clone());
    })
    .await;
    let own = new_organisation_id();
    let rotated = Signer::ec("file-new");
    let token = rotated.sign(&claims(&[&own], READ_WRITE));
    let refused = call(&app, Method::GET, "/v1/payments", Some(&token), None).await;
    refused.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");

    file.write(&jwks(&[&rotated]).to_string());
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let accepted = call(&app, Method::GET, "/v1/payments", Some(&token), None).await;

    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);
}

#[tokio::test]
async fn health_metrics_and_the_api_document_need_no_token() {
    let app = strict_server(Backend::Memory, WriteMode::Sync).await;
    for path in [
        "/health/live",
        "/health/ready",
        "/metrics",
        "/openapi.json",
        "/docs/",
    ] {
        let response = app.fetch(path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn the_api_document_declares_the_bearer_scheme_and_each_operations_scope() {
    let app = strict_server(Backend::Memory, WriteMode::Sync).await;
    let document = app.get("/openapi.json").await.body;
    let scheme = &document["components"]["securitySchemes"]["bearer"];
    assert_eq!(scheme["type"], "http", "{scheme}");
    assert_eq!(scheme["scheme"], "bearer", "{scheme}");
    let mut checked = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let security = &operation["security"];
            if !path.starts_with("/v1/") {
                assert!(security.is_null(), "{method} {path} is open");
                continue;
            }
            let scope = if method == "get" {
                "payments:read"
            } else {
                "payments:write"
            };
            assert_eq!(security, &json!([{"bearer": [scope]}]), "{method} {path}");
            let responses = &operation["responses"];
            assert!(responses["401"]["headers"]["WWW-Authenticate"].is_object());
            let forbidden = responses["403"]["content"]["application/json"]["examples"]
                .as_object()
                .expect("403 examples");
            assert!(
                forbidden.contains_key("insufficient_scope"),
                "{method} {path}"
            );
            assert!(forbidden.contains_key("forbidden"), "{method} {path}");
            checked += 1;
        }
    }
    assert!(checked >= 10, "{checked} operations");
}

/// Without authentication no operation needs a token, and the served document says so (a
/// client generated from it, or schemathesis, must not send or expect one).
#[tokio::test]
async fn a_server_without_auth_documents_no_security() {
    let open = TestApp::spawn(Backend::Memory).await;
    let strict = strict_server(Backend::Memory, WriteMode::Sync).await;

    let document = open.get("/openapi.json").await.body;

    assert!(
        document["components"]["securitySchemes"]["bearer"].is_null(),
        "{}",
        document["components"]
    );
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            assert!(operation["security"].is_null(), "{method} {path}");
        }
    }
    // The same process still serves the secured document from its server with auth.
    let secured = strict.get("/openapi.json").await.body;
    assert!(secured["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn a_server_reachable_from_other_hosts_refuses_to_start_without_auth() {
    let mut config = Config::defaults();
    config.listen = "0.0.0.0:0".parse().unwrap();
    let refused = app::compose::compose(&config).await.err().expect("refused");
    assert!(refused.to_string().contains("--auth"), "{refused}");

    config.auth.mode = Some(AuthMode::None);
    assert!(
        app::compose::compose(&config).await.is_ok(),
        "explicitly open"
    );

    config.listen = "127.0.0.1:0".parse().unwrap();
    config.auth.mode = None;
    assert!(
        app::compose::compose(&config).await.is_ok(),
        "loopback is open by default"
    );
}
