//! The happy paths of both ceremonies, end to end over HTTP, on both backends.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation};
use serde_json::{json, Value};

use crate::authenticator::{SoftAuthenticator, Tamper};
use crate::helpers::{spawn_app, Backend, TestApp};
use crate::on_both_backends;

/// Verifies a JWT against the JWKS the server publishes, as a relying service would.
pub async fn verify_with_jwks(app: &TestApp, token: &str) -> Value {
    let document = app.get("/.well-known/jwks.json").await.assert_ok().clone();
    let jwks: JwkSet = serde_json::from_value(document).expect("a JWK set");
    let header = jsonwebtoken::decode_header(token).expect("JWT header");
    let kid = header.kid.expect("kid in header");
    let jwk = jwks.find(&kid).expect("kid is in the JWKS");
    let key = DecodingKey::from_jwk(jwk).expect("usable JWK");
    let mut validation = Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.set_audience(&["passkey-idp"]);
    validation.set_issuer(&[app.origin.as_str()]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .expect("token verifies against the JWKS")
        .claims
}

async fn sign_up_and_sign_in_both_ways(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut device = SoftAuthenticator::new();

    // begin writes nothing durable.
    let begin = app
        .register_begin(json!({ "username": "Alice", "email": "alice@example.com", "display_name": "Alice A." }))
        .await;
    let options = begin.assert_ok().clone();
    let pk = &options["publicKey"];
    assert_eq!(pk["rp"]["id"], "localhost");
    assert_eq!(pk["user"]["name"], "alice", "usernames are normalised");
    assert_eq!(pk["user"]["displayName"], "Alice A.");
    assert_eq!(pk["authenticatorSelection"]["residentKey"], "required");
    assert_eq!(pk["authenticatorSelection"]["userVerification"], "required");
    let challenge = URL_SAFE_NO_PAD
        .decode(pk["challenge"].as_str().expect("challenge"))
        .expect("base64url");
    assert!(challenge.len() >= 16);
    let handle = URL_SAFE_NO_PAD
        .decode(pk["user"]["id"].as_str().expect("user id"))
        .expect("base64url");
    assert!(handle.len() >= 16 && handle != b"alice");
    assert!(begin
        .set_cookies()
        .iter()
        .any(|c| c.starts_with("pkidp_ceremony=") && c.contains("HttpOnly")));
    let users = app
        .query(|c| passkey_idp::db::users::find_by_username(c, "alice"))
        .await;
    assert!(users.is_none(), "begin must not create the user");

    let response = device
        .create(&options, &app.origin, &Tamper::default())
        .expect("create");
    let finish = app.register_finish(&response).await;
    let body = finish.assert_ok().clone();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["user"]["username"], "alice");
    assert_eq!(body["credential"]["id"], response["id"]);
    assert_eq!(body["credential"]["synced"], false);
    let session_cookie = finish
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("pkidp_session="))
        .expect("session cookie");
    assert!(session_cookie.contains("HttpOnly") && session_cookie.contains("SameSite=Lax"));
    let user_id = body["user"]["id"].as_str().expect("user id").to_string();
    let claims = verify_with_jwks(&app, body["access_token"].as_str().expect("token")).await;
    assert_eq!(claims["sub"], user_id.as_str());

    // The stored row: user handle is the one sent, the credential belongs to the user.
    let uid = user_id.clone();
    let (user, creds) = app
        .query(move |c| {
            let u = passkey_idp::db::users::find_by_id(c, &uid)?.expect("user");
            let creds = passkey_idp::db::credentials::for_user(c, &uid)?;
            Ok((u, creds))
        })
        .await;
    assert_eq!(user.user_handle, handle);
    assert_eq!(user.email.as_deref(), Some("alice@example.com"));
    assert_eq!(creds.len(), 1);
    assert_eq!(creds[0].aaguid, "00000000-0000-0000-0000-000000000000");
    assert!(!creds[0].public_key.is_empty());

    // Username-first sign-in.
    let options = app
        .login_begin(json!({ "username": "alice" }))
        .await
        .assert_ok()
        .clone();
    let allowed = options["publicKey"]["allowCredentials"]
        .as_array()
        .expect("allowCredentials");
    assert_eq!(allowed.len(), 1);
    assert_eq!(allowed[0]["id"], response["id"]);
    let assertion = device
        .get(&options, &app.origin, &Tamper::default())
        .expect("get");
    let login = app.login_finish(&assertion).await;
    let body = login.assert_ok().clone();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].as_u64().expect("expires_in") > 0);
    let new_session = login
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("pkidp_session="))
        .expect("session cookie renewed");
    assert_ne!(
        new_session, session_cookie,
        "a new session id at each sign-in"
    );

    let token = body["access_token"].as_str().expect("token");
    let header = jsonwebtoken::decode_header(token).expect("header");
    assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    let claims = verify_with_jwks(&app, token).await;
    assert_eq!(claims["sub"], user_id.as_str());
    assert_eq!(claims["iss"], app.origin.as_str());
    assert_eq!(claims["amr"], json!(["hwk", "user", "mfa"]));
    for claim in ["iat", "exp", "jti", "auth_time"] {
        assert!(claims.get(claim).is_some(), "claim {claim}");
    }

    // Usernameless sign-in: no allowCredentials, the user is found from the credential.
    let options = app.login_begin(json!({})).await.assert_ok().clone();
    assert!(options["publicKey"]["allowCredentials"]
        .as_array()
        .is_none_or(|a| a.is_empty()));
    let assertion = device
        .get(&options, &app.origin, &Tamper::default())
        .expect("get");
    let body = app.login_finish(&assertion).await.assert_ok().clone();
    let claims = verify_with_jwks(&app, body["access_token"].as_str().expect("token")).await;
    assert_eq!(claims["sub"], user_id.as_str());

    // The counter moved forward with each sign-in.
    let cid = response["id"].as_str().expect("id").to_string();
    let row = app
        .query(move |c| passkey_idp::db::credentials::find(c, &cid))
        .await
        .expect("credential");
    assert_eq!(row.sign_count, 2);
    assert!(row.last_used_at.is_some());
    assert!(!row.clone_suspected);
}
on_both_backends!(sign_up_and_sign_in_both_ways);

async fn synced_passkeys_with_zero_counters_are_normal(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut device = SoftAuthenticator::synced();
    let body = app.sign_up("bob", &mut device).await;
    assert_eq!(body["credential"]["synced"], true);
    for _ in 0..3 {
        let body = app.sign_in(None, &mut device).await.assert_ok().clone();
        let claims = verify_with_jwks(&app, body["access_token"].as_str().expect("token")).await;
        assert_eq!(claims["amr"], json!(["swk", "user", "mfa"]));
    }
}
on_both_backends!(synced_passkeys_with_zero_counters_are_normal);

async fn a_second_user_cannot_use_the_first_users_passkey(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut alice = SoftAuthenticator::new();
    let mut bob = SoftAuthenticator::new();
    app.sign_up("alice", &mut alice).await;
    app.sign_up("bob", &mut bob).await;
    // Username-first for bob, answered by alice's authenticator with her own credential.
    let options = app
        .login_begin(json!({ "username": "bob" }))
        .await
        .assert_ok()
        .clone();
    let alice_cred = alice.credentials()[0].id.clone();
    let assertion = alice
        .get_with(&alice_cred, &options, &app.origin, &Tamper::default())
        .expect("get");
    app.login_finish(&assertion)
        .await
        .assert_error(401, "unknown_credential");
}
on_both_backends!(a_second_user_cannot_use_the_first_users_passkey);
