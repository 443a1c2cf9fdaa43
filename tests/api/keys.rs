//! Signing-key rotation without downtime: the command line against running instances, the
//! rules it enforces, reloads, revocation, a broken key set, and scheduled rotation.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::authenticator::SoftAuthenticator;
use crate::helpers::{
    create_pg_database, new_client, redis_url, run_cli, scratch_dir, spawn_with,
    verify_independently, Backend, TestApp, TestConfig,
};
use crate::process::Server;

/// Short durations so a whole rotation fits in seconds: keys are published 2 s (max-age 1 s +
/// reload 1 s) before they sign, and kept 3 s (lifetime 2 s + skew 0 + reload 1 s) after.
const FAST: &[(&str, &str)] = &[
    ("PASSKEY_IDP__TOKENS__JWKS_MAX_AGE_SECS", "1"),
    ("PASSKEY_IDP__KEYS__RELOAD_INTERVAL_SECS", "1"),
    ("PASSKEY_IDP__TOKENS__ACCESS_TOKEN_LIFETIME_SECS", "2"),
    ("PASSKEY_IDP__OIDC__ID_TOKEN_LIFETIME_SECS", "2"),
    ("PASSKEY_IDP__TOKENS__CLOCK_SKEW_SECS", "0"),
];

fn fast(config: TestConfig) -> TestConfig {
    FAST.iter().fold(config, |c, (k, v)| c.with(k, v))
}

/// The command line, with the same key folder and rotation settings as the servers.
fn keys_cli(keys_dir: &Path, args: &[&str]) -> (bool, String, String) {
    let dir = keys_dir.display().to_string();
    let mut env: Vec<(&str, &str)> = FAST.to_vec();
    env.push(("PASSKEY_IDP_KEYS_DIR", &dir));
    let mut full = vec!["keys"];
    full.extend_from_slice(args);
    let out = run_cli(&full, &env);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[track_caller]
fn keys_ok(keys_dir: &Path, args: &[&str]) -> String {
    let (ok, stdout, stderr) = keys_cli(keys_dir, args);
    assert!(ok, "keys {args:?} failed: {stderr}");
    stdout
}

/// The last line of stderr of a refused command: one line, "passkey-idp: <reason>".
#[track_caller]
fn keys_refused(keys_dir: &Path, args: &[&str]) -> String {
    let (ok, _, stderr) = keys_cli(keys_dir, args);
    assert!(!ok, "keys {args:?} should have been refused");
    let last = stderr.trim_end().lines().last().unwrap_or("").to_string();
    assert!(last.starts_with("passkey-idp: "), "{stderr}");
    last
}

fn key_list(keys_dir: &Path) -> Vec<Value> {
    let out = keys_ok(keys_dir, &["list", "--json"]);
    serde_json::from_str::<Vec<Value>>(&out).expect("keys list --json")
}

/// The ES256 key in `state` (ES256 signs access tokens; an RS256 key for ID tokens is
/// managed the same way alongside).
fn kid_in(list: &[Value], state: &str) -> String {
    list.iter()
        .find(|k| k["state"] == state && k["alg"] == "ES256")
        .and_then(|k| k["kid"].as_str())
        .unwrap_or_else(|| panic!("no {state} ES256 key in {list:?}"))
        .to_string()
}

async fn jwks_of(app: &TestApp) -> Value {
    app.get("/.well-known/jwks.json").await.assert_ok().clone()
}

/// The ES256 kids in a JWKS.
fn kids(jwks: &Value) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter(|k| k["alg"] == "ES256")
        .filter_map(|k| k["kid"].as_str().map(str::to_string))
        .collect()
}

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token)
        .expect("header")
        .kid
        .expect("kid")
}

async fn token(app: &TestApp, device: &mut SoftAuthenticator) -> String {
    let body = app.sign_in(None, device).await.assert_ok().clone();
    body["access_token"].as_str().expect("token").to_string()
}

/// Polls `$cond` every 100 ms until it holds, for at most `$limit`; evaluates to how long it
/// took. (A macro rather than a closure, so the condition may borrow mutably.)
macro_rules! within {
    ($limit:expr, $what:expr, $cond:expr $(,)?) => {{
        let start = Instant::now();
        loop {
            let holds: bool = $cond;
            if holds {
                break start.elapsed();
            }
            assert!(
                start.elapsed() < $limit,
                "not within {:?}: {}",
                $limit,
                $what
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }};
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_keeps_tokens_valid_until_retired() {
    let app = spawn_with(fast(TestConfig::new(Backend::Embedded))).await;
    let keys = app.app.keys.dir().to_path_buf();
    let mut device = SoftAuthenticator::synced();
    app.sign_up("rita", &mut device).await;
    let old_token = token(&app, &mut device).await;
    let k1 = kid_of(&old_token);

    // generate: the next key is published before any token carries it.
    let out = keys_ok(&keys, &["generate", "--alg", "ES256"]);
    assert!(
        out.contains("state next") && out.contains("keys rotate"),
        "{out}"
    );
    let k2 = kid_in(&key_list(&keys), "next");
    within!(Duration::from_secs(3), "the next key is published", {
        kids(&jwks_of(&app).await).contains(&k2)
    });
    assert_eq!(
        kid_of(&token(&app, &mut device).await),
        k1,
        "a next key does not sign"
    );

    // rotate is refused until caches can have the new key, and says when it will be allowed.
    let refusal = keys_refused(&keys, &["rotate", "--alg", "ES256"]);
    assert!(
        refusal.contains("allowed from") && refusal.contains("--force"),
        "{refusal}"
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let old_token = token(&app, &mut device).await;
    assert_eq!(kid_of(&old_token), k1);
    let out = keys_ok(&keys, &["rotate", "--alg", "ES256"]);
    assert!(
        out.contains(&format!("{k2} now signs")) && out.contains("keys retire"),
        "{out}"
    );
    within!(
        Duration::from_millis(2500),
        "the running instance signs with the new key",
        { kid_of(&token(&app, &mut device).await) == k2 }
    );

    // The old token still verifies against the JWKS published after the rotation.
    let jwks = jwks_of(&app).await;
    assert!(kids(&jwks).contains(&k1) && kids(&jwks).contains(&k2));
    verify_independently(&old_token, &jwks).expect("a token signed before the rotation verifies");
    let list = key_list(&keys);
    assert_eq!(kid_in(&list, "retiring"), k1);
    assert_eq!(kid_in(&list, "active"), k2);

    // retire is refused while tokens signed by the old key may be valid.
    let refusal = keys_refused(&keys, &["retire", &k1]);
    assert!(refusal.contains("may still be valid until"), "{refusal}");
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let out = keys_ok(&keys, &["retire", &k1]);
    assert!(out.contains("retired"), "{out}");
    within!(
        Duration::from_millis(2500),
        "the retired key leaves the JWKS",
        { !kids(&jwks_of(&app).await).contains(&k1) }
    );
    let jwks = jwks_of(&app).await;
    let err = verify_independently(&old_token, &jwks).expect_err("no longer verifies");
    assert!(err.contains("not in the JWKS"), "{err}");
    verify_independently(&token(&app, &mut device).await, &jwks).expect("new tokens verify");
    assert!(
        !keys.join(format!("{k1}.pem")).exists(),
        "the retired private key is deleted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forced_rotation_and_retirement() {
    let app = spawn_with(fast(TestConfig::new(Backend::Embedded))).await;
    let keys = app.app.keys.dir().to_path_buf();
    let k1 = kid_in(&key_list(&keys), "active");
    keys_ok(&keys, &["generate"]);
    let refusal = keys_refused(&keys, &["generate"]);
    assert!(refusal.contains("already exists"), "{refusal}");
    let out = keys_ok(&keys, &["rotate", "--force"]);
    let k2 = kid_in(&key_list(&keys), "active");
    assert!(out.contains(&k2));
    let refusal = keys_refused(&keys, &["retire", &k2]);
    assert!(refusal.contains("only a retiring key"), "{refusal}");
    keys_ok(&keys, &["retire", &k1, "--force"]);
    let refusal = keys_refused(&keys, &["rotate", "--alg", "EdDSA"]);
    assert!(refusal.contains("keys generate --alg EdDSA"), "{refusal}");
    let refusal = keys_refused(&keys, &["revoke", "no-such-kid"]);
    assert!(refusal.contains("no key"), "{refusal}");
    let (ok, _, stderr) = keys_cli(&keys, &["generate", "--alg", "HS256"]);
    assert!(!ok && stderr.contains("HS256"), "{stderr}");
    within!(Duration::from_secs(3), "the instance follows", {
        kids(&jwks_of(&app).await) == vec![k2.clone()]
    });
    let text = keys_ok(&keys, &["list"]);
    assert!(
        text.starts_with("KID") && text.contains("retired") && text.contains("active"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_is_immediate() {
    let app = spawn_with(fast(TestConfig::new(Backend::Embedded))).await;
    let keys = app.app.keys.dir().to_path_buf();
    let mut device = SoftAuthenticator::synced();
    app.sign_up("rex", &mut device).await;
    let leaked = token(&app, &mut device).await;
    let k1 = kid_of(&leaked);
    verify_independently(&leaked, &jwks_of(&app).await).expect("valid before");
    let out = keys_ok(&keys, &["revoke", &k1]);
    assert!(
        out.contains("revoked") && out.contains("now signs"),
        "{out}"
    );
    within!(
        Duration::from_millis(2500),
        "the revoked key leaves the JWKS",
        { !kids(&jwks_of(&app).await).contains(&k1) }
    );
    let err = verify_independently(&leaked, &jwks_of(&app).await).expect_err("refused");
    assert!(err.contains("not in the JWKS"), "{err}");
    let fresh = token(&app, &mut device).await;
    assert_ne!(kid_of(&fresh), k1);
    verify_independently(&fresh, &jwks_of(&app).await).expect("the replacement signs");
    let refusal = keys_refused(&keys, &["revoke", &k1]);
    assert!(refusal.contains("already revoked"), "{refusal}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_key_set_never_replaces_the_good_one() {
    let app = spawn_with(fast(TestConfig::new(Backend::Embedded))).await;
    let keys = app.app.keys.dir().to_path_buf();
    let mut device = SoftAuthenticator::synced();
    app.sign_up("sam", &mut device).await;
    let good = jwks_of(&app).await;
    let manifest = std::fs::read(keys.join("manifest.json")).expect("manifest");
    let k1 = kid_in(&key_list(&keys), "active");
    let key_file = keys.join(format!("{k1}.pem"));
    let pem = std::fs::read(&key_file).expect("key");

    for (what, path, junk) in [
        (
            "manifest",
            keys.join("manifest.json"),
            b"{\"keys\": [".to_vec(),
        ),
        (
            "key file",
            key_file.clone(),
            b"-----BEGIN PRIVATE KEY-----\nbroken\n".to_vec(),
        ),
    ] {
        std::fs::write(&path, junk).expect("corrupt");
        within!(
            Duration::from_secs(3),
            "readiness reports the stale key set",
            {
                app.get("/readyz").await.body["checks"]["keys"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("stale"))
            }
        );
        let ready = app.get("/readyz").await;
        assert_eq!(
            ready.status, 200,
            "{what}: still ready, serving the last good set"
        );
        assert_eq!(
            jwks_of(&app).await,
            good,
            "{what}: the last good JWKS is served"
        );
        let t = token(&app, &mut device).await;
        verify_independently(&t, &good).expect("still signing with the good key");
        std::fs::write(keys.join("manifest.json"), &manifest).expect("restore");
        std::fs::write(&key_file, &pem).expect("restore");
        within!(
            Duration::from_secs(3),
            "the repaired set is current again",
            { app.get("/readyz").await.body["checks"]["keys"] == "ok" }
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_algorithm_verifies_with_an_independent_library() {
    for alg in ["ES256", "RS256", "EdDSA"] {
        let app = spawn_with(
            TestConfig::new(Backend::Embedded).with("PASSKEY_IDP__TOKENS__ACCESS_TOKEN_ALG", alg),
        )
        .await;
        let mut device = SoftAuthenticator::synced();
        app.sign_up("tess", &mut device).await;
        let t = token(&app, &mut device).await;
        let header = jsonwebtoken::decode_header(&t).expect("header");
        assert_eq!(format!("{:?}", header.alg), alg);
        let jwks = jwks_of(&app).await;
        let key = &jwks["keys"][0];
        assert_eq!(key["alg"], alg);
        assert_eq!(key["use"], "sig");
        for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            assert!(key.get(private).is_none(), "{alg}: {private} in the JWKS");
        }
        let claims = verify_independently(&t, &jwks).unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(claims["iss"], app.origin.as_str());
        // A token whose signature was altered does not verify.
        let mut parts: Vec<String> = t.split('.').map(str::to_string).collect();
        let sig = parts[2].clone();
        parts[2] = format!(
            "{}{}",
            if sig.starts_with('A') { "B" } else { "A" },
            &sig[1..]
        );
        assert!(
            verify_independently(&parts.join("."), &jwks).is_err(),
            "{alg}: tampered token verified"
        );
    }
}

/// Two server processes share one key folder (and one Postgres and Redis). Sign-ins go to
/// both without pause while the command line rotates the key; every token is verified at once
/// against the JWKS of the *other* instance. Not one may fail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_rotate_under_continuous_sign_ins() {
    let db = create_pg_database();
    let redis = redis_url();
    let prefix = format!("pkidp-test:{}:", uuid::Uuid::new_v4().simple());
    let keys = scratch_dir("shared-keys").join("keys");
    let keys_str = keys.display().to_string();
    let mut env: Vec<(&str, &str)> = FAST.to_vec();
    env.extend([
        ("DATABASE_URL", db.as_str()),
        ("REDIS_URL", redis.as_str()),
        ("PASSKEY_IDP__REDIS__KEY_PREFIX", prefix.as_str()),
        ("PASSKEY_IDP_KEYS_DIR", keys_str.as_str()),
        ("PASSKEY_IDP__LOG__LEVEL", "warn"),
        ("PASSKEY_IDP__RATE_LIMIT__CEREMONIES_PER_MINUTE", "0"),
    ]);
    let a = Arc::new(Server::start(&env));
    let b = Arc::new(Server::start(&env));
    let k1 = kid_in(&key_list(&keys), "active");

    // One account per instance's origin (the WebAuthn origin includes the port).
    let mut devices = Vec::new();
    for (i, server) in [&a, &b].iter().enumerate() {
        let client = new_client();
        let name = format!("user{i}");
        let options = server
            .post(
                &client,
                "/webauthn/register/begin",
                &json!({"username": name}),
            )
            .await;
        let mut device = SoftAuthenticator::synced();
        let response = device
            .create(options.assert_ok(), &server.origin, &Default::default())
            .expect("create");
        server
            .post(&client, "/webauthn/register/finish", &response)
            .await
            .assert_ok();
        devices.push(device);
    }

    let stop = Arc::new(AtomicBool::new(false));
    let verified = Arc::new(AtomicUsize::new(0));
    let signed_with: Arc<std::sync::Mutex<Vec<(usize, String, Instant)>>> = Arc::default();
    let mut loops = Vec::new();
    for (i, mut device) in devices.into_iter().enumerate() {
        let (me, other) = if i == 0 {
            (a.clone(), b.clone())
        } else {
            (b.clone(), a.clone())
        };
        let (stop, verified, signed_with) = (stop.clone(), verified.clone(), signed_with.clone());
        loops.push(tokio::spawn(async move {
            let client = new_client();
            let mut failures = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let options = me.post(&client, "/webauthn/login/begin", &json!({})).await;
                let assertion = device
                    .get(options.assert_ok(), &me.origin, &Default::default())
                    .expect("get");
                let login = me.post(&client, "/webauthn/login/finish", &assertion).await;
                let t = login.assert_ok()["access_token"]
                    .as_str()
                    .expect("token")
                    .to_string();
                let jwks = other.get("/.well-known/jwks.json").await.body;
                match verify_independently(&t, &jwks) {
                    Ok(_) => {
                        verified.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => failures.push(format!("instance {i}, kid {}: {e}", kid_of(&t))),
                }
                signed_with
                    .lock()
                    .expect("lock")
                    .push((i, kid_of(&t), Instant::now()));
            }
            failures
        }));
    }

    tokio::time::sleep(Duration::from_millis(500)).await;
    keys_ok(&keys, &["generate"]);
    let k2 = kid_in(&key_list(&keys), "next");
    tokio::time::sleep(Duration::from_millis(2200)).await;
    keys_ok(&keys, &["rotate"]);
    let rotated_at = Instant::now();
    tokio::time::sleep(Duration::from_millis(3300)).await;
    keys_ok(&keys, &["retire", &k1]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::Relaxed);

    let mut failures = Vec::new();
    for l in loops {
        failures.extend(l.await.expect("sign-in loop"));
    }
    assert!(
        failures.is_empty(),
        "{} verification failures: {failures:?}",
        failures.len()
    );
    let total = verified.load(Ordering::Relaxed);
    assert!(total > 40, "continuous sign-ins: only {total}");
    let log = signed_with.lock().expect("lock").clone();
    for i in 0..2 {
        assert!(
            log.iter().any(|(n, k, _)| *n == i && *k == k1),
            "instance {i} signed with the old key"
        );
        let switched = log
            .iter()
            .find(|(n, k, _)| *n == i && *k == k2)
            .map(|(_, _, at)| at.saturating_duration_since(rotated_at))
            .unwrap_or_else(|| panic!("instance {i} never signed with the new key"));
        assert!(
            switched <= Duration::from_millis(2000),
            "instance {i} switched after {switched:?}"
        );
        assert!(
            !log.iter().any(|(n, k, at)| *n == i
                && *k == k1
                && *at > rotated_at + Duration::from_millis(2000)),
            "instance {i} kept signing with the old key"
        );
    }
}

/// Scheduled rotation with short durations: the full cycle happens once, and each transition
/// is performed by exactly one of the two instances.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_rotation_runs_the_full_cycle_once() {
    let db = create_pg_database();
    let keys = scratch_dir("sched-keys").join("keys");
    let prefix = format!("pkidp-test:{}:", uuid::Uuid::new_v4().simple());
    let config = || TestConfig {
        database_url: Some(db.clone()),
        keys_dir: Some(keys.clone()),
        ..fast(TestConfig::new(Backend::Postgres))
            .with("PASSKEY_IDP__KEYS__ROTATE_EVERY", "5s")
            .with("PASSKEY_IDP__REDIS__KEY_PREFIX", &prefix)
    };
    let a = spawn_with(config()).await;
    let b = spawn_with(config()).await;
    let k1 = kid_in(&key_list(&keys), "active");

    within!(
        Duration::from_secs(20),
        "the first key is retired by the schedule",
        {
            key_list(&keys)
                .iter()
                .any(|k| k["kid"] == k1.as_str() && k["state"] == "retired")
        }
    );
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(keys.join("manifest.json")).expect("manifest"))
            .expect("json");
    let entries = manifest["keys"].as_array().expect("keys");
    let history = |kid: &str| -> Vec<(String, String)> {
        entries.iter().find(|k| k["kid"] == kid).expect("entry")["transitions"]
            .as_array()
            .expect("transitions")
            .iter()
            .map(|t| {
                (
                    t["state"].as_str().unwrap_or("").to_string(),
                    t["by"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    };
    let first: Vec<String> = history(&k1).into_iter().map(|(s, _)| s).collect();
    assert_eq!(
        first,
        ["active", "retiring", "retired"],
        "each transition once"
    );
    let k2 = entries
        .iter()
        .find(|k| k["alg"] == "ES256" && k["transitions"][0]["state"] == "next")
        .and_then(|k| k["kid"].as_str())
        .expect("a scheduled next key")
        .to_string();
    let second = history(&k2);
    assert_eq!(second[0].0, "next");
    assert_eq!(second[1].0, "active");
    let instances = [a.app.instance_id.clone(), b.app.instance_id.clone()];
    for (state, by) in history(&k1).into_iter().skip(1).chain(second) {
        assert!(
            instances.contains(&by),
            "{state} by {by}: one of the instances acted"
        );
    }
    // Never two next keys of one algorithm: no transition was performed twice.
    let es256 = |k: &&Value| k["alg"] == "ES256";
    let next_count = entries
        .iter()
        .filter(es256)
        .filter(|k| k["state"] == "next")
        .count();
    assert!(next_count <= 1, "{manifest}");
    let generated: Vec<&Value> = entries
        .iter()
        .filter(es256)
        .filter(|k| k["transitions"][0]["state"] == "next")
        .collect();
    assert!(generated.len() <= 2, "one key per cycle: {manifest}");
    // Both instances follow: same JWKS, without k1.
    within!(
        Duration::from_secs(3),
        "both instances serve the same key set",
        {
            let (ja, jb) = (jwks_of(&a).await, jwks_of(&b).await);
            ja == jb && !kids(&ja).contains(&k1)
        }
    );
}
