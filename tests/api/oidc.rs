//! OIDC-lite: the classic OAuth attacks, each refused with its exact error, over HTTP.
//! (The whole flow with a certified relying-party library, in a browser, is in `oidc_flow.rs`.)

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

use crate::authenticator::SoftAuthenticator;
use crate::helpers::{reply, spawn_app, spawn_with, Backend, Reply, TestApp, TestConfig};

pub const REDIRECT: &str = "http://localhost:9/cb";
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

pub struct Registered {
    pub id: String,
    pub secret: Option<String>,
}

pub async fn register(
    app: &TestApp,
    id: &str,
    public: bool,
    redirects: &[&str],
    logout: &[&str],
) -> Registered {
    let (id, redirects, logout) = (
        id.to_string(),
        redirects.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        logout.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
    );
    let (_, secret) = app
        .app
        .oidc
        .clients
        .add(passkey_idp::oidc::clients::NewClient {
            client_id: &id,
            name: None,
            redirect_uris: redirects,
            post_logout_redirect_uris: logout,
            public,
            scopes: None,
            id_token_alg: None,
            audiences: vec![],
            allowed_groups: vec![],
        })
        .await
        .expect("register the client");
    Registered { id, secret }
}

/// The /authorize query for `client`, with overrides (a `None` value drops the parameter).
pub fn authorize_query(client: &str, overrides: &[(&str, Option<&str>)]) -> String {
    let mut params: Vec<(String, String)> = [
        ("response_type", "code"),
        ("client_id", client),
        ("redirect_uri", REDIRECT),
        ("scope", "openid profile email offline_access"),
        ("state", "st&ate=1 ü"),
        ("nonce", "n-0S6_WzA2Mj"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in overrides {
        params.retain(|(name, _)| name != k);
        if let Some(v) = v {
            params.push((k.to_string(), v.to_string()));
        }
    }
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &params {
        s.append_pair(k, v);
    }
    s.finish()
}

pub async fn authorize(
    app: &TestApp,
    client: &str,
    overrides: &[(&str, Option<&str>)],
) -> reqwest::Response {
    app.client
        .get(app.url(&format!(
            "/authorize?{}",
            authorize_query(client, overrides)
        )))
        .send()
        .await
        .expect("authorize")
}

/// The query of the 303's Location.
pub fn location_params(res: &reqwest::Response) -> (String, Vec<(String, String)>) {
    assert_eq!(res.status(), 303, "expected a redirect");
    let location = res.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_string();
    let url = url::Url::parse(&location).expect("absolute location");
    let params = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let base = format!(
        "{}://{}{}",
        url.scheme(),
        url.host_str().unwrap_or(""),
        url.path()
    );
    let base = match url.port() {
        Some(p) => base.replacen(
            url.host_str().unwrap_or(""),
            &format!("{}:{p}", url.host_str().unwrap_or("")),
            1,
        ),
        None => base,
    };
    (base, params)
}

pub fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A signed-in browser (cookie jar) of a new user.
pub async fn signed_in(app: &TestApp, username: &str) {
    app.sign_up(username, &mut SoftAuthenticator::synced())
        .await;
}

pub async fn code(app: &TestApp, client: &str) -> String {
    let res = authorize(app, client, &[]).await;
    let (base, params) = location_params(&res);
    assert_eq!(base, REDIRECT, "{params:?}");
    param(&params, "code").expect("a code").to_string()
}

pub async fn token(app: &TestApp, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> Reply {
    let mut req = app.client.post(app.url("/token")).form(form);
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    reply(req.send().await.expect("token")).await
}

pub async fn redeem(app: &TestApp, c: &Registered, code: &str) -> Reply {
    let secret = c.secret.as_deref();
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    if secret.is_none() {
        form.push(("client_id", c.id.as_str()));
    }
    token(app, &form, secret.map(|s| (c.id.as_str(), s))).await
}

pub async fn userinfo(app: &TestApp, access_token: &str) -> Reply {
    reply(
        app.client
            .get(app.url("/userinfo"))
            .bearer_auth(access_token)
            .send()
            .await
            .expect("userinfo"),
    )
    .await
}

#[track_caller]
fn assert_oauth_error(r: &Reply, status: u16, code: &str) {
    assert_eq!((r.status.as_u16(), r.error()), (status, code), "{}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_document() {
    let app = spawn_app(Backend::Embedded).await;
    // Host and X-Forwarded-* never change the issuer.
    let res = app
        .client
        .get(app.url("/.well-known/openid-configuration"))
        .header("Host", "evil.example")
        .header("X-Forwarded-Host", "evil.example")
        .header("X-Forwarded-Proto", "https")
        .send()
        .await
        .expect("discovery");
    let d: Value = res.json().await.expect("json");
    assert_eq!(d["issuer"], app.origin.as_str());
    assert_eq!(
        d["authorization_endpoint"],
        format!("{}/authorize", app.origin)
    );
    assert_eq!(d["response_types_supported"], json!(["code"]));
    assert_eq!(d["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(d["authorization_response_iss_parameter_supported"], true);
    assert_eq!(
        d["scopes_supported"],
        json!(["openid", "profile", "email", "offline_access", "groups"])
    );
    assert!(d["claims_supported"]
        .as_array()
        .expect("claims")
        .contains(&json!("groups")));
    for m in ["client_secret_basic", "client_secret_post", "none"] {
        assert!(d["token_endpoint_auth_methods_supported"]
            .as_array()
            .expect("list")
            .contains(&json!(m)));
    }
    assert!(!d.to_string().contains("evil.example"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unregistered_and_look_alike_redirect_uris_are_never_redirected_to() {
    let app = spawn_app(Backend::Embedded).await;
    let c = register(&app, "app", false, &[REDIRECT], &[]).await;
    signed_in(&app, "alice").await;
    for evil in [
        "http://localhost:9/cb/",
        "http://LOCALHOST:9/cb",
        "http://localhost:9/CB",
        "http://localhost:9/cb?x=1",
        "http://localhost:10/cb",
        "http://localhost:9@evil.example/cb",
        "http://evil.example@localhost:9/cb",
        "http://localhost:9/%2e%2e/cb",
        "http://localhost:9/x/../cb",
        "https://localhost:9/cb",
        "http://localhost:9/cb#x",
        "",
    ] {
        let res = authorize(&app, &c.id, &[("redirect_uri", Some(evil))]).await;
        assert_eq!(res.status(), 400, "{evil}");
        assert!(
            res.headers().get("location").is_none(),
            "{evil}: never redirected"
        );
        let html = res.text().await.expect("page");
        assert!(html.contains("can't be used"), "{evil}: an error page");
    }
    let res = authorize(&app, &c.id, &[("redirect_uri", None)]).await;
    assert_eq!(res.status(), 400);
    let res = authorize(&app, "nobody", &[]).await;
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("location").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_errors_go_back_with_state_and_iss() {
    let app = spawn_app(Backend::Embedded).await;
    let c = register(&app, "app", false, &[REDIRECT], &[]).await;
    type Overrides<'a> = Vec<(&'a str, Option<&'a str>)>;
    let cases: Vec<(Overrides, &str)> = vec![
        (
            vec![("code_challenge", None), ("code_challenge_method", None)],
            "invalid_request",
        ),
        (
            vec![("code_challenge_method", Some("plain"))],
            "invalid_request",
        ),
        (vec![("code_challenge_method", None)], "invalid_request"),
        (
            vec![("code_challenge", Some("too-short"))],
            "invalid_request",
        ),
        (
            vec![("response_type", Some("token"))],
            "unsupported_response_type",
        ),
        (
            vec![("response_type", Some("code id_token"))],
            "unsupported_response_type",
        ),
        (vec![("scope", Some("profile email"))], "invalid_scope"),
        (vec![("scope", Some("openid admin"))], "invalid_scope"),
        (vec![("prompt", Some("none"))], "login_required"),
        (vec![("request", Some("eyJ"))], "request_not_supported"),
        (vec![("max_age", Some("-1"))], "invalid_request"),
    ];
    for (overrides, expected) in cases {
        let res = authorize(&app, &c.id, &overrides).await;
        let (base, params) = location_params(&res);
        assert_eq!(base, REDIRECT);
        assert_eq!(
            param(&params, "error"),
            Some(expected),
            "{overrides:?}: {params:?}"
        );
        assert_eq!(
            param(&params, "state"),
            Some("st&ate=1 ü"),
            "state echoed exactly"
        );
        assert_eq!(
            param(&params, "iss"),
            Some(app.origin.as_str()),
            "RFC 9207 iss"
        );
        assert!(param(&params, "code").is_none());
    }
    // No session: to the sign-in page (on the issuer, whatever Host says), with the hint.
    let res = app
        .client
        .get(app.url(&format!(
            "/authorize?{}",
            authorize_query(&c.id, &[("login_hint", Some("alice"))])
        )))
        .header("Host", "evil.example")
        .send()
        .await
        .expect("authorize");
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().expect("ascii");
    assert!(
        location.starts_with(&format!("{}/login?", app.origin)),
        "{location}"
    );
    assert!(location.contains("login_hint=alice"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_session_gets_a_code_at_once_and_prompt_login_asks_again() {
    let app = spawn_app(Backend::Postgres).await;
    let c = register(&app, "app", false, &[REDIRECT], &[]).await;
    signed_in(&app, "alice").await;
    let res = authorize(&app, &c.id, &[]).await;
    let (_, params) = location_params(&res);
    assert!(param(&params, "code").is_some_and(|c| c.len() >= 43));
    assert_eq!(param(&params, "state"), Some("st&ate=1 ü"));
    assert_eq!(param(&params, "iss"), Some(app.origin.as_str()));
    // prompt=none with a session: fine.
    let res = authorize(&app, &c.id, &[("prompt", Some("none"))]).await;
    assert!(param(&location_params(&res).1, "code").is_some());
    // prompt=login and max_age=0: back to the sign-in page.
    for forcing in [("prompt", Some("login")), ("max_age", Some("0"))] {
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let res = authorize(&app, &c.id, &[forcing]).await;
        let location = res.headers()["location"]
            .to_str()
            .expect("ascii")
            .to_string();
        assert!(
            location.starts_with(&format!("{}/login?", app.origin)),
            "{forcing:?}: {location}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_are_single_use_and_reuse_revokes_what_they_issued() {
    let app = spawn_app(Backend::Postgres).await;
    let c = register(&app, "app", false, &[REDIRECT], &[]).await;
    signed_in(&app, "alice").await;
    let code = code(&app, &c.id).await;
    let first = redeem(&app, &c, &code).await;
    let tokens = first.assert_ok().clone();
    assert_eq!(first.headers["cache-control"], "no-store");
    let access = tokens["access_token"].as_str().expect("access").to_string();
    let refresh = tokens["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_string();
    userinfo(&app, &access).await.assert_ok();

    assert_oauth_error(&redeem(&app, &c, &code).await, 400, "invalid_grant");
    assert_oauth_error(&userinfo(&app, &access).await, 401, "invalid_token");
    let r = token(
        &app,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
        Some((&c.id, c.secret.as_deref().expect("secret"))),
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_grant");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_redemptions_have_one_winner() {
    let app = spawn_app(Backend::Postgres).await;
    let c = register(&app, "app", true, &[REDIRECT], &[]).await;
    signed_in(&app, "alice").await;
    let code = code(&app, &c.id).await;
    let replies = futures_util::future::join_all((0..8).map(|_| redeem(&app, &c, &code))).await;
    let wins = replies.iter().filter(|r| r.status == 200).count();
    assert_eq!(
        wins,
        1,
        "{:?}",
        replies
            .iter()
            .map(|r| r.body.to_string())
            .collect::<Vec<_>>()
    );
    for r in replies.iter().filter(|r| r.status != 200) {
        assert_oauth_error(r, 400, "invalid_grant");
    }
    // The others' attempts count as reuse: what the winner got is revoked.
    let winner = replies.iter().find(|r| r.status == 200).expect("winner");
    let access = winner.body["access_token"].as_str().expect("access");
    assert_oauth_error(&userinfo(&app, access).await, 401, "invalid_token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_codes_and_codes_bound_to_their_client_and_redirect_uri() {
    let app = spawn_with(
        TestConfig::new(Backend::Postgres).with("PASSKEY_IDP__OIDC__CODE_TTL_SECS", "1"),
    )
    .await;
    let c = register(
        &app,
        "app",
        false,
        &[REDIRECT, "http://localhost:9/other"],
        &[],
    )
    .await;
    let other = register(&app, "other", false, &[REDIRECT], &[]).await;
    signed_in(&app, "alice").await;

    let expired = code(&app, &c.id).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_oauth_error(&redeem(&app, &c, &expired).await, 400, "invalid_grant");

    let stolen = code(&app, &c.id).await;
    assert_oauth_error(&redeem(&app, &other, &stolen).await, 400, "invalid_grant");

    let moved = code(&app, &c.id).await;
    let r = token(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &moved),
            ("redirect_uri", "http://localhost:9/other"),
            ("code_verifier", VERIFIER),
        ],
        Some((&c.id, c.secret.as_deref().expect("secret"))),
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_grant");

    // PKCE: a wrong verifier, and none at all.
    let pkce = code(&app, &c.id).await;
    let wrong = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK";
    let r = token(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &pkce),
            ("redirect_uri", REDIRECT),
            ("code_verifier", wrong),
        ],
        Some((&c.id, c.secret.as_deref().expect("secret"))),
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_grant");
    let pkce = code(&app, &c.id).await;
    let r = token(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &pkce),
            ("redirect_uri", REDIRECT),
        ],
        Some((&c.id, c.secret.as_deref().expect("secret"))),
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_authentication_failures_are_invalid_client() {
    let app = spawn_app(Backend::Embedded).await;
    let c = register(&app, "app", false, &[REDIRECT], &[]).await;
    let public = register(&app, "spa", true, &[REDIRECT], &[]).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", "x"),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let r = token(&app, &form, Some((&c.id, "wrong-secret"))).await;
    assert_oauth_error(&r, 401, "invalid_client");
    assert!(r.headers["www-authenticate"]
        .to_str()
        .expect("ascii")
        .starts_with("Basic"));
    for header in [
        "Basic !!!notbase64",
        "Basic Zm9v",
        "Basic ",
        "Bearer abc",
        "Basic OmZvbw==",
    ] {
        let res = app
            .client
            .post(app.url("/token"))
            .header("Authorization", header)
            .form(&form)
            .send()
            .await
            .expect("token");
        assert_oauth_error(&reply(res).await, 401, "invalid_client");
    }
    // Two methods at once; a confidential client without its secret; a secret for a public client.
    let mut both = form.to_vec();
    both.push(("client_secret", "x"));
    assert_oauth_error(
        &token(&app, &both, Some((&c.id, "x"))).await,
        401,
        "invalid_client",
    );
    let mut no_secret = form.to_vec();
    no_secret.push(("client_id", &c.id));
    assert_oauth_error(&token(&app, &no_secret, None).await, 401, "invalid_client");
    let mut public_with_secret = form.to_vec();
    public_with_secret.push(("client_id", &public.id));
    public_with_secret.push(("client_secret", "anything"));
    assert_oauth_error(
        &token(&app, &public_with_secret, None).await,
        401,
        "invalid_client",
    );
    // client_secret_post works like Basic.
    let mut post = form.to_vec();
    post.push(("client_id", &c.id));
    let secret = c.secret.clone().expect("secret");
    post.push(("client_secret", &secret));
    assert_oauth_error(&token(&app, &post, None).await, 400, "invalid_grant");
    // Not a form; unknown grant types.
    let res = app
        .client
        .post(app.url("/token"))
        .json(&json!({"grant_type": "x"}))
        .send()
        .await
        .expect("token");
    assert_eq!(res.status(), 400);
    let r = token(&app, &[("grant_type", "password")], Some((&c.id, &secret))).await;
    assert_oauth_error(&r, 400, "unsupported_grant_type");
}

pub async fn refresh(app: &TestApp, t: String, who: (String, String)) -> Reply {
    token(
        app,
        &[("grant_type", "refresh_token"), ("refresh_token", &t)],
        Some((&who.0, &who.1)),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_tokens_rotate_and_reuse_revokes_the_family() {
    let app = spawn_app(Backend::Postgres).await;
    let c = register(&app, "app", false, &[REDIRECT], &[]).await;
    let other = register(&app, "other", false, &[REDIRECT], &[]).await;
    signed_in(&app, "alice").await;
    let code = code(&app, &c.id).await;
    let tokens = redeem(&app, &c, &code).await.assert_ok().clone();
    let r1 = tokens["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_string();
    let secret = c.secret.clone().expect("secret");
    let me = (c.id.clone(), secret.clone());
    // Another client cannot use it.
    let r = refresh(
        &app,
        r1.clone(),
        (other.id.clone(), other.secret.clone().expect("secret")),
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_grant");
    let second = refresh(&app, r1.clone(), me.clone())
        .await
        .assert_ok()
        .clone();
    let r2 = second["refresh_token"]
        .as_str()
        .expect("rotated")
        .to_string();
    assert_ne!(r1, r2);
    assert!(second["id_token"].is_string());
    // The old one again: refused, and the whole family with it.
    assert_oauth_error(&refresh(&app, r1, me.clone()).await, 400, "invalid_grant");
    assert_oauth_error(&refresh(&app, r2, me.clone()).await, 400, "invalid_grant");

    // Without offline_access there is no refresh token.
    let res = authorize(&app, &c.id, &[("scope", Some("openid"))]).await;
    let code = param(&location_params(&res).1, "code")
        .expect("code")
        .to_string();
    let tokens = redeem(&app, &c, &code).await.assert_ok().clone();
    assert!(tokens.get("refresh_token").is_none());
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn userinfo_refuses_forged_tokens_and_id_tokens() {
    let app = spawn_app(Backend::Postgres).await;
    let c = register(&app, "app", false, &[REDIRECT], &[]).await;
    signed_in(&app, "alice").await;
    let code = code(&app, &c.id).await;
    let tokens = redeem(&app, &c, &code).await.assert_ok().clone();
    let access = tokens["access_token"].as_str().expect("access");
    let id_token = tokens["id_token"].as_str().expect("id");
    let info = userinfo(&app, access).await.assert_ok().clone();
    assert_eq!(info["preferred_username"], "alice");

    let parts: Vec<&str> = access.split('.').collect();
    let header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).expect("b64")).expect("json");
    let kid = header["kid"].as_str().expect("kid");
    // alg: none
    let none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "at+jwt", "kid": kid})),
        parts[1]
    );
    // HS256 keyed with something public (the classic key-confusion attack)
    let hs_header = b64(&json!({"alg": "HS256", "typ": "at+jwt", "kid": kid}));
    let signing_input = format!("{hs_header}.{}", parts[1]);
    let jwks = app.get("/.well-known/jwks.json").await.body;
    let key = openssl::pkey::PKey::hmac(jwks.to_string().as_bytes()).expect("hmac key");
    let mut signer =
        openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), &key).expect("signer");
    signer.update(signing_input.as_bytes()).expect("update");
    let hs256 = format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signer.sign_to_vec().expect("sign"))
    );
    // A well-formed ES256 token from a key we never published.
    let claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("b64")).expect("json");
    let group =
        openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).expect("group");
    let rogue =
        openssl::pkey::PKey::from_ec_key(openssl::ec::EcKey::generate(&group).expect("key"))
            .expect("pkey");
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some("rogue".into());
    header.typ = Some("at+jwt".into());
    let unknown_kid = jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_ec_der(&rogue.private_key_to_pkcs8().expect("pkcs8")),
    )
    .expect("sign");
    // Our kid, the rogue key's signature.
    header.kid = Some(kid.to_string());
    let wrong_sig = jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_ec_der(&rogue.private_key_to_pkcs8().expect("pkcs8")),
    )
    .expect("sign");
    for (what, forged) in [
        ("alg none", none.as_str()),
        ("HS256", hs256.as_str()),
        ("unknown kid", unknown_kid.as_str()),
        ("wrong signature", wrong_sig.as_str()),
        ("an ID token", id_token),
        ("garbage", "not.a.jwt"),
    ] {
        let r = userinfo(&app, forged).await;
        assert_oauth_error(&r, 401, "invalid_token");
        let challenge = r.headers["www-authenticate"].to_str().expect("ascii");
        assert!(
            challenge.starts_with("Bearer") && challenge.contains("error=\"invalid_token\""),
            "{what}: {challenge}"
        );
    }
    let none = reply(
        app.client
            .get(app.url("/userinfo"))
            .send()
            .await
            .expect("userinfo"),
    )
    .await;
    assert_eq!(none.status, 401);

    // A revoked access token is refused until it expires; revoking an unknown token is a 200.
    let secret = c.secret.clone().expect("secret");
    let revoke = |t: String| {
        let req = app
            .client
            .post(app.url("/revoke"))
            .basic_auth(&c.id, Some(&secret))
            .form(&[("token", t.as_str())]);
        async move { req.send().await.expect("revoke").status() }
    };
    assert_eq!(revoke(access.to_string()).await, 200);
    assert_oauth_error(&userinfo(&app, access).await, 401, "invalid_token");
    assert_eq!(revoke("unknown".to_string()).await, 200);
    let bad = app
        .client
        .post(app.url("/revoke"))
        .basic_auth(&c.id, Some("wrong"))
        .form(&[("token", "x")])
        .send()
        .await
        .expect("revoke");
    assert_oauth_error(&reply(bad).await, 401, "invalid_client");
}

/// A confidential client "app" that may return to `back` after logout, and alice signed in
/// through it: her ID token, the hint of RP-initiated logout.
pub async fn signed_in_at_app(app: &TestApp, back: &str) -> (Registered, String) {
    let c = register(app, "app", false, &[REDIRECT], &[back]).await;
    signed_in(app, "alice").await;
    let code = code(app, &c.id).await;
    let id_token = redeem(app, &c, &code).await.assert_ok()["id_token"]
        .as_str()
        .expect("id")
        .to_string();
    (c, id_token)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_ends_the_session_and_returns_only_to_registered_uris() {
    let app = spawn_app(Backend::Postgres).await;
    let back = "http://localhost:9/bye";
    let (c, id_token) = signed_in_at_app(&app, back).await;

    // A look-alike return address: signed out, but shown a page rather than sent there.
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("id_token_hint", &id_token)
        .append_pair("post_logout_redirect_uri", "http://localhost:9/bye/")
        .append_pair("state", "s1");
    let res = app
        .client
        .get(app.url(&format!("/logout?{}", q.finish())))
        .send()
        .await
        .expect("logout");
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("location").is_none());
    assert_eq!(
        app.get("/account/credentials").await.status,
        401,
        "the IdP session ended"
    );

    // The hint must come from the session it ends (its sid): a new sign-in, a new ID token.
    signed_in(&app, "alice2").await;
    let code = crate::oidc::code(&app, &c.id).await;
    let id_token = redeem(&app, &c, &code).await.assert_ok()["id_token"]
        .as_str()
        .expect("id")
        .to_string();
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("id_token_hint", &id_token)
        .append_pair("post_logout_redirect_uri", back)
        .append_pair("state", "s 2");
    let res = app
        .client
        .get(app.url(&format!("/logout?{}", q.finish())))
        .send()
        .await
        .expect("logout");
    let (base, params) = location_params(&res);
    assert_eq!(base, back);
    assert_eq!(param(&params, "state"), Some("s 2"));
    assert_eq!(app.get("/account/credentials").await.status, 401);

    // No hint: anyone could have sent the person here. Nothing ends and nobody is redirected;
    // the page asks first (no logout CSRF).
    signed_in(&app, "alice3").await;
    let res = app
        .client
        .get(app.url(&format!("/logout?post_logout_redirect_uri={back}")))
        .send()
        .await
        .expect("logout");
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("location").is_none());
    assert!(res.text().await.expect("page").contains("Sign out of"));
    assert_eq!(
        app.get("/account/credentials").await.status,
        200,
        "still signed in"
    );
    let forged = app
        .client
        .get(app.url("/logout?id_token_hint=not.a.token"))
        .send()
        .await
        .expect("logout");
    assert_eq!(forged.status(), 200);
    assert_eq!(
        app.get("/account/credentials").await.status,
        200,
        "a forged hint ends nothing"
    );
}

#[test]
fn clients_command_line() {
    let db = crate::helpers::create_pg_database();
    let keys = crate::helpers::scratch_dir("cli-keys").join("keys");
    let keys = keys.display().to_string();
    let env = [
        ("DATABASE_URL", db.as_str()),
        ("PASSKEY_IDP_KEYS_DIR", keys.as_str()),
    ];
    let run = |args: &[&str]| crate::helpers::run_cli(args, &env);

    let out = run(&[
        "clients",
        "add",
        "--client-id",
        "notes",
        "--redirect-uri",
        "https://notes.example.com/cb",
        "--name",
        "Notes",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let secret = stdout.lines().next().expect("the secret is printed once");
    assert!(secret.len() >= 43);
    assert_eq!(
        stdout.lines().count(),
        1,
        "the secret alone on stdout: {stdout}"
    );
    let out = run(&[
        "clients",
        "add",
        "--client-id",
        "spa",
        "--public",
        "--redirect-uri",
        "http://localhost:3000/cb",
        "--id-token-alg",
        "EdDSA",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stdout.is_empty(),
        "a public client has no secret to print"
    );

    let out = run(&["clients", "list", "--json"]);
    let list: Value = serde_json::from_slice(&out.stdout).expect("json");
    let ids: Vec<&str> = list
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|c| c["client_id"].as_str())
        .collect();
    assert_eq!(ids, ["notes", "spa"]);
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains(secret),
        "secrets are never listed"
    );
    // The EdDSA client got an active EdDSA key for its ID tokens.
    let keys_out = crate::helpers::run_cli(
        &["keys", "list", "--json"],
        &[("PASSKEY_IDP_KEYS_DIR", keys.as_str())],
    );
    let key_list: Value = serde_json::from_slice(&keys_out.stdout).expect("keys json");
    assert!(key_list
        .as_array()
        .expect("keys")
        .iter()
        .any(|k| k["alg"] == "EdDSA" && k["state"] == "active"));

    for (args, reason) in [
        (
            vec![
                "clients",
                "add",
                "--client-id",
                "notes",
                "--redirect-uri",
                "https://x.example/cb",
            ],
            "already exists",
        ),
        (
            vec![
                "clients",
                "add",
                "--client-id",
                "bad",
                "--redirect-uri",
                "http://evil.example/cb",
            ],
            "only https",
        ),
        (
            vec![
                "clients",
                "add",
                "--client-id",
                "bad",
                "--redirect-uri",
                "https://x.example/cb#f",
            ],
            "fragment",
        ),
        (
            vec![
                "clients",
                "add",
                "--client-id",
                "bad id",
                "--redirect-uri",
                "https://x.example/cb",
            ],
            "client id",
        ),
        (vec!["clients", "remove", "nobody"], "no registered client"),
    ] {
        let out = run(&args);
        assert!(!out.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = stderr.trim_end().lines().last().unwrap_or("");
        assert!(
            last.starts_with("passkey-idp: ") && last.contains(reason),
            "{args:?}: {stderr}"
        );
    }
    let out = run(&["clients", "remove", "spa"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["clients", "list"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("notes") && !text.contains("spa"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_declared_as_code() {
    let dir = crate::helpers::scratch_dir("clients-file");
    let file = dir.join("clients.toml");
    let secret = "a-long-random-secret-from-the-deployment-vault";
    let hash = {
        let digest = openssl::sha::sha256(secret.as_bytes());
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    std::fs::write(
        &file,
        format!(
            "[[client]]\nclient_id = \"declared\"\nname = \"Declared\"\nsecret_sha256 = \"{hash}\"\nredirect_uris = [\"{REDIRECT}\"]\nid_token_alg = \"ES256\"\n"
        ),
    )
    .expect("write");
    let app = spawn_with(TestConfig::new(Backend::Embedded).with(
        "PASSKEY_IDP__OIDC__CLIENTS_FILE",
        &file.display().to_string(),
    ))
    .await;
    signed_in(&app, "alice").await;
    let c = Registered {
        id: "declared".into(),
        secret: Some(secret.into()),
    };
    let code = code(&app, &c.id).await;
    let tokens = redeem(&app, &c, &code).await.assert_ok().clone();
    let header =
        jsonwebtoken::decode_header(tokens["id_token"].as_str().expect("id")).expect("header");
    assert_eq!(
        header.alg,
        jsonwebtoken::Algorithm::ES256,
        "the declared ID token algorithm"
    );

    // A broken file stops the start with a message naming the setting.
    std::fs::write(
        &file,
        "[[client]]\nclient_id = \"x\"\nredirect_uris = [\"http://evil.example/cb\"]\n",
    )
    .expect("write");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let config = TestConfig::new(Backend::Embedded).with(
        "PASSKEY_IDP__OIDC__CLIENTS_FILE",
        &file.display().to_string(),
    );
    let (settings, _, _) = crate::helpers::test_settings(&config, port);
    let err = passkey_idp::startup::Application::build_on(settings, listener)
        .await
        .err()
        .expect("refused");
    assert!(
        format!("{err:#}").starts_with("oidc.clients_file"),
        "{err:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn id_token_hints_from_a_retiring_key_are_still_accepted() {
    use passkey_idp::signing::{rotation, KeyAlg};
    let app = spawn_with(
        TestConfig::new(Backend::Embedded).with("PASSKEY_IDP__KEYS__RELOAD_INTERVAL_SECS", "1"),
    )
    .await;
    let back = "http://localhost:9/bye";
    let c = register(&app, "app", false, &[REDIRECT], &[back]).await;
    signed_in(&app, "alice").await;
    let code = code(&app, &c.id).await;
    let id_token = redeem(&app, &c, &code).await.assert_ok()["id_token"]
        .as_str()
        .expect("id")
        .to_string();
    let old_kid = jsonwebtoken::decode_header(&id_token)
        .expect("header")
        .kid
        .expect("kid");

    // Rotate the ID-token key: the old one is retiring (still published).
    let dir = app.app.keys.store().clone();
    let policy = app.app.settings.rotation_policy();
    let now = chrono::Utc::now();
    rotation::generate(&dir, KeyAlg::RS256, "test", now).expect("generate");
    rotation::rotate(&dir, KeyAlg::RS256, true, &policy, "test", now).expect("rotate");
    let logout_url = |hint: &str| {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("id_token_hint", hint)
            .append_pair("post_logout_redirect_uri", back)
            .append_pair("state", "s");
        app.url(&format!("/logout?{}", q.finish()))
    };
    tokio::time::sleep(std::time::Duration::from_millis(2200)).await;
    let res = app
        .client
        .get(logout_url(&id_token))
        .send()
        .await
        .expect("logout");
    let (base, _) = location_params(&res);
    assert_eq!(base, back, "a hint signed by a retiring key is accepted");

    // Once retired, the hint no longer names a client: signed out, but no redirect.
    rotation::retire(&dir, &old_kid, true, &policy, "test", chrono::Utc::now()).expect("retire");
    tokio::time::sleep(std::time::Duration::from_millis(2200)).await;
    let res = app
        .client
        .get(logout_url(&id_token))
        .send()
        .await
        .expect("logout");
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("location").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorize_and_userinfo_also_take_post() {
    let app = spawn_app(Backend::Embedded).await;
    let c = register(&app, "app", false, &[REDIRECT], &[]).await;
    signed_in(&app, "alice").await;
    let res = app
        .client
        .post(app.url("/authorize"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(authorize_query(&c.id, &[]))
        .send()
        .await
        .expect("authorize");
    let (base, params) = location_params(&res);
    assert_eq!(base, REDIRECT);
    let code = param(&params, "code").expect("code").to_string();
    let tokens = redeem(&app, &c, &code).await.assert_ok().clone();
    let access = tokens["access_token"].as_str().expect("access");
    let info = reply(
        app.client
            .post(app.url("/userinfo"))
            .form(&[("access_token", access)])
            .send()
            .await
            .expect("userinfo"),
    )
    .await;
    assert_eq!(info.assert_ok()["preferred_username"], "alice");
}

/// A waiting request sealed into the sign-in page's URL is checked against its client's
/// registration as it is when the person comes back: a redirect URI removed meanwhile gets the
/// error page (never a redirect there), a scope removed meanwhile an `invalid_scope`, and a code
/// issued before the change is refused at the token endpoint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_request_meets_the_clients_registration_as_it_is_now() {
    const OTHER: &str = "http://localhost:9/other";
    let app = spawn_app(Backend::Postgres).await;
    let clients = &app.app.oidc.clients;
    let add = |redirects: &[&str], scopes: Option<&'static str>| {
        let redirects: Vec<String> = redirects.iter().map(|r| r.to_string()).collect();
        async move {
            clients
                .add(passkey_idp::oidc::clients::NewClient {
                    client_id: "notes",
                    name: Some("Notes"),
                    redirect_uris: redirects,
                    post_logout_redirect_uris: vec![],
                    public: true,
                    scopes,
                    id_token_alg: None,
                    audiences: vec![],
                    allowed_groups: vec![],
                })
                .await
                .expect("add the client");
        }
    };
    add(&[REDIRECT, OTHER], None).await;
    // Not signed in: each request waits behind the sign-in page.
    let waiting = |overrides: &'static [(&'static str, Option<&'static str>)]| async {
        let res = authorize(&app, "notes", overrides).await;
        assert_eq!(res.status(), 303);
        let location = res.headers()["location"]
            .to_str()
            .expect("ascii")
            .to_string();
        let login = url::Url::parse(&location).expect("url");
        login
            .query_pairs()
            .find(|(k, _)| k == "next")
            .map(|(_, v)| v.into_owned())
            .expect("next")
    };
    let to_other = waiting(&[("redirect_uri", Some(OTHER))]).await;
    let with_offline = waiting(&[]).await;
    // The operator narrows the client: OTHER and offline_access are gone.
    clients.remove("notes").await.expect("remove");
    add(&[REDIRECT], Some("openid profile email")).await;
    signed_in(&app, "alice").await;
    let res = app
        .client
        .get(app.url(&to_other))
        .send()
        .await
        .expect("continue");
    assert_eq!(res.status(), 400, "the error page, never a redirect");
    assert!(res.headers().get("location").is_none());
    let page = res.text().await.expect("page");
    assert!(page.contains("not registered for this service"), "{page}");
    let res = app
        .client
        .get(app.url(&with_offline))
        .send()
        .await
        .expect("continue");
    let (base, params) = location_params(&res);
    assert_eq!(base, REDIRECT);
    assert_eq!(param(&params, "error"), Some("invalid_scope"), "{params:?}");
    assert!(param(&params, "code").is_none());
    // The login page no longer names a service for a request it will not answer.
    let login = app
        .client
        .get(app.url(&format!("/login?next={}", urlencode(&to_other))));
    let html = login
        .send()
        .await
        .expect("login")
        .text()
        .await
        .expect("html");
    assert!(!html.contains("continue to Notes"), "{html}");

    // A code issued, then the client narrowed before it is redeemed: refused.
    let c = Registered {
        id: "notes".into(),
        secret: None,
    };
    let res = authorize(&app, "notes", &[("scope", Some("openid profile"))]).await;
    let (_, params) = location_params(&res);
    let code = param(&params, "code").expect("code").to_string();
    clients.remove("notes").await.expect("remove");
    add(&[OTHER], Some("openid profile")).await;
    let refused = redeem(&app, &c, &code).await;
    assert_oauth_error(&refused, 400, "invalid_grant");
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// `users disable` refuses the person's access tokens at `/userinfo`; `users enable` lets
/// them sign in again, but what the disable ended stays ended: tokens issued before it stay
/// refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_disable_ended_stays_ended() {
    let app = spawn_app(Backend::Postgres).await;
    let c = register(&app, "app", false, &[REDIRECT], &[]).await;
    let mut device = SoftAuthenticator::synced();
    app.sign_up("dora", &mut device).await;
    let code = code(&app, &c.id).await;
    let tokens = redeem(&app, &c, &code).await.assert_ok().clone();
    let access = tokens["access_token"].as_str().expect("access").to_string();
    userinfo(&app, &access).await.assert_ok();
    let admin = passkey_idp::admin::Admin::new(app.app.db.clone(), &app.origin);
    admin.disable("dora").await.expect("disable");
    assert_oauth_error(&userinfo(&app, &access).await, 401, "invalid_token");
    admin.enable("dora").await.expect("enable");
    let after = userinfo(&app, &access).await;
    assert_oauth_error(&after, 401, "invalid_token");
    assert!(
        after.body["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("before the account was disabled")),
        "{}",
        after.body
    );
    // Enabled again, the person signs in and gets tokens that work (a second later: the
    // token's iat is in whole seconds).
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    app.sign_in(Some("dora"), &mut device).await.assert_ok();
    let code = crate::oidc::code(&app, &c.id).await;
    let fresh = redeem(&app, &c, &code).await.assert_ok().clone();
    userinfo(&app, fresh["access_token"].as_str().expect("access"))
        .await
        .assert_ok();
}

/// A removed client takes its tokens with it: its refresh tokens are revoked, and its access
/// tokens are refused at `/userinfo`, also after a client with the same id is added again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_client_takes_its_tokens_with_it() {
    let app = spawn_app(Backend::Postgres).await;
    let c = register(&app, "app", true, &[REDIRECT], &[]).await;
    signed_in(&app, "erin").await;
    let code = code(&app, &c.id).await;
    let tokens = redeem(&app, &c, &code).await.assert_ok().clone();
    let access = tokens["access_token"].as_str().expect("access").to_string();
    let refresh_token = tokens["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_string();
    app.app.oidc.clients.remove("app").await.expect("remove");
    assert_oauth_error(&userinfo(&app, &access).await, 401, "invalid_token");
    // Back, with the same id: nothing of the old registration works.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let again = register(&app, "app", true, &[REDIRECT], &[]).await;
    assert_oauth_error(&userinfo(&app, &access).await, 401, "invalid_token");
    let refreshed = token(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh_token),
            ("client_id", &again.id),
        ],
        None,
    )
    .await;
    assert_oauth_error(&refreshed, 400, "invalid_grant");
    // The new registration's own tokens work.
    let code = crate::oidc::code(&app, &again.id).await;
    let fresh = redeem(&app, &again, &code).await.assert_ok().clone();
    userinfo(&app, fresh["access_token"].as_str().expect("access"))
        .await
        .assert_ok();
}

/// What RFC 6749 §4.1.2.1 allows in `error_description`: printable ASCII without `"` and `\`.
fn rfc6749_safe(text: &str) -> bool {
    text.bytes()
        .all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\')
}

/// The hidden field `name` of a form_post page, unescaped.
fn posted_field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(
        html[start..end]
            .replace("&quot;", "\"")
            .replace("&#x27;", "'")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

/// `error_description` is a fixed sentence that never quotes the request: prompt and scope
/// values with quotes, backslashes and U+202E, repeated parameters and overlong values, in
/// query and form_post modes alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_descriptions_never_quote_the_request() {
    let app = spawn_app(Backend::Embedded).await;
    let c = register(&app, "app", true, &[REDIRECT], &[]).await;
    let hostile = format!("x\"\\\u{202e}{}", "evil".repeat(750));
    let long_nonce = "n".repeat(513);
    let long_state = "s".repeat(2049);
    let cases: Vec<(&str, String)> = vec![
        ("prompt", hostile.clone()),
        ("scope", format!("openid {hostile}")),
        ("nonce", long_nonce),
        ("state", long_state),
        ("max_age", hostile.clone()),
        ("response_mode", hostile.clone()),
    ];
    for form_post in [false, true] {
        for (name, value) in &cases {
            let mut overrides: Vec<(&str, Option<&str>)> = vec![(name, Some(value.as_str()))];
            if form_post && *name != "response_mode" {
                overrides.push(("response_mode", Some("form_post")));
            }
            let res = authorize(&app, &c.id, &overrides).await;
            let (error, description) = if form_post && *name != "response_mode" {
                assert_eq!(res.status(), 200, "{name}");
                let html = res.text().await.expect("page");
                (
                    posted_field(&html, "error").expect("error"),
                    posted_field(&html, "error_description").expect("description"),
                )
            } else {
                let (_, params) = location_params(&res);
                (
                    param(&params, "error").expect("error").to_string(),
                    param(&params, "error_description")
                        .expect("description")
                        .to_string(),
                )
            };
            assert!(error.starts_with("invalid_"), "{name}: {error}");
            assert!(rfc6749_safe(&description), "{name}: {description:?}");
            assert!(!description.contains("evil"), "{name}: {description}");
        }
    }
    // A parameter sent twice, named by the request: not echoed either.
    let query = format!(
        "{}&x%22%5C%E2%80%AEevil=1&x%22%5C%E2%80%AEevil=2",
        authorize_query(&c.id, &[])
    );
    let res = app
        .client
        .get(app.url(&format!("/authorize?{query}")))
        .send()
        .await
        .expect("authorize");
    let (_, params) = location_params(&res);
    let description = param(&params, "error_description").expect("description");
    assert!(
        rfc6749_safe(description) && !description.contains("evil"),
        "{description}"
    );
}

/// Control bytes in a form body are a malformed form, refused as `invalid_request` (never a
/// 500); percent-encoded ones are re-encoded into a valid address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_bytes_in_a_form_are_invalid_request() {
    let app = spawn_app(Backend::Embedded).await;
    let c = register(&app, "app", true, &[REDIRECT], &[]).await;
    for path in ["/authorize", "/logout", "/token", "/revoke"] {
        for control in ["\r\n", "\0", "\x1b", "\x7f", "\t"] {
            let body = format!("{}&state=a{control}b", authorize_query(&c.id, &[]));
            let reply = app
                .post_raw(path, "application/x-www-form-urlencoded", body.into_bytes())
                .await;
            assert_eq!(
                (reply.status.as_u16(), reply.error()),
                (400, "invalid_request"),
                "{path} {control:?}: {}",
                reply.body
            );
        }
    }
    // Percent-encoded control characters are data: the request goes on as a GET with a valid
    // Location.
    let body = format!("{}&login_hint=a%0D%0Ab%00", authorize_query(&c.id, &[]));
    let res = app
        .client
        .post(app.url("/authorize"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("authorize");
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().expect("a valid header");
    assert!(
        location.starts_with(&format!("{}/authorize?", app.origin)),
        "{location}"
    );
    assert!(location.contains("login_hint=a%0D%0Ab%00"), "{location}");
}
