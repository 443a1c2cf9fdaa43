//! Every way a ceremony must fail, each asserting the status and the error code of docs/api.md.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

use crate::authenticator::{SoftAuthenticator, Tamper};
use crate::helpers::{new_client, spawn_app, spawn_with, Backend, TestApp, TestConfig};
use crate::on_both_backends;

/// Registers `username` and returns login options from a username-first begin.
async fn registered_and_login_options(
    app: &TestApp,
    username: &str,
    device: &mut SoftAuthenticator,
) -> Value {
    app.sign_up(username, device).await;
    app.login_begin(json!({ "username": username }))
        .await
        .assert_ok()
        .clone()
}

async fn replayed_finish_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut device = SoftAuthenticator::new();
    let options = app
        .register_begin(json!({ "username": "carol" }))
        .await
        .assert_ok()
        .clone();
    let response = device
        .create(&options, &app.origin, &Tamper::default())
        .expect("create");
    app.register_finish(&response).await.assert_ok();
    app.register_finish(&response)
        .await
        .assert_error(400, "challenge_expired");

    let options = app
        .login_begin(json!({ "username": "carol" }))
        .await
        .assert_ok()
        .clone();
    let assertion = device
        .get(&options, &app.origin, &Tamper::default())
        .expect("get");
    app.login_finish(&assertion).await.assert_ok();
    app.login_finish(&assertion)
        .await
        .assert_error(401, "challenge_expired");
}
on_both_backends!(replayed_finish_is_refused);

async fn expired_challenge_is_refused(backend: Backend) {
    let app =
        spawn_with(TestConfig::new(backend).with("PASSKEY_IDP__WEBAUTHN__CHALLENGE_TTL_SECS", "1"))
            .await;
    let mut device = SoftAuthenticator::new();
    let options = app
        .register_begin(json!({ "username": "dave" }))
        .await
        .assert_ok()
        .clone();
    let response = device
        .create(&options, &app.origin, &Tamper::default())
        .expect("create");
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    app.register_finish(&response)
        .await
        .assert_error(400, "challenge_expired");

    let mut device = SoftAuthenticator::new();
    let options = registered_and_login_options(&app, "erin", &mut device).await;
    let assertion = device
        .get(&options, &app.origin, &Tamper::default())
        .expect("get");
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    app.login_finish(&assertion)
        .await
        .assert_error(401, "challenge_expired");
}
on_both_backends!(expired_challenge_is_refused);

async fn finish_without_the_ceremony_cookie_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut device = SoftAuthenticator::new();
    let options = app
        .register_begin(json!({ "username": "frank" }))
        .await
        .assert_ok()
        .clone();
    let response = device
        .create(&options, &app.origin, &Tamper::default())
        .expect("create");
    let stranger = new_client();
    app.post_json_with(&stranger, "/webauthn/register/finish", &response)
        .await
        .assert_error(400, "challenge_expired");
    // The ceremony is still there for its own browser.
    app.register_finish(&response).await.assert_ok();

    let options = app
        .login_begin(json!({ "username": "frank" }))
        .await
        .assert_ok()
        .clone();
    let assertion = device
        .get(&options, &app.origin, &Tamper::default())
        .expect("get");
    app.post_json_with(&stranger, "/webauthn/login/finish", &assertion)
        .await
        .assert_error(401, "challenge_expired");
}
on_both_backends!(finish_without_the_ceremony_cookie_is_refused);

/// One tampered registration and one tampered sign-in, each expected to fail with `code`.
async fn tampered(backend: Backend, tamper: Tamper, code: &str) {
    let app = spawn_app(backend).await;
    let mut device = SoftAuthenticator::new();
    let options = app
        .register_begin(json!({ "username": "grace" }))
        .await
        .assert_ok()
        .clone();
    let response = device
        .create(&options, &app.origin, &tamper)
        .expect("create");
    app.register_finish(&response).await.assert_error(400, code);
    // Nothing was written: the username is still free.
    let mut device = SoftAuthenticator::new();
    let options = registered_and_login_options(&app, "grace", &mut device).await;
    let assertion = device.get(&options, &app.origin, &tamper).expect("get");
    app.login_finish(&assertion).await.assert_error(401, code);
}

async fn wrong_origin_is_refused(backend: Backend) {
    let tamper = Tamper {
        origin: Some("http://localhost.evil.example".into()),
        ..Tamper::default()
    };
    tampered(backend, tamper, "origin_mismatch").await;
}
on_both_backends!(wrong_origin_is_refused);

async fn wrong_rp_id_hash_is_refused(backend: Backend) {
    let tamper = Tamper {
        rp_id_hash_of: Some("evil.example".into()),
        ..Tamper::default()
    };
    tampered(backend, tamper, "rp_id_mismatch").await;
}
on_both_backends!(wrong_rp_id_hash_is_refused);

async fn missing_user_verification_is_refused(backend: Backend) {
    let tamper = Tamper {
        uv: Some(false),
        ..Tamper::default()
    };
    tampered(backend, tamper, "user_verification_required").await;
}
on_both_backends!(missing_user_verification_is_refused);

async fn a_response_to_another_challenge_is_refused(backend: Backend) {
    let tamper = Tamper {
        challenge: Some(vec![7u8; 32]),
        ..Tamper::default()
    };
    tampered(backend, tamper, "challenge_mismatch").await;
}
on_both_backends!(a_response_to_another_challenge_is_refused);

async fn tampered_signature_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut device = SoftAuthenticator::new();
    let options = registered_and_login_options(&app, "heidi", &mut device).await;
    let tamper = Tamper {
        flip_signature_byte: true,
        ..Tamper::default()
    };
    let assertion = device.get(&options, &app.origin, &tamper).expect("get");
    app.login_finish(&assertion)
        .await
        .assert_error(401, "invalid_signature");
}
on_both_backends!(tampered_signature_is_refused);

async fn counter_regression_is_refused_and_flagged(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut device = SoftAuthenticator::new();
    app.sign_up("ivan", &mut device).await;
    app.sign_in(Some("ivan"), &mut device).await.assert_ok(); // count 1
    app.sign_in(Some("ivan"), &mut device).await.assert_ok(); // count 2
    let options = app
        .login_begin(json!({ "username": "ivan" }))
        .await
        .assert_ok()
        .clone();
    let tamper = Tamper {
        counter: Some(1),
        ..Tamper::default()
    };
    let assertion = device.get(&options, &app.origin, &tamper).expect("get");
    app.login_finish(&assertion)
        .await
        .assert_error(401, "counter_regression");
    let cid = URL_SAFE_NO_PAD.encode(&device.credentials()[0].id);
    let row = app
        .query(move |c| passkey_idp::db::credentials::find(c, &cid))
        .await
        .expect("credential");
    assert!(
        row.clone_suspected,
        "the credential is flagged for the operator"
    );
    assert_eq!(row.sign_count, 2, "the stored count did not move back");
}
on_both_backends!(counter_regression_is_refused_and_flagged);

/// A tampered signature with a regressed counter is an invalid signature, not a clone signal:
/// the counter is judged only after the signature verifies.
async fn counter_is_checked_only_after_the_signature(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut device = SoftAuthenticator::new();
    app.sign_up("judy", &mut device).await;
    app.sign_in(Some("judy"), &mut device).await.assert_ok();
    let options = app
        .login_begin(json!({ "username": "judy" }))
        .await
        .assert_ok()
        .clone();
    let tamper = Tamper {
        counter: Some(0),
        flip_signature_byte: true,
        ..Tamper::default()
    };
    let assertion = device.get(&options, &app.origin, &tamper).expect("get");
    app.login_finish(&assertion)
        .await
        .assert_error(401, "invalid_signature");
    let cid = URL_SAFE_NO_PAD.encode(&device.credentials()[0].id);
    let row = app
        .query(move |c| passkey_idp::db::credentials::find(c, &cid))
        .await
        .expect("credential");
    assert!(!row.clone_suspected);
}
on_both_backends!(counter_is_checked_only_after_the_signature);

async fn concurrent_finishes_have_one_winner(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut device = SoftAuthenticator::synced();
    let options = registered_and_login_options(&app, "ken", &mut device).await;
    let assertion = device
        .get(&options, &app.origin, &Tamper::default())
        .expect("get");
    let attempts = (0..8).map(|_| app.login_finish(&assertion));
    let replies = futures_util::future::join_all(attempts).await;
    let wins = replies.iter().filter(|r| r.status.is_success()).count();
    assert_eq!(wins, 1, "exactly one finish wins");
    for r in replies.iter().filter(|r| !r.status.is_success()) {
        r.assert_error(401, "challenge_expired");
    }

    // Registration too: one account, one credential.
    let mut device = SoftAuthenticator::new();
    let options = app
        .register_begin(json!({ "username": "leo" }))
        .await
        .assert_ok()
        .clone();
    let response = device
        .create(&options, &app.origin, &Tamper::default())
        .expect("create");
    let replies =
        futures_util::future::join_all((0..8).map(|_| app.register_finish(&response))).await;
    assert_eq!(replies.iter().filter(|r| r.status.is_success()).count(), 1);
}
on_both_backends!(concurrent_finishes_have_one_winner);

/// Two sign-ins that present the same count (as two copies of one key would) cannot both win,
/// even when each has its own challenge.
async fn same_counter_twice_cannot_both_win(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut device = SoftAuthenticator::new();
    app.sign_up("mallory", &mut device).await;
    let a = new_client();
    let b = new_client();
    let opts_a = app
        .post_json_with(&a, "/webauthn/login/begin", &json!({"username": "mallory"}))
        .await
        .assert_ok()
        .clone();
    let opts_b = app
        .post_json_with(&b, "/webauthn/login/begin", &json!({"username": "mallory"}))
        .await
        .assert_ok()
        .clone();
    let same = Tamper {
        counter: Some(5),
        ..Tamper::default()
    };
    let resp_a = device.get(&opts_a, &app.origin, &same).expect("get");
    let resp_b = device.get(&opts_b, &app.origin, &same).expect("get");
    let (ra, rb) = tokio::join!(
        app.post_json_with(&a, "/webauthn/login/finish", &resp_a),
        app.post_json_with(&b, "/webauthn/login/finish", &resp_b)
    );
    let wins = [ra.status.is_success(), rb.status.is_success()]
        .iter()
        .filter(|w| **w)
        .count();
    assert_eq!(
        wins, 1,
        "one of two equal counts wins: {} / {}",
        ra.body, rb.body
    );
    let loser = if ra.status.is_success() { rb } else { ra };
    loser.assert_error(401, "counter_regression");
}
on_both_backends!(same_counter_twice_cannot_both_win);

async fn unknown_credential_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut device = SoftAuthenticator::new();
    // The authenticator makes a credential, but registration is never finished.
    let options = app
        .register_begin(json!({ "username": "nina" }))
        .await
        .assert_ok()
        .clone();
    device
        .create(&options, &app.origin, &Tamper::default())
        .expect("create");
    let options = app.login_begin(json!({})).await.assert_ok().clone();
    let assertion = device
        .get(&options, &app.origin, &Tamper::default())
        .expect("get");
    app.login_finish(&assertion)
        .await
        .assert_error(401, "unknown_credential");
}
on_both_backends!(unknown_credential_is_refused);

async fn usernameless_sign_in_requires_the_matching_user_handle(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut device = SoftAuthenticator::new();
    app.sign_up("oscar", &mut device).await;
    let options = app.login_begin(json!({})).await.assert_ok().clone();
    let tamper = Tamper {
        omit_user_handle: true,
        ..Tamper::default()
    };
    let assertion = device.get(&options, &app.origin, &tamper).expect("get");
    app.login_finish(&assertion)
        .await
        .assert_error(401, "unknown_credential");
}
on_both_backends!(usernameless_sign_in_requires_the_matching_user_handle);

async fn username_taken(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut device = SoftAuthenticator::new();
    app.sign_up("peggy", &mut device).await;
    app.register_begin(json!({ "username": "Peggy" }))
        .await
        .assert_error(409, "username_taken");

    // Two sign-ups racing for one name: begin passes for both, only the first finish wins.
    let (a, b) = (new_client(), new_client());
    let oa = app
        .post_json_with(
            &a,
            "/webauthn/register/begin",
            &json!({"username": "quinn"}),
        )
        .await
        .assert_ok()
        .clone();
    let ob = app
        .post_json_with(
            &b,
            "/webauthn/register/begin",
            &json!({"username": "quinn"}),
        )
        .await
        .assert_ok()
        .clone();
    let ra = SoftAuthenticator::new()
        .create(&oa, &app.origin, &Tamper::default())
        .expect("create");
    let rb = SoftAuthenticator::new()
        .create(&ob, &app.origin, &Tamper::default())
        .expect("create");
    app.post_json_with(&a, "/webauthn/register/finish", &ra)
        .await
        .assert_ok();
    app.post_json_with(&b, "/webauthn/register/finish", &rb)
        .await
        .assert_error(409, "username_taken");
}
on_both_backends!(username_taken);

async fn malformed_input_is_a_clear_4xx(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut device = SoftAuthenticator::new();

    // begin bodies
    for body in [
        json!({}),
        json!({"username": 5}),
        json!({"username": "a"}),
        json!({"username": "x y"}),
    ] {
        app.register_begin(body)
            .await
            .assert_error(400, "invalid_request");
    }
    app.register_begin(json!({"username": "valid", "email": "nope"}))
        .await
        .assert_error(400, "invalid_request");
    app.login_begin(json!({"username": 12}))
        .await
        .assert_error(400, "invalid_request");
    for path in [
        "/webauthn/register/begin",
        "/webauthn/login/begin",
        "/webauthn/login/finish",
        "/webauthn/register/finish",
    ] {
        app.post_raw(path, "application/json", b"{not json".to_vec())
            .await
            .assert_error(400, "invalid_request");
        let reply = app.post_raw(path, "text/plain", b"{}".to_vec()).await;
        assert_eq!(reply.status.as_u16(), 415, "{path}");
        assert_eq!(reply.error(), "invalid_request");
        let huge = format!("{{\"username\":\"{}\"}}", "a".repeat(70 * 1024));
        app.post_raw(path, "application/json", huge.into_bytes())
            .await
            .assert_error(413, "invalid_request");
    }

    // Registration responses broken in one way each; every one is a 400 invalid_request.
    let options = app
        .register_begin(json!({ "username": "rupert" }))
        .await
        .assert_ok()
        .clone();
    let good = device
        .create(&options, &app.origin, &Tamper::default())
        .expect("create");
    let mut cases: Vec<(&str, Value)> = Vec::new();
    let mut v = good.clone();
    v["rawId"] = json!("!!!not base64!!!");
    cases.push(("bad base64", v));
    let mut v = good.clone();
    v["response"]["attestationObject"] = json!(URL_SAFE_NO_PAD.encode(b"\xff\x00 not cbor"));
    cases.push(("bad CBOR", v));
    let mut v = good.clone();
    v["type"] = json!("password");
    cases.push(("wrong type", v));
    let mut v = good.clone();
    v["id"] = json!(URL_SAFE_NO_PAD.encode(b"another id"));
    cases.push(("id != rawId", v));
    let mut v = good.clone();
    v["response"] = json!("nope");
    cases.push(("wrong shape", v));
    for (what, body) in cases {
        // Each attempt consumes the ceremony, so start a fresh one (same username is free).
        app.register_begin(json!({ "username": "rupert" }))
            .await
            .assert_ok();
        let reply = app.register_finish(&body).await;
        assert_eq!(
            (reply.status.as_u16(), reply.error()),
            (400, "invalid_request"),
            "{what}: {}",
            reply.body
        );
    }

    // And sign-in responses.
    let mut device = SoftAuthenticator::new();
    let options = registered_and_login_options(&app, "sybil", &mut device).await;
    let good = device
        .get(&options, &app.origin, &Tamper::default())
        .expect("get");
    let mut cases: Vec<(&str, Value)> = Vec::new();
    let mut v = good.clone();
    v["response"]["signature"] = json!("***");
    cases.push(("bad base64", v));
    let mut v = good.clone();
    v["response"]["authenticatorData"] = json!(URL_SAFE_NO_PAD.encode(b"short"));
    cases.push(("truncated authenticatorData", v));
    let mut v = good.clone();
    v["type"] = json!("public-key-x");
    cases.push(("wrong type", v));
    let mut v = good.clone();
    v["id"] = json!("AAAA");
    cases.push(("id != rawId", v));
    for (what, body) in cases {
        app.login_begin(json!({ "username": "sybil" }))
            .await
            .assert_ok();
        let reply = app.login_finish(&body).await;
        assert!(reply.status.is_client_error(), "{what}: {}", reply.status);
        assert_eq!(reply.error(), "invalid_request", "{what}: {}", reply.body);
    }
}
on_both_backends!(malformed_input_is_a_clear_4xx);

async fn unknown_username_looks_like_a_known_one(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut device = SoftAuthenticator::new();
    app.sign_up("trent", &mut device).await;
    let known = app.login_begin(json!({ "username": "trent" })).await;
    let unknown = app.login_begin(json!({ "username": "nobody" })).await;
    let again = app.login_begin(json!({ "username": "nobody" })).await;
    assert_eq!(known.status, unknown.status);
    let shape = |v: &Value| -> Vec<String> {
        let mut keys: Vec<String> = v["publicKey"]
            .as_object()
            .expect("object")
            .keys()
            .cloned()
            .collect();
        keys.sort();
        keys
    };
    assert_eq!(shape(&known.body), shape(&unknown.body));
    let known_ids = known.body["publicKey"]["allowCredentials"]
        .as_array()
        .expect("list")
        .clone();
    let unknown_ids = unknown.body["publicKey"]["allowCredentials"]
        .as_array()
        .expect("list")
        .clone();
    // Every entry, real or not, has the values real credentials have: the same keys (type and
    // id: no username-first answer carries transports, whose stored values vary, so that none
    // has a shape a made-up answer lacks), type public-key, an id of a length real
    // authenticators use.
    let plausible = |entry: &Value| {
        let mut keys: Vec<&str> = entry
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(keys, ["id", "type"], "{entry}");
        assert_eq!(entry["type"], "public-key");
        let id = URL_SAFE_NO_PAD
            .decode(entry["id"].as_str().expect("id"))
            .expect("base64url");
        assert!((16..=64).contains(&id.len()), "{entry}");
    };
    known_ids.iter().chain(&unknown_ids).for_each(plausible);
    // Across many unknown usernames the answers vary as real users' do (one or more entries,
    // several id lengths), and every one of them has the shape of the real one.
    let mut counts = std::collections::BTreeSet::new();
    let mut lengths = std::collections::BTreeSet::new();
    for i in 0..200 {
        let reply = app
            .login_begin(json!({ "username": format!("nobody{i}") }))
            .await;
        assert_eq!(shape(&reply.body), shape(&known.body));
        let entries = reply.assert_ok()["publicKey"]["allowCredentials"]
            .as_array()
            .expect("list")
            .clone();
        entries.iter().for_each(plausible);
        counts.insert(entries.len());
        for e in &entries {
            lengths.insert(e["id"].as_str().expect("id").len());
        }
    }
    assert!(counts.contains(&1) && counts.len() >= 2, "{counts:?}");
    assert!(lengths.len() >= 3, "{lengths:?}");
    assert_eq!(
        unknown_ids,
        again.body["publicKey"]["allowCredentials"]
            .as_array()
            .expect("list")
            .clone(),
        "the same unknown username gets the same answer each time"
    );
    assert!(unknown
        .set_cookies()
        .iter()
        .any(|c| c.starts_with("pkidp_ceremony=")));
}
on_both_backends!(unknown_username_looks_like_a_known_one);

async fn ceremony_starts_are_rate_limited(backend: Backend) {
    let app = spawn_with(
        TestConfig::new(backend).with("PASSKEY_IDP__RATE_LIMIT__CEREMONIES_PER_MINUTE", "5"),
    )
    .await;
    for _ in 0..5 {
        app.login_begin(json!({})).await.assert_ok();
    }
    let reply = app.login_begin(json!({})).await;
    reply.assert_error(429, "rate_limited");
    assert_eq!(
        reply
            .headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("60")
    );
    app.register_begin(json!({"username": "victor"}))
        .await
        .assert_error(429, "rate_limited");
}
on_both_backends!(ceremony_starts_are_rate_limited);

async fn a_failed_finish_consumes_the_ceremony(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut device = SoftAuthenticator::new();
    let options = app
        .register_begin(json!({ "username": "wanda" }))
        .await
        .assert_ok()
        .clone();
    let wrong = Tamper {
        origin: Some("http://localhost:1".into()),
        ..Tamper::default()
    };
    let bad = device
        .create(&options, &app.origin, &wrong)
        .expect("create");
    app.register_finish(&bad)
        .await
        .assert_error(400, "origin_mismatch");
    let good = device
        .create(&options, &app.origin, &Tamper::default())
        .expect("create");
    app.register_finish(&good)
        .await
        .assert_error(400, "challenge_expired");

    let mut device = SoftAuthenticator::new();
    let options = registered_and_login_options(&app, "wanda", &mut device).await;
    let bad = device.get(&options, &app.origin, &wrong).expect("get");
    app.login_finish(&bad)
        .await
        .assert_error(401, "origin_mismatch");
    let good = device
        .get(&options, &app.origin, &Tamper::default())
        .expect("get");
    app.login_finish(&good)
        .await
        .assert_error(401, "challenge_expired");
}
on_both_backends!(a_failed_finish_consumes_the_ceremony);
