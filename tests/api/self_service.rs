//! The person's own account: where they are signed in, their recent activity, deleting the
//! account; that stored events hold no secret; and the housekeeping sweep.

use diesel::prelude::*;
use serde_json::{json, Value};

use crate::admin::{json_of, other_browser};
use crate::authenticator::SoftAuthenticator;
use crate::helpers::{sorted_keys, spawn_with, Backend, TestApp, TestConfig};
use crate::oidc::{code, redeem, register};
use crate::on_both_backends;

async fn sessions_events_and_deleting_the_account(backend: Backend) {
    let app = spawn_with(
        TestConfig::new(backend).with("PASSKEY_IDP__SESSION__REAUTH_MAX_AGE_SECS", "10"),
    )
    .await;
    let mut phone = SoftAuthenticator::synced();
    app.sign_up("pia", &mut phone).await;
    let laptop = other_browser(&app);
    laptop.sign_in(Some("pia"), &mut phone).await.assert_ok();

    let listed = app.get("/account/sessions").await;
    let list = listed.assert_ok().as_array().expect("array").clone();
    assert_eq!(list.len(), 2, "{list:?}");
    assert_eq!(list.iter().filter(|s| s["current"] == true).count(), 1);
    for s in &list {
        let keys = sorted_keys(s);
        assert_eq!(keys, ["browser", "created", "current", "id", "last_seen"]);
    }
    let ended = app
        .client
        .delete(app.url("/account/sessions"))
        .send()
        .await
        .expect("delete");
    let ended: Value = ended.json().await.expect("json");
    assert_eq!(ended, json!({ "status": "ok", "ended": 1 }));
    laptop
        .get("/account/credentials")
        .await
        .assert_error(401, "login_required");
    assert_eq!(
        app.get("/account/sessions")
            .await
            .assert_ok()
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    let events = app.get("/account/events").await;
    let kinds: Vec<&str> = events
        .assert_ok()
        .as_array()
        .expect("array")
        .iter()
        .map(|e| e["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(kinds, ["signin_success", "passkey_added"], "newest first");

    // Deleting needs a recent sign-in: re-authenticate first.
    tokio::time::sleep(std::time::Duration::from_millis(11_100)).await;
    let refused = app
        .client
        .delete(app.url("/account"))
        .send()
        .await
        .expect("delete");
    assert_eq!(refused.status(), 401);
    let refused: Value = refused.json().await.expect("json");
    assert_eq!(refused["error"], "reauthentication_required");
    let options = app.post_json("/account/reauth/begin", &json!({})).await;
    let assertion = phone
        .get(options.assert_ok(), &app.origin, &Default::default())
        .expect("assert");
    app.post_json("/account/reauth/finish", &assertion)
        .await
        .assert_ok();
    let deleted = app
        .client
        .delete(app.url("/account"))
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status(), 200);
    let cleared = deleted.headers().get_all("set-cookie").iter().any(|c| {
        c.to_str().is_ok_and(|c| {
            c.starts_with("__Host-session=") || c.contains("session=;") || c.contains("Max-Age=0")
        })
    });
    assert!(cleared, "the session cookie is cleared");
    app.get("/account/credentials")
        .await
        .assert_error(401, "login_required");
    other_browser(&app)
        .sign_in(None, &mut phone)
        .await
        .assert_error(401, "unknown_credential");
    let users = json_of(&app, &["users", "list", "--json"]);
    assert_eq!(users, json!([]));
}
on_both_backends!(sessions_events_and_deleting_the_account);

/// The stored columns of an event.
type EventColumns = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Every stored event, as text.
async fn stored_events(app: &TestApp) -> String {
    app.query(|c| {
        use passkey_idp::db::schema::security_events as e;
        let rows: Vec<EventColumns> = e::table
            .select((
                e::kind,
                e::user_id,
                e::credential_id,
                e::client_id,
                e::request_id,
            ))
            .load(c)?;
        Ok(format!("{rows:?}"))
    })
    .await
}

async fn stored_events_hold_no_secret(backend: Backend) {
    let app = spawn_with(TestConfig::new(backend)).await;
    let mut phone = SoftAuthenticator::synced();
    let signed_up = app.sign_up("quin", &mut phone).await;
    let mut secrets: Vec<String> =
        vec![signed_up["access_token"].as_str().expect("at").to_string()];
    let c = register(&app, "notes", false, &[crate::oidc::REDIRECT], &[]).await;
    let code = code(&app, &c.id).await;
    let tokens = redeem(&app, &c, &code).await.assert_ok().clone();
    secrets.push(code);
    for key in ["access_token", "refresh_token", "id_token"] {
        secrets.push(tokens[key].as_str().expect(key).to_string());
    }
    secrets.push(c.secret.clone().expect("secret"));
    let codes = app.post_json("/account/recovery-codes", &json!({})).await;
    let codes: Vec<String> = codes.assert_ok()["codes"]
        .as_array()
        .expect("codes")
        .iter()
        .map(|v| v.as_str().expect("code").to_string())
        .collect();
    let rescued = other_browser(&app);
    rescued
        .post_json("/recover", &json!({ "username": "quin", "code": codes[0] }))
        .await
        .assert_ok();
    secrets.extend(codes);
    let other = other_browser(&app);
    let signed = other.sign_in(Some("quin"), &mut phone).await;
    secrets.push(
        signed.assert_ok()["access_token"]
            .as_str()
            .expect("at")
            .to_string(),
    );
    for cookie in signed.set_cookies() {
        let value = cookie
            .split(';')
            .next()
            .and_then(|kv| kv.split_once('='))
            .map(|(_, v)| v.to_string())
            .expect("cookie");
        if value.len() > 8 {
            secrets.push(value);
        }
    }
    app.client
        .get(app.url("/logout"))
        .send()
        .await
        .expect("logout");
    let stored = stored_events(&app).await;
    assert!(
        stored.contains("signin_success") && stored.contains("recovery_used"),
        "{stored}"
    );
    for secret in &secrets {
        assert!(
            !stored.contains(secret.as_str()),
            "an event holds a secret: {secret}"
        );
        let part = &secret[..secret.len().min(16)];
        assert!(
            !stored.contains(part),
            "an event holds part of a secret: {part}"
        );
    }
    assert!(!stored.contains("127.0.0.1"), "no client address: {stored}");
}
on_both_backends!(stored_events_hold_no_secret);

async fn the_sweep_removes_what_expired(backend: Backend) {
    // The instance sweeps by itself: every second here (once an hour by default).
    let app = spawn_with(
        TestConfig::new(backend)
            .with("PASSKEY_IDP__EVENTS__RETENTION_DAYS", "1")
            .with("PASSKEY_IDP__EVENTS__SWEEP_INTERVAL_SECS", "1")
            .with("PASSKEY_IDP__KEYS__RELOAD_INTERVAL_SECS", "1"),
    )
    .await;
    app.sign_up("ray", &mut SoftAuthenticator::synced()).await;
    let user_id = json_of(&app, &["users", "show", "ray", "--json"])["id"]
        .as_str()
        .expect("id")
        .to_string();
    let recent = app
        .query(|c| {
            use passkey_idp::db::schema::security_events as e;
            e::table.count().get_result::<i64>(c).map_err(Into::into)
        })
        .await;
    assert!(
        recent >= 2,
        "the key made at start and the sign-up: {recent}"
    );
    let long_ago = (chrono::Utc::now() - chrono::Duration::days(3)).naive_utc();
    app.query(move |c| {
        use passkey_idp::db::schema::*;
        diesel::insert_into(security_events::table)
            .values((
                security_events::occurred_at.eq(long_ago),
                security_events::kind.eq("signin_failure"),
            ))
            .execute(c)?;
        diesel::insert_into(invites::table)
            .values((
                invites::token_sha256.eq("x"),
                invites::group_names.eq("[]"),
                invites::created_at.eq(long_ago),
                invites::expires_at.eq(long_ago),
            ))
            .execute(c)?;
        diesel::insert_into(recovery_links::table)
            .values((
                recovery_links::token_sha256.eq("y"),
                recovery_links::user_id.eq(&user_id),
                recovery_links::created_at.eq(long_ago),
                recovery_links::expires_at.eq(long_ago),
            ))
            .execute(c)?;
        diesel::insert_into(refresh_tokens::table)
            .values((
                refresh_tokens::token_sha256.eq("z"),
                refresh_tokens::family_id.eq("f"),
                refresh_tokens::client_id.eq("c"),
                refresh_tokens::user_id.eq(&user_id),
                refresh_tokens::scope.eq("openid"),
                refresh_tokens::auth_time.eq(0_i64),
                refresh_tokens::amr.eq("hwk"),
                refresh_tokens::created_at.eq(long_ago),
                refresh_tokens::expires_at.eq(long_ago),
            ))
            .execute(c)?;
        diesel::update(user_sessions::table)
            .set(user_sessions::expires_at.eq(long_ago))
            .execute(c)?;
        Ok(())
    })
    .await;
    let count = || {
        app.query(|c| {
            use passkey_idp::db::schema::*;
            Ok((
                security_events::table.count().get_result::<i64>(c)?,
                invites::table.count().get_result::<i64>(c)?,
                recovery_links::table.count().get_result::<i64>(c)?,
                refresh_tokens::table.count().get_result::<i64>(c)?,
                user_sessions::table.count().get_result::<i64>(c)?,
            ))
        })
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let mut left = count().await;
    while left != (recent, 0, 0, 0, 0) && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        left = count().await;
    }
    // The recent events stay; the rest is gone.
    assert_eq!(left, (recent, 0, 0, 0, 0));
}
on_both_backends!(the_sweep_removes_what_expired);
