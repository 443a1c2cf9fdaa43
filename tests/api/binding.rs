//! Clients without cookies bind a ceremony with the `ceremony` value that `begin` returns.

use serde_json::{json, Value};

use crate::authenticator::{SoftAuthenticator, Tamper};
use crate::helpers::{reply, spawn_app, spawn_with, Backend, Reply, TestApp, TestConfig};
use crate::on_both_backends;

/// A client with no cookie jar: only the body binds its ceremonies.
fn cookieless() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

async fn post(client: &reqwest::Client, app: &TestApp, path: &str, body: &Value) -> Reply {
    reply(
        client
            .post(app.url(path))
            .json(body)
            .send()
            .await
            .expect("request"),
    )
    .await
}

/// A whole sign-in without cookies, the assertion made for `origin`.
async fn cookieless_sign_in(app: &TestApp, device: &mut SoftAuthenticator, origin: &str) -> Reply {
    let client = cookieless();
    let options = post(&client, app, "/webauthn/login/begin", &json!({}))
        .await
        .assert_ok()
        .clone();
    let ceremony = options["ceremony"].as_str().expect("ceremony").to_string();
    let assertion = device
        .get(&options, origin, &Tamper::default())
        .expect("get");
    post(
        &client,
        app,
        "/webauthn/login/finish",
        &with_ceremony(assertion, &ceremony),
    )
    .await
}

/// SPKI (base64url) of a fresh P-256 key that no authenticator attested.
fn unrelated_spki() -> Value {
    use base64::Engine;
    let key = openssl::ec::EcKey::generate(
        &openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).expect("group"),
    )
    .expect("key");
    let der = openssl::pkey::PKey::from_ec_key(key)
        .expect("pkey")
        .public_key_to_der()
        .expect("der");
    json!(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(der))
}

fn with_ceremony(mut response: Value, ceremony: &str) -> Value {
    response["ceremony"] = json!(ceremony);
    response
}

async fn a_cookieless_client_completes_both_ceremonies(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = cookieless();
    let mut device = SoftAuthenticator::synced();
    let begin = post(
        &client,
        &app,
        "/webauthn/register/begin",
        &json!({"username": "wasm"}),
    )
    .await;
    let options = begin.assert_ok().clone();
    let ceremony = options["ceremony"].as_str().expect("ceremony").to_string();
    assert!(ceremony.len() >= 22, "at least 128 bits");
    assert_ne!(
        json!(ceremony),
        options["publicKey"]["challenge"],
        "the binding is not the challenge"
    );
    let created = device
        .create(&options, &app.origin, &Tamper::default())
        .expect("create");
    post(
        &client,
        &app,
        "/webauthn/register/finish",
        &with_ceremony(created.clone(), &ceremony),
    )
    .await
    .assert_ok();
    // Replayed: the ceremony was taken.
    post(
        &client,
        &app,
        "/webauthn/register/finish",
        &with_ceremony(created, &ceremony),
    )
    .await
    .assert_error(400, "challenge_expired");

    let begin = post(&client, &app, "/webauthn/login/begin", &json!({})).await;
    let options = begin.assert_ok().clone();
    let ceremony = options["ceremony"].as_str().expect("ceremony").to_string();
    let assertion = device
        .get(&options, &app.origin, &Tamper::default())
        .expect("get");
    let done = post(
        &client,
        &app,
        "/webauthn/login/finish",
        &with_ceremony(assertion, &ceremony),
    )
    .await;
    assert!(done.assert_ok()["access_token"].is_string());

    // A made-up ceremony id is no ceremony.
    let options = post(&client, &app, "/webauthn/login/begin", &json!({}))
        .await
        .assert_ok()
        .clone();
    let assertion = device
        .get(&options, &app.origin, &Tamper::default())
        .expect("get");
    post(
        &client,
        &app,
        "/webauthn/login/finish",
        &with_ceremony(assertion, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
    )
    .await
    .assert_error(401, "challenge_expired");
}
on_both_backends!(a_cookieless_client_completes_both_ceremonies);

/// Cookie and field naming two different ceremonies: `challenge_mismatch`, and neither is used
/// up (the cookie's ceremony still finishes).
async fn cookie_and_field_must_agree(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut device = SoftAuthenticator::synced();
    app.sign_up("alice", &mut device).await;
    let other = cookieless();
    let foreign = post(&other, &app, "/webauthn/login/begin", &json!({})).await;
    let foreign_id = foreign.assert_ok()["ceremony"]
        .as_str()
        .expect("id")
        .to_string();
    let options = app.login_begin(json!({})).await.assert_ok().clone();
    let assertion = device
        .get(&options, &app.origin, &Tamper::default())
        .expect("get");
    app.login_finish(&with_ceremony(assertion.clone(), &foreign_id))
        .await
        .assert_error(401, "challenge_mismatch");
    app.login_finish(&assertion).await.assert_ok();
}
on_both_backends!(cookie_and_field_must_agree);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authenticator_attachment_is_a_setting() {
    let any = spawn_app(Backend::Embedded).await;
    let options = any.register_begin(json!({"username": "anyone"})).await;
    assert!(
        options.assert_ok()["publicKey"]["authenticatorSelection"]
            .get("authenticatorAttachment")
            .is_none(),
        "default: any authenticator"
    );
    let platform = spawn_with(TestConfig::new(Backend::Embedded).with(
        "PASSKEY_IDP__WEBAUTHN__AUTHENTICATOR_ATTACHMENT",
        "platform",
    ))
    .await;
    let options = platform.register_begin(json!({"username": "device"})).await;
    assert_eq!(
        options.assert_ok()["publicKey"]["authenticatorSelection"]["authenticatorAttachment"],
        "platform"
    );
}

const APP: &str = "https://app.example.com";
const ANDROID: &str = "android:apk-key-hash:Xh1ly9HVb0iYeC0h2lWW3MYmVu6S5IzQ6yJ4o3cAtS4";

async fn with_other_origins() -> TestApp {
    spawn_with(TestConfig::new(Backend::Postgres).with(
        "PASSKEY_IDP__WEBAUTHN__ALLOWED_ORIGINS",
        &format!("{APP}/, {ANDROID}"),
    ))
    .await
}

/// `POST` from `origin` (as a browser sends it for a page on another site), no cookies.
async fn post_from(app: &TestApp, origin: &str, path: &str, body: &Value) -> reqwest::Response {
    cookieless()
        .post(app.url(path))
        .header("Origin", origin)
        .header("Sec-Fetch-Site", "cross-site")
        .json(body)
        .send()
        .await
        .expect("request")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apps_on_allowed_origins_run_ceremonies_across_origins() {
    let app = with_other_origins().await;
    let related = app.get("/.well-known/webauthn").await;
    assert_eq!(related.assert_ok()["origins"], json!([app.origin, APP]));

    let preflight = cookieless()
        .request(
            reqwest::Method::OPTIONS,
            app.url("/webauthn/register/begin"),
        )
        .header("Origin", APP)
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type")
        .send()
        .await
        .expect("preflight");
    assert_eq!(preflight.status(), 204);
    let h = preflight.headers();
    assert_eq!(h["access-control-allow-origin"], APP);
    assert_eq!(h["access-control-allow-methods"], "POST");
    assert_eq!(h["vary"], "Origin");
    assert!(h.get("access-control-allow-credentials").is_none());

    // A web app on the allowed origin signs up, bound by the ceremony field.
    let mut device = SoftAuthenticator::synced();
    let begin = post_from(
        &app,
        APP,
        "/webauthn/register/begin",
        &json!({"username": "spa"}),
    )
    .await;
    assert_eq!(begin.headers()["access-control-allow-origin"], APP);
    let options: Value = begin.json().await.expect("options");
    let ceremony = options["ceremony"].as_str().expect("ceremony").to_string();
    let created = device
        .create(&options, APP, &Tamper::default())
        .expect("create");
    let finish = post_from(
        &app,
        APP,
        "/webauthn/register/finish",
        &with_ceremony(created, &ceremony),
    )
    .await;
    assert_eq!(finish.status(), 200);

    // A native app (no Origin header) signs in with its app origin in clientDataJSON.
    cookieless_sign_in(&app, &mut device, ANDROID)
        .await
        .assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unlisted_origins_get_neither_cors_nor_ceremonies() {
    let app = with_other_origins().await;
    let evil = "https://evil.example";
    let preflight = cookieless()
        .request(reqwest::Method::OPTIONS, app.url("/webauthn/login/begin"))
        .header("Origin", evil)
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .expect("preflight");
    assert!(preflight
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    let begin = post_from(&app, evil, "/webauthn/login/begin", &json!({})).await;
    assert_eq!(
        begin.status(),
        403,
        "cross-site POSTs from others stay refused"
    );
    assert!(begin.headers().get("access-control-allow-origin").is_none());
    // Account endpoints are not opened to allowed origins either.
    let account = post_from(&app, APP, "/account/recovery-codes", &json!({})).await;
    assert_eq!(account.status(), 403);

    let mut device = SoftAuthenticator::synced();
    app.sign_up("alice", &mut device).await;
    for origin in [evil, "android:apk-key-hash:not-the-listed-one"] {
        cookieless_sign_in(&app, &mut device, origin)
            .await
            .assert_error(401, "origin_mismatch");
    }
}

/// A library-shaped registration (the passwordless-id 2.x `user` object, padded base64url)
/// whose `publicKey` is not the attested key is refused; with the attested key it registers,
/// and the library's own user handle is what a usernameless sign-in must return.
async fn library_payloads_are_checked_like_any_other(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = cookieless();
    let pad = |v: &Value| -> Value {
        let s = v.as_str().expect("string");
        json!(format!("{s}{}", "=".repeat((4 - s.len() % 4) % 4)))
    };
    for (name, wrong_key) in [("liba", true), ("libb", false)] {
        let mut device = SoftAuthenticator::synced();
        let options = post(
            &client,
            &app,
            "/webauthn/register/begin",
            &json!({"username": name}),
        )
        .await
        .assert_ok()
        .clone();
        let mut created = device
            .create(&options, &app.origin, &Tamper::default())
            .expect("create");
        created["user"] = json!({"id": format!("handle-of-{name}"), "name": name});
        for field in ["clientDataJSON", "attestationObject", "authenticatorData"] {
            created["response"][field] = pad(&created["response"][field]);
        }
        created["rawId"] = pad(&created["rawId"]);
        if wrong_key {
            created["response"]["publicKey"] = unrelated_spki();
        }
        let ceremony = options["ceremony"].as_str().expect("ceremony");
        let finish = post(
            &client,
            &app,
            "/webauthn/register/finish",
            &with_ceremony(created, ceremony),
        )
        .await;
        if wrong_key {
            finish.assert_error(400, "invalid_request");
            continue;
        }
        finish.assert_ok();
        // The soft authenticator returns the handle it was given in the options, not the
        // library's: a usernameless sign-in with it is refused, as for any wrong handle.
        let options = post(&client, &app, "/webauthn/login/begin", &json!({}))
            .await
            .assert_ok()
            .clone();
        let ceremony = options["ceremony"].as_str().expect("ceremony").to_string();
        let assertion = device
            .get(&options, &app.origin, &Tamper::default())
            .expect("get");
        post(
            &client,
            &app,
            "/webauthn/login/finish",
            &with_ceremony(assertion, &ceremony),
        )
        .await
        .assert_error(401, "unknown_credential");
    }
}
on_both_backends!(library_payloads_are_checked_like_any_other);

/// A 1.x-shaped registration (`{username, credential: {id, publicKey, algorithm},
/// authenticatorData, clientData}`) is turned into an attestation object and verified like
/// any other; its `publicKey` must be the key in `authenticatorData`, its username the
/// ceremony's.
async fn version_1_payloads_are_checked_like_any_other(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = cookieless();
    for (name, case) in [
        ("v1a", "wrong key"),
        ("v1b", "wrong username"),
        ("v1c", "ok"),
    ] {
        let mut device = SoftAuthenticator::synced();
        let options = post(
            &client,
            &app,
            "/webauthn/register/begin",
            &json!({"username": name}),
        )
        .await
        .assert_ok()
        .clone();
        let created = device
            .create(&options, &app.origin, &Tamper::default())
            .expect("create");
        let mut public_key = created["response"]["publicKey"].clone();
        if case == "wrong key" {
            public_key = unrelated_spki();
        }
        let payload = json!({
            "username": if case == "wrong username" { "someone-else" } else { name },
            "credential": {"id": created["id"], "publicKey": public_key, "algorithm": "ES256"},
            "authenticatorData": created["response"]["authenticatorData"],
            "clientData": created["response"]["clientDataJSON"],
            "ceremony": options["ceremony"],
        });
        let finish = post(&client, &app, "/webauthn/register/finish", &payload).await;
        match case {
            "ok" => {
                let name = &finish.assert_ok()["credential"]["authenticator"]["name"];
                assert!(
                    name.is_string(),
                    "the answer names the authenticator: {}",
                    finish.body
                );
            }
            _ => finish.assert_error(400, "invalid_request"),
        }
    }
}
on_both_backends!(version_1_payloads_are_checked_like_any_other);

/// Adding a passkey checks a library payload's username as sign-up does: a passwordless-id 1.x
/// or 2.x payload that names another account is refused, one naming the signed-in account is
/// taken.
async fn adding_a_passkey_checks_the_payloads_username(backend: Backend) {
    let app = spawn_app(backend).await;
    app.sign_up("owner", &mut SoftAuthenticator::synced()).await;
    crate::admin::other_browser(&app)
        .sign_up("victim", &mut SoftAuthenticator::synced())
        .await;
    for (shape, name, expected) in [
        ("1.x", "victim", 400),
        ("2.x", "victim", 400),
        ("2.x", "owner", 200),
    ] {
        let options = app
            .post_json("/account/credentials/begin", &json!({}))
            .await
            .assert_ok()
            .clone();
        let mut device = SoftAuthenticator::new();
        let created = device
            .create(&options, &app.origin, &Tamper::default())
            .expect("create");
        let payload = match shape {
            "1.x" => json!({
                "username": name,
                "credential": {"id": created["id"], "publicKey": created["response"]["publicKey"], "algorithm": "ES256"},
                "authenticatorData": created["response"]["authenticatorData"],
                "clientData": created["response"]["clientDataJSON"],
            }),
            _ => {
                let mut v = created.clone();
                v["user"] = json!({"id": "library-handle", "name": name});
                v
            }
        };
        let finish = app.post_json("/account/credentials/finish", &payload).await;
        if expected == 200 {
            finish.assert_ok();
        } else {
            finish.assert_error(400, "invalid_request");
        }
    }
}
on_both_backends!(adding_a_passkey_checks_the_payloads_username);
