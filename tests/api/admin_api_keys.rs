//! The admin API's key set (`/api/admin/v1/keys…`) on the folder store and on the database
//! store (where the server uses its own KEK; the caller never has it): generate, rotate,
//! retire and revoke show up in `/.well-known/jwks.json` as the command line's do, with the same
//! refusals, and each key's change is a stored event with the actor, the kid and its states.

use reqwest::Method;
use serde_json::{json, Value};

use crate::admin_api_clients::{api_token, call, events_of};
use crate::helpers::{scratch_dir, spawn_with, Backend, TestApp, TestConfig};

/// Keys published 2 s before they sign and kept 3 s after, as in `keys.rs`.
fn fast(config: TestConfig) -> TestConfig {
    [
        ("PASSKEY_IDP__TOKENS__JWKS_MAX_AGE_SECS", "1"),
        ("PASSKEY_IDP__KEYS__RELOAD_INTERVAL_SECS", "1"),
        ("PASSKEY_IDP__TOKENS__ACCESS_TOKEN_LIFETIME_SECS", "2"),
        ("PASSKEY_IDP__OIDC__ID_TOKEN_LIFETIME_SECS", "2"),
        ("PASSKEY_IDP__TOKENS__CLOCK_SKEW_SECS", "0"),
    ]
    .iter()
    .fold(config, |c, (k, v)| c.with(k, v))
}

async fn published(app: &TestApp) -> Vec<String> {
    app.get("/.well-known/jwks.json").await.assert_ok()["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter(|k| k["alg"] == "ES256")
        .filter_map(|k| k["kid"].as_str().map(str::to_string))
        .collect()
}

fn es256_in(set: &Value, state: &str) -> String {
    set["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["state"] == state && k["alg"] == "ES256")
        .and_then(|k| k["kid"].as_str())
        .unwrap_or_else(|| panic!("no {state} ES256 key in {set}"))
        .to_string()
}

/// The stored change of `kid` to `to`.
async fn change_of(app: &TestApp, kid: &str, to: &str) -> Value {
    let all = events_of(app, "key_changed").await;
    all.into_iter()
        .find(|e| e["object"] == kid && e["detail"]["to"] == to)
        .unwrap_or_else(|| panic!("no key_changed of {kid} to {to}"))
}

async fn the_key_set_through_the_api(app: TestApp) {
    let t = api_token(&app, "ops", "keys:*").await;
    let app = &app;
    let set = call(app, Method::GET, "/keys", &t, None).await;
    let k1 = es256_in(set.assert_ok(), "active");
    assert!(
        !set.body.to_string().contains("\"d\""),
        "no private material"
    );
    let set = call(app, Method::POST, "/keys/generate", &t, None).await;
    let k2 = es256_in(set.assert_ok(), "next");
    assert!(
        published(app).await.contains(&k2),
        "this instance serves the new key at once"
    );
    call(app, Method::POST, "/keys/generate", &t, None)
        .await
        .assert_error(409, "conflict");
    let early = call(
        app,
        Method::POST,
        "/keys/rotate",
        &t,
        Some(json!({"alg": "ES256"})),
    )
    .await;
    early.assert_error(409, "conflict");
    assert!(
        early.body["error_description"]
            .as_str()
            .unwrap_or("")
            .contains("--force"),
        "{}",
        early.body
    );
    let set = call(
        app,
        Method::POST,
        "/keys/rotate",
        &t,
        Some(json!({"force": true})),
    )
    .await;
    assert_eq!(es256_in(set.assert_ok(), "active"), k2);
    assert_eq!(es256_in(&set.body, "retiring"), k1);
    call(app, Method::POST, &format!("/keys/{k2}/retire"), &t, None)
        .await
        .assert_error(409, "conflict");
    call(app, Method::POST, &format!("/keys/{k1}/retire"), &t, None)
        .await
        .assert_error(409, "conflict");
    call(
        app,
        Method::POST,
        &format!("/keys/{k1}/retire"),
        &t,
        Some(json!({"force": true})),
    )
    .await
    .assert_ok();
    assert_eq!(published(app).await, vec![k2.clone()]);
    call(app, Method::POST, "/keys/no-such-kid/revoke", &t, None)
        .await
        .assert_error(404, "not_found");
    call(app, Method::POST, "/keys/no-such-kid/retire", &t, None)
        .await
        .assert_error(404, "not_found");
    call(
        app,
        Method::POST,
        "/keys/rotate",
        &t,
        Some(json!({"alg": "HS256"})),
    )
    .await
    .assert_error(400, "invalid_request");
    call(
        app,
        Method::POST,
        "/keys/rotate",
        &t,
        Some(json!({"alg": "EdDSA"})),
    )
    .await
    .assert_error(409, "conflict");
    let set = call(app, Method::POST, &format!("/keys/{k2}/revoke"), &t, None).await;
    let k3 = es256_in(set.assert_ok(), "active");
    assert_ne!(k3, k2);
    assert_eq!(published(app).await, vec![k3.clone()]);
    call(app, Method::POST, &format!("/keys/{k2}/revoke"), &t, None)
        .await
        .assert_error(409, "conflict");

    let generated = change_of(app, &k2, "next").await;
    assert_eq!(generated["actor"], "token:ops");
    assert_eq!(generated["detail"]["action"], "generated");
    assert_eq!(
        change_of(app, &k2, "active").await["detail"]["from"],
        "next"
    );
    assert_eq!(
        change_of(app, &k1, "retiring").await["detail"]["from"],
        "active"
    );
    assert_eq!(
        change_of(app, &k1, "retired").await["detail"]["from"],
        "retiring"
    );
    assert_eq!(
        change_of(app, &k2, "revoked").await["detail"]["from"],
        "active"
    );
    assert_eq!(change_of(app, &k3, "active").await["actor"], "token:ops");
    // Reading needs keys:read, changing keys:write.
    let reader = api_token(app, "reader", "keys:read").await;
    call(app, Method::GET, "/keys", &reader, None)
        .await
        .assert_ok();
    call(app, Method::POST, "/keys/rotate", &reader, None)
        .await
        .assert_error(403, "insufficient_scope");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_the_key_folder() {
    the_key_set_through_the_api(spawn_with(fast(TestConfig::new(Backend::Embedded))).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_the_database_store_with_the_servers_kek() {
    let kek_file = scratch_dir("kek").join("kek");
    std::fs::write(&kek_file, new_kek()).expect("kek file");
    let app = spawn_with(
        fast(TestConfig::new(Backend::Postgres))
            .with("PASSKEY_IDP__KEYS__STORE", "database")
            .with(
                "PASSKEY_IDP__KEYS__KEK_FILE",
                &kek_file.display().to_string(),
            ),
    )
    .await;
    the_key_set_through_the_api(app).await;
}

/// A key-encryption key: 32 random bytes, base64.
fn new_kek() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    openssl::rand::rand_bytes(&mut bytes).expect("random bytes");
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
