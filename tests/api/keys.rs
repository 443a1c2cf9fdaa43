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
    keys_cli_with(&[("PASSKEY_IDP_KEYS_DIR", &dir)], args)
}

/// The command line with the rotation settings of the servers and `store` (the store's
/// settings: a folder, or a database and its key-encryption key).
fn keys_cli_with(store: &[(&str, &str)], args: &[&str]) -> (bool, String, String) {
    let mut env: Vec<(&str, &str)> = FAST.to_vec();
    env.extend_from_slice(store);
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

/// The key folder of an app on the default key store.
fn folder(app: &TestApp) -> std::path::PathBuf {
    let store = app.app.keys.store();
    store.dir().expect("a key folder").to_path_buf()
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
    let keys = folder(&app);
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
    let keys = folder(&app);
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
    let keys = folder(&app);
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
    let keys = folder(&app);
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

/// The database store the same: a changed set that does not load (a key whose stored public
/// part no longer matches its private part) is reported, naming the database, and the instance
/// stays ready with the last good set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_key_set_in_the_database_never_replaces_the_good_one() {
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
    let mut device = SoftAuthenticator::synced();
    app.sign_up("sam", &mut device).await;
    let good = jwks_of(&app).await;
    assert_eq!(app.get("/readyz").await.body["checks"]["keys"], "ok");
    app.query(|c| {
        use diesel::RunQueryDsl;
        let passkey_idp::db::AnyConnection::Postgresql(pg) = c else {
            unreachable!("Postgres")
        };
        diesel::sql_query(
            "UPDATE signing_keys SET public_jwk = '{\"kty\":\"EC\"}' \
             WHERE state = 'active' AND alg = 'ES256'",
        )
        .execute(pg)?;
        diesel::sql_query("UPDATE signing_key_set SET version = version + 1").execute(pg)?;
        Ok(())
    })
    .await;
    within!(
        Duration::from_secs(3),
        "readiness reports the stale key set",
        {
            app.get("/readyz").await.body["checks"]["keys"]
                .as_str()
                .is_some_and(|s| s.starts_with("stale") && s.contains("the database"))
        }
    );
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, 200, "still ready: {}", ready.body);
    assert_eq!(jwks_of(&app).await, good, "the last good JWKS is served");
    let t = token(&app, &mut device).await;
    verify_independently(&t, &good).expect("still signing with the good key");
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

    let routes = devices
        .into_iter()
        .enumerate()
        .map(|(i, device)| {
            let me = [&a, &b][i];
            (
                device,
                vec![(i, me.clone(), i, me.clone())],
                me.origin.clone(),
            )
        })
        .collect();
    let run = SignIns::start(routes, vec![a.clone(), b.clone()]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    keys_ok(&keys, &["generate"]);
    let k2 = kid_in(&key_list(&keys), "next");
    tokio::time::sleep(Duration::from_millis(2200)).await;
    keys_ok(&keys, &["rotate"]);
    let rotated_at = Instant::now();
    tokio::time::sleep(Duration::from_millis(3300)).await;
    keys_ok(&keys, &["retire", &k1]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let log = run.stop(40).await;
    assert_switched(&log, 2, (&k1, &k2), rotated_at);
}

/// Every instance signed with the old key, then with the new one within 2 s of the rotation
/// (its reload interval and a sign-in), and never with the old one after that.
fn assert_switched(
    log: &[(usize, String, Instant)],
    instances: usize,
    (k1, k2): (&str, &str),
    rotated_at: Instant,
) {
    for i in 0..instances {
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

/// A route of a sign-in loop: begin on one instance, finish on another (indexes and servers).
type Hop = (usize, Arc<Server>, usize, Arc<Server>);

/// Continuous sign-ins, one loop per device, each going round its routes with the origin its
/// instances share; every access token is verified against every instance's JWKS at once.
struct SignIns {
    stop: Arc<AtomicBool>,
    verified: Arc<AtomicUsize>,
    /// (the instance that signed, kid, when) per token.
    signed_with: Arc<std::sync::Mutex<Vec<(usize, String, Instant)>>>,
    loops: Vec<tokio::task::JoinHandle<Vec<String>>>,
}

impl SignIns {
    fn start(routes: Vec<(SoftAuthenticator, Vec<Hop>, String)>, all: Vec<Arc<Server>>) -> SignIns {
        let run = SignIns {
            stop: Arc::default(),
            verified: Arc::default(),
            signed_with: Arc::default(),
            loops: Vec::new(),
        };
        let mut loops = Vec::new();
        for (mut device, hops, origin) in routes {
            let (stop, verified, signed_with, all) = (
                run.stop.clone(),
                run.verified.clone(),
                run.signed_with.clone(),
                all.clone(),
            );
            loops.push(tokio::spawn(async move {
                let client = new_client();
                let mut failures = Vec::new();
                for (begin_at, begin, finish_at, finish) in hops.iter().cycle() {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let options = begin.post(&client, "/webauthn/login/begin", &json!({})).await;
                    let assertion = device
                        .get(options.assert_ok(), &origin, &Default::default())
                        .expect("get");
                    let login = finish.post(&client, "/webauthn/login/finish", &assertion).await;
                    let t = login.assert_ok()["access_token"]
                        .as_str()
                        .expect("token")
                        .to_string();
                    for (n, server) in all.iter().enumerate() {
                        let jwks = server.get("/.well-known/jwks.json").await.body;
                        match verify_independently(&t, &jwks) {
                            Ok(_) => {
                                verified.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(e) => failures.push(format!(
                                "begun on {begin_at}, signed by {finish_at}, verified at {n}, kid {}: {e}",
                                kid_of(&t)
                            )),
                        }
                    }
                    signed_with
                        .lock()
                        .expect("lock")
                        .push((*finish_at, kid_of(&t), Instant::now()));
                }
                failures
            }));
        }
        SignIns { loops, ..run }
    }

    /// Stops the loops; asserts no verification failed and at least `min` succeeded. Returns
    /// the log of who signed with which key when.
    async fn stop(self, min: usize) -> Vec<(usize, String, Instant)> {
        self.stop.store(true, Ordering::Relaxed);
        let mut failures = Vec::new();
        for l in self.loops {
            failures.extend(l.await.expect("sign-in loop"));
        }
        let total = self.verified.load(Ordering::Relaxed);
        eprintln!(
            "{total} verifications against every instance's JWKS, {} failed",
            failures.len()
        );
        assert!(
            failures.is_empty(),
            "{} verification failures: {failures:?}",
            failures.len()
        );
        assert!(
            total > min,
            "continuous sign-ins: only {total} verifications"
        );
        let log = self.signed_with.lock().expect("lock").clone();
        log
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
    // Each step is a stored event: the instance that took it, the kid, the states.
    // (Stored once the step is done: soon after the manifest says so.)
    let stored_retirement = || async {
        crate::admin_api_clients::events_of(&a, "key_changed")
            .await
            .into_iter()
            .find(|e| e["object"] == k1.as_str() && e["detail"]["to"] == "retired")
    };
    within!(Duration::from_secs(3), "the retirement is stored", {
        stored_retirement().await.is_some()
    });
    let retired = stored_retirement().await.expect("stored");
    assert_eq!(retired["detail"]["from"], "retiring");
    let actor = retired["actor"].as_str().unwrap_or("");
    assert!(
        instances.iter().any(|i| actor == format!("instance:{i}")),
        "{retired}"
    );
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

/// A fresh key-encryption key: 32 random bytes in base64.
fn new_kek() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    openssl::rand::rand_bytes(&mut bytes).expect("random bytes");
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A command against the database store must fail with one line that names where the KEK
/// comes from and says what is wrong.
#[track_caller]
fn refused_for_kek(out: (bool, String, String), says: &str) {
    let (ok, _, stderr) = out;
    assert!(!ok, "accepted: {stderr}");
    let lines: Vec<&str> = stderr.trim_end().lines().collect();
    assert_eq!(lines.len(), 1, "one line: {stderr}");
    assert!(lines[0].contains("PASSKEY_IDP_KEYS_KEK"), "{stderr}");
    assert!(lines[0].contains(says), "{stderr}");
}

/// Three instances that share no disk: separate, empty key folders and `keys.store =
/// "database"` on one Postgres. They start together (one of them makes the set), sign-ins go
/// begin-on-one, finish-on-the-next while the set rotates, and every token is verified against
/// every instance's JWKS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_share_a_database_key_set_through_a_rotation() {
    let db = create_pg_database();
    let redis = redis_url();
    let prefix = format!("pkidp-test:{}:", uuid::Uuid::new_v4().simple());
    let kek = new_kek();
    let issuer = "http://localhost:9";
    let store = [
        ("DATABASE_URL", db.as_str()),
        ("PASSKEY_IDP__KEYS__STORE", "database"),
        ("PASSKEY_IDP_KEYS_KEK", kek.as_str()),
    ];
    let folders: Vec<std::path::PathBuf> = (0..4)
        .map(|i| scratch_dir(&format!("no-keys-{i}")).join("keys"))
        .collect();
    let servers: Vec<Arc<Server>> = std::thread::scope(|scope| {
        let started: Vec<_> = folders[..3]
            .iter()
            .map(|folder| {
                let folder = folder.display().to_string();
                let (redis, prefix) = (&redis, &prefix);
                scope.spawn(move || {
                    let mut env: Vec<(&str, &str)> = FAST.to_vec();
                    env.extend(store);
                    env.extend([
                        ("REDIS_URL", redis.as_str()),
                        ("PASSKEY_IDP__REDIS__KEY_PREFIX", prefix.as_str()),
                        ("PASSKEY_IDP_KEYS_DIR", folder.as_str()),
                        ("PASSKEY_IDP_ISSUER", issuer),
                        ("PASSKEY_IDP__LOG__LEVEL", "warn"),
                        ("PASSKEY_IDP__RATE_LIMIT__CEREMONIES_PER_MINUTE", "0"),
                    ]);
                    Arc::new(Server::start(&env))
                })
            })
            .collect();
        started
            .into_iter()
            .map(|h| h.join().expect("start"))
            .collect()
    });
    let cli_folder = folders[3].display().to_string();
    let mut cli_env = store.to_vec();
    cli_env.push(("PASSKEY_IDP_KEYS_DIR", cli_folder.as_str()));
    let cli = |args: &[&str]| {
        let (ok, stdout, stderr) = keys_cli_with(&cli_env, args);
        assert!(ok, "keys {args:?} failed: {stderr}");
        stdout
    };
    let list = || serde_json::from_str::<Vec<Value>>(&cli(&["list", "--json"])).expect("json");
    // Of the three starting together, exactly one made the set: one key per algorithm in use.
    let first = list();
    assert_eq!(first.len(), 2, "one ES256 and one RS256 key: {first:?}");
    let k1 = kid_in(&first, "active");

    let mut routes = Vec::new();
    for i in 0..3 {
        let client = new_client();
        let options = servers[i]
            .post(
                &client,
                "/webauthn/register/begin",
                &json!({"username": format!("user{i}")}),
            )
            .await;
        let mut device = SoftAuthenticator::synced();
        let response = device
            .create(options.assert_ok(), issuer, &Default::default())
            .expect("create");
        servers[(i + 1) % 3]
            .post(&client, "/webauthn/register/finish", &response)
            .await
            .assert_ok();
        let hops = (0..3)
            .map(|k| {
                let (b, f) = ((i + k) % 3, (i + k + 1) % 3);
                (b, servers[b].clone(), f, servers[f].clone())
            })
            .collect();
        routes.push((device, hops, issuer.to_string()));
    }
    let run = SignIns::start(routes, servers.clone());
    tokio::time::sleep(Duration::from_millis(500)).await;
    cli(&["generate"]);
    let k2 = kid_in(&list(), "next");
    tokio::time::sleep(Duration::from_millis(2200)).await;
    cli(&["rotate"]);
    let rotated_at = Instant::now();
    tokio::time::sleep(Duration::from_millis(3300)).await;
    cli(&["retire", &k1]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let log = run.stop(60).await;
    assert_switched(&log, 3, (&k1, &k2), rotated_at);

    // Nothing was written to any folder: the set, its private keys and the instance secrets
    // all live in the database.
    for folder in &folders {
        let files: Vec<_> = std::fs::read_dir(folder)
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        assert!(files.is_empty(), "{files:?}");
    }
    // The private parts are sealed: no PEM or DER of a key in clear in the table.
    let sealed = std::process::Command::new("psql")
        .args([
            &db,
            "-Atc",
            "SELECT kid, state, sealed_private IS NULL FROM signing_keys ORDER BY kid",
        ])
        .output()
        .expect("psql");
    let rows = String::from_utf8_lossy(&sealed.stdout).into_owned();
    assert!(rows.contains(&format!("{k1}|retired|t")), "{rows}");
    assert!(rows.contains(&format!("{k2}|active|f")), "{rows}");

    // The JWKS is exported without the KEK, and matches what every instance serves.
    let public = keys_cli_with(&[store[0], store[1]], &["export-public"]);
    assert!(public.0, "{}", public.2);
    let exported: Value = serde_json::from_str(&public.1).expect("JWKS");
    assert!(!public.1.contains("\"d\""), "no private parameter");
    for server in &servers {
        let served = server.get("/.well-known/jwks.json").await.body;
        assert_eq!(kids(&served), kids(&exported));
    }

    // Without the KEK, or with another one, commands and the start stop with one line.
    refused_for_kek(
        keys_cli_with(&[store[0], store[1]], &["list"]),
        "keys.kek_file",
    );
    let wrong = new_kek();
    let with_wrong = [store[0], store[1], ("PASSKEY_IDP_KEYS_KEK", wrong.as_str())];
    refused_for_kek(
        keys_cli_with(&with_wrong, &["generate"]),
        "does not decrypt",
    );
    let started = Instant::now();
    let mut env = with_wrong.to_vec();
    env.push(("PASSKEY_IDP_LISTEN", "127.0.0.1:0"));
    let serve = run_cli(&["serve"], &env);
    assert!(!serve.status.success());
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let stderr = String::from_utf8_lossy(&serve.stderr);
    let last = stderr.trim_end().lines().last().unwrap_or("");
    assert!(
        last.contains("PASSKEY_IDP_KEYS_KEK") && last.contains("does not decrypt"),
        "{stderr}"
    );

    // rekek: the new KEK opens everything, the old one nothing; running instances go on.
    let newer = new_kek();
    cli(&["rekek", "--new-kek", &newer]);
    refused_for_kek(keys_cli_with(&cli_env, &["list"]), "does not decrypt");
    let with_newer = [store[0], store[1], ("PASSKEY_IDP_KEYS_KEK", newer.as_str())];
    let listed = keys_cli_with(&with_newer, &["list", "--json"]);
    assert!(listed.0, "{}", listed.2);
    for server in &servers {
        server.get("/readyz").await.assert_ok();
    }
}

/// `keys import-dir` moves a folder's set (kids, states, history) into an empty database store
/// on the embedded database; the JWKS stays the same, and a second import is refused.
#[test]
fn a_key_folder_moves_into_the_database() {
    let dir = scratch_dir("import").join("keys");
    keys_ok(&dir, &["generate", "--alg", "ES256"]);
    keys_ok(&dir, &["rotate", "--alg", "ES256"]);
    keys_ok(&dir, &["generate", "--alg", "ES256"]);
    keys_ok(&dir, &["generate", "--alg", "RS256"]);
    keys_ok(&dir, &["rotate", "--alg", "RS256"]);
    let before = key_list(&dir);
    let folder_jwks = {
        let (ok, out, err) = keys_cli(&dir, &["export-public"]);
        assert!(ok, "{err}");
        serde_json::from_str::<Value>(&out).expect("jwks")
    };
    let db = format!(
        "sqlite://{}",
        scratch_dir("import-db").join("idp.db").display()
    );
    let kek = new_kek();
    let store = [
        ("DATABASE_URL", db.as_str()),
        ("PASSKEY_IDP__KEYS__STORE", "database"),
        ("PASSKEY_IDP_KEYS_KEK", kek.as_str()),
    ];
    let path = dir.display().to_string();
    let (ok, out, err) = keys_cli_with(&store, &["import-dir", &path]);
    assert!(ok, "{err}");
    assert!(out.contains("imported 3 keys"), "{out}");
    let (ok, out, err) = keys_cli_with(&store, &["list", "--json"]);
    assert!(ok, "{err}");
    let after: Vec<Value> = serde_json::from_str(&out).expect("json");
    let summary = |l: &[Value]| -> Vec<(Value, Value, Value)> {
        l.iter()
            .map(|k| (k["kid"].clone(), k["state"].clone(), k["since"].clone()))
            .collect()
    };
    assert_eq!(summary(&after), summary(&before));
    let (ok, out, err) = keys_cli_with(&store[..2], &["export-public"]);
    assert!(ok, "{err}");
    assert_eq!(
        serde_json::from_str::<Value>(&out).expect("jwks"),
        folder_jwks
    );
    let (ok, _, err) = keys_cli_with(&store, &["import-dir", &path]);
    assert!(!ok && err.contains("already holds a key set"), "{err}");
    // The lifecycle commands work the same against the database: rotate to the next key.
    let (ok, _, err) = keys_cli_with(&store, &["rotate", "--force"]);
    assert!(ok, "{err}");
    let (_, out, _) = keys_cli_with(&store, &["list", "--json"]);
    let rotated: Vec<Value> = serde_json::from_str(&out).expect("json");
    assert_eq!(kid_in(&rotated, "retiring"), kid_in(&before, "active"));
    assert_eq!(kid_in(&rotated, "active"), kid_in(&before, "next"));
}
