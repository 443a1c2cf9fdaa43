//! Administration from the command line (`users`, `groups`, `events`), run as a separate
//! process against the database of a running server, on both backends: what each command
//! changes is seen by the server at once.

use std::process::Output;

use serde_json::{json, Value};

use crate::authenticator::{SoftAuthenticator, Tamper};
use crate::helpers::{new_client, spawn_app, spawn_with, Backend, Reply, TestApp, TestConfig};
use crate::oidc::{code, redeem, refresh, register, userinfo};
use crate::on_both_backends;

/// Runs `passkey-idp ARGS` on the app's database and issuer.
pub fn cli(app: &TestApp, args: &[&str]) -> Output {
    cli_command(app, args).output().expect("run passkey-idp")
}

/// The command [`cli`] runs, to be spawned with pipes of the test's choosing.
pub fn cli_command(app: &TestApp, args: &[&str]) -> std::process::Command {
    let db = match &app.app.settings.database.backend {
        passkey_idp::settings::DatabaseBackend::Postgres { url } => url.clone(),
        passkey_idp::settings::DatabaseBackend::Sqlite { path } => {
            format!("sqlite://{}", path.display())
        }
    };
    let keys = app.app.settings.keys.dir.display().to_string();
    crate::helpers::cli_command(
        args,
        &[
            ("DATABASE_URL", db.as_str()),
            ("PASSKEY_IDP_ISSUER", app.origin.as_str()),
            ("PASSKEY_IDP_KEYS_DIR", keys.as_str()),
        ],
    )
}

/// Runs a command that must succeed; returns its standard output.
#[track_caller]
pub fn ok(app: &TestApp, args: &[&str]) -> String {
    let out = cli(app, args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs a command that must fail with one line on stderr; returns that line.
#[track_caller]
pub fn refused(app: &TestApp, args: &[&str]) -> String {
    let out = cli(app, args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{args:?} should fail: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    stderr
}

pub fn json_of(app: &TestApp, args: &[&str]) -> Value {
    serde_json::from_str(&ok(app, args)).expect("--json prints JSON")
}

/// The same server with a fresh cookie jar: another browser.
pub fn other_browser(app: &TestApp) -> TestApp {
    TestApp {
        address: app.address.clone(),
        origin: app.origin.clone(),
        client: new_client(),
        app: app.app.clone(),
    }
}

async fn disable_ends_everything_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut phone = SoftAuthenticator::synced();
    app.sign_up("dana", &mut phone).await;
    let c = register(&app, "wiki", false, &[crate::oidc::REDIRECT], &[]).await;
    let tokens = redeem(&app, &c, &code(&app, &c.id).await).await;
    let tokens = tokens.assert_ok().clone();
    let access = tokens["access_token"].as_str().expect("at").to_string();
    let refresh_token = tokens["refresh_token"].as_str().expect("rt").to_string();
    let who = (c.id.clone(), c.secret.clone().expect("secret"));
    app.get("/account/credentials").await.assert_ok();
    userinfo(&app, &access).await.assert_ok();

    let out = ok(&app, &["users", "disable", "dana"]);
    assert!(out.contains("disabled dana"), "{out}");
    // The session, the refresh token and /userinfo end at once, on the running server.
    app.get("/account/credentials")
        .await
        .assert_error(401, "login_required");
    let r = refresh(&app, refresh_token.clone(), who.clone()).await;
    assert_eq!(r.error(), "invalid_grant", "{}", r.body);
    userinfo(&app, &access)
        .await
        .assert_error(401, "invalid_token");
    // A valid assertion of a disabled user: 403. An unknown passkey is still 401.
    let other = other_browser(&app);
    other
        .sign_in(Some("dana"), &mut phone)
        .await
        .assert_error(403, "account_disabled");
    other
        .sign_in(None, &mut unregistered_passkey(&app).await)
        .await
        .assert_error(401, "unknown_credential");
    let shown = json_of(&app, &["users", "show", "dana", "--json"]);
    assert_eq!(shown["status"], "disabled");
    assert_eq!(shown["sessions"], json!([]));

    // Enabled again: signing in works; what ended stays ended.
    ok(&app, &["users", "enable", "dana"]);
    let r = refresh(&app, refresh_token, who).await;
    assert_eq!(r.error(), "invalid_grant", "{}", r.body);
    app.get("/account/credentials")
        .await
        .assert_error(401, "login_required");
    other.sign_in(Some("dana"), &mut phone).await.assert_ok();
    other.get("/account/credentials").await.assert_ok();
    let kinds = event_kinds(&app, "dana");
    for kind in [
        "user_disabled",
        "user_enabled",
        "signin_success",
        "signin_failure",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }
}
on_both_backends!(disable_ends_everything_at_once);

/// An authenticator holding a passkey for this site that was never registered (its sign-up
/// was not finished).
pub async fn unregistered_passkey(app: &TestApp) -> SoftAuthenticator {
    let begin = other_browser(app)
        .register_begin(json!({ "username": "never-finished" }))
        .await;
    let mut device = SoftAuthenticator::synced();
    device
        .create(begin.assert_ok(), &app.origin, &Tamper::default())
        .expect("create");
    device
}

pub fn event_kinds(app: &TestApp, user: &str) -> Vec<String> {
    json_of(app, &["events", "--user", user, "--json"])
        .as_array()
        .expect("array")
        .iter()
        .map(|e| e["kind"].as_str().expect("kind").to_string())
        .collect()
}

async fn delete_frees_the_username_and_never_reuses_sub(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = app.sign_up("erin", &mut SoftAuthenticator::synced()).await;
    let old_sub = first["user"]["id"].as_str().expect("id").to_string();
    app.post_json("/account/recovery-codes", &json!({}))
        .await
        .assert_ok();

    let out = ok(&app, &["users", "delete", "erin"]);
    assert!(out.contains(&old_sub), "{out}");
    app.get("/account/credentials")
        .await
        .assert_error(401, "login_required");
    refused(&app, &["users", "show", "erin"]);
    let rows = app
        .query(move |c| {
            use diesel::prelude::*;
            use passkey_idp::db::schema::*;
            let creds: i64 = webauthn_credentials::table.count().get_result(c)?;
            let codes: i64 = recovery_codes::table.count().get_result(c)?;
            let sessions: i64 = user_sessions::table.count().get_result(c)?;
            Ok((creds, codes, sessions))
        })
        .await;
    assert_eq!(rows, (0, 0, 0), "everything of the user went");

    let again = other_browser(&app)
        .sign_up("erin", &mut SoftAuthenticator::synced())
        .await;
    let new_sub = again["user"]["id"].as_str().expect("id");
    assert_ne!(new_sub, old_sub, "a new account gets a new sub");
    // The stored events keep the deleted user's id.
    let kinds = event_kinds(&app, &old_sub);
    assert_eq!(kinds.first().map(String::as_str), Some("user_deleted"));
}
on_both_backends!(delete_frees_the_username_and_never_reuses_sub);

/// Begins a sign-up with `invite` and has a new authenticator answer it.
async fn invited_sign_up(app: &TestApp, username: &str, invite: &str) -> Result<Value, Reply> {
    let begin = app
        .register_begin(json!({ "username": username, "invite": invite }))
        .await;
    if !begin.status.is_success() {
        return Err(begin);
    }
    SoftAuthenticator::synced()
        .create(&begin.body, &app.origin, &Tamper::default())
        .map_err(|e| panic!("{e}"))
}

fn token_of(url: &str, key: &str) -> String {
    let url = url::Url::parse(url.trim()).expect("a URL");
    url.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
        .expect("the token")
}

async fn invites_are_single_use_and_carry_groups(backend: Backend) {
    let app =
        spawn_with(TestConfig::new(backend).with("PASSKEY_IDP__REGISTRATION__MODE", "invite"))
            .await;
    app.register_begin(json!({ "username": "walkin" }))
        .await
        .assert_error(403, "registration_closed");
    refused(&app, &["users", "invite", "--groups", "staff"]);
    ok(&app, &["groups", "add", "staff"]);
    let url = ok(
        &app,
        &["users", "invite", "--groups", "staff", "--ttl", "1h"],
    );
    assert!(
        url.starts_with(&format!("{}/register?invite=", app.origin)),
        "{url}"
    );
    let invite = token_of(&url, "invite");

    // Two sign-ups race on one invite: both may begin, exactly one finishes.
    let (a, b) = (other_browser(&app), other_browser(&app));
    let ra = invited_sign_up(&a, "fay", &invite).await.expect("begins");
    let rb = invited_sign_up(&b, "gus", &invite).await.expect("begins");
    let (fa, fb) = tokio::join!(a.register_finish(&ra), b.register_finish(&rb));
    let outcomes = [fa.status.as_u16(), fb.status.as_u16()];
    assert!(
        outcomes.contains(&200) && outcomes.contains(&403),
        "{outcomes:?}"
    );
    let loser = if fa.status == 403 { &fa } else { &fb };
    loser.assert_error(403, "registration_closed");
    let winner = if fa.status == 200 { "fay" } else { "gus" };
    let users = json_of(&app, &["users", "list", "--json"]);
    assert_eq!(users.as_array().expect("array").len(), 1, "{users}");
    assert_eq!(users[0]["username"], winner);
    assert_eq!(users[0]["groups"], json!(["staff"]));
    // Spent: refused at begin.
    let spent = invited_sign_up(&other_browser(&app), "hal", &invite).await;
    spent
        .expect_err("spent")
        .assert_error(403, "registration_closed");

    // A pinned username: only that name; the email is prefilled on the page.
    let url = ok(
        &app,
        &[
            "users",
            "invite",
            "--username",
            "ivy",
            "--email",
            "ivy@example.com",
        ],
    );
    let pinned = token_of(&url, "invite");
    let page = app.client.get(url.trim()).send().await.expect("page");
    let html = page.text().await.expect("html");
    assert!(
        html.contains("ivy@example.com") && html.contains("value=\"ivy\""),
        "{html}"
    );
    invited_sign_up(&other_browser(&app), "ivan", &pinned)
        .await
        .expect_err("another name")
        .assert_error(403, "registration_closed");
    let ivy = other_browser(&app);
    let r = invited_sign_up(&ivy, "ivy", &pinned).await.expect("begins");
    ivy.register_finish(&r).await.assert_ok();
    let shown = json_of(&app, &["users", "show", "ivy", "--json"]);
    assert_eq!(shown["email"], "ivy@example.com");
    let kinds: Vec<String> = json_of(&app, &["events", "--json"])
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["kind"].as_str().expect("kind").to_string())
        .collect();
    assert!(kinds.contains(&"invite_issued".to_string()), "{kinds:?}");
    assert!(kinds.contains(&"invite_used".to_string()), "{kinds:?}");
}
on_both_backends!(invites_are_single_use_and_carry_groups);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_registration_refuses_even_invites_and_hides_sign_up() {
    let app = spawn_with(
        TestConfig::new(Backend::Embedded).with("PASSKEY_IDP__REGISTRATION__MODE", "closed"),
    )
    .await;
    let url = ok(&app, &["users", "invite"]);
    let invite = token_of(&url, "invite");
    invited_sign_up(&app, "jody", &invite)
        .await
        .expect_err("closed")
        .assert_error(403, "registration_closed");
    app.register_begin(json!({ "username": "jody" }))
        .await
        .assert_error(403, "registration_closed");
    for path in ["/login", "/"] {
        let html = app.client.get(app.url(path)).send().await.expect("page");
        let html = html.text().await.expect("html");
        assert!(!html.contains("href=\"/register\""), "{path}: {html}");
    }
    let html = app.client.get(url.trim()).send().await.expect("page");
    let html = html.text().await.expect("html");
    assert!(!html.contains("id=\"register-form\""), "{html}");
}

async fn recovery_links_add_a_passkey_once(backend: Backend) {
    let app = spawn_app(backend).await;
    app.sign_up("kim", &mut SoftAuthenticator::synced()).await;
    let url = ok(&app, &["users", "recovery-link", "kim", "--ttl", "2h"]);
    assert!(
        url.starts_with(&format!("{}/recover?token=", app.origin)),
        "{url}"
    );
    let token = token_of(&url, "token");
    let person = other_browser(&app);
    // Opening the link spends nothing.
    let page = person.client.get(url.trim()).send().await.expect("page");
    assert_eq!(page.status(), 200);
    let r = person
        .post_json("/recover", &json!({ "token": token }))
        .await;
    assert_eq!(r.assert_ok()["next"], "add_passkey");
    // The restricted session can only add a passkey.
    person
        .get("/account/credentials")
        .await
        .assert_error(403, "login_required");
    let mut new_phone = SoftAuthenticator::synced();
    let options = person
        .post_json("/account/credentials/begin", &json!({}))
        .await;
    let created = new_phone
        .create(options.assert_ok(), &app.origin, &Tamper::default())
        .expect("create");
    person
        .post_json("/account/credentials/finish", &created)
        .await
        .assert_ok();
    other_browser(&app)
        .sign_in(Some("kim"), &mut new_phone)
        .await
        .assert_ok();
    // Spent.
    other_browser(&app)
        .post_json("/recover", &json!({ "token": token }))
        .await
        .assert_error(400, "invalid_recovery_code");
    other_browser(&app)
        .post_json("/recover", &json!({ "token": "not-a-link" }))
        .await
        .assert_error(400, "invalid_recovery_code");
    let kinds = event_kinds(&app, "kim");
    for kind in [
        "recovery_link_issued",
        "recovery_link_used",
        "passkey_added",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }
    // A disabled user's link is refused, and not issued.
    let url = ok(&app, &["users", "recovery-link", "kim"]);
    ok(&app, &["users", "disable", "kim"]);
    other_browser(&app)
        .post_json("/recover", &json!({ "token": token_of(&url, "token") }))
        .await
        .assert_error(403, "account_disabled");
    refused(&app, &["users", "recovery-link", "kim"]);
}
on_both_backends!(recovery_links_add_a_passkey_once);

/// A passkey removed by an operator ends the sessions it started (and their refresh tokens),
/// on the running server; sessions started with another passkey stay. Removed from the account
/// page, it ends the other sessions it started, not the one asking.
async fn a_removed_passkey_ends_the_sessions_it_started(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut phone = SoftAuthenticator::synced();
    app.sign_up("lena", &mut phone).await;
    let mut key = SoftAuthenticator::new();
    let options = app
        .post_json("/account/credentials/begin", &json!({}))
        .await;
    let created = key
        .create(options.assert_ok(), &app.origin, &Tamper::default())
        .expect("create");
    let key_id = app
        .post_json("/account/credentials/finish", &created)
        .await
        .assert_ok()["credential"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    // One browser signed in with the key (and holding a refresh token), one with the phone.
    let with_key = other_browser(&app);
    with_key.sign_in(Some("lena"), &mut key).await.assert_ok();
    let c = register(&app, "wiki", false, &[crate::oidc::REDIRECT], &[]).await;
    let tokens = redeem(&with_key, &c, &code(&with_key, &c.id).await).await;
    let refresh_token = tokens.assert_ok()["refresh_token"]
        .as_str()
        .expect("rt")
        .to_string();
    let with_phone = other_browser(&app);
    with_phone
        .sign_in(Some("lena"), &mut phone)
        .await
        .assert_ok();
    let out = cli(&app, &["users", "passkey-remove", "lena", &key_id]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    with_key
        .get("/account/credentials")
        .await
        .assert_error(401, "login_required");
    let who = (c.id.clone(), c.secret.clone().expect("secret"));
    let r = refresh(&with_key, refresh_token, who).await;
    assert_eq!(r.error(), "invalid_grant", "{}", r.body);
    with_phone.get("/account/credentials").await.assert_ok();
    app.get("/account/credentials").await.assert_ok();

    // From the account page: a second key signs in elsewhere, then is deleted by the phone's
    // session (right after its sign-in, so no re-authentication is asked).
    let mut key2 = SoftAuthenticator::new();
    let options = with_phone
        .post_json("/account/credentials/begin", &json!({}))
        .await;
    let created = key2
        .create(options.assert_ok(), &app.origin, &Tamper::default())
        .expect("create");
    let key2_id = with_phone
        .post_json("/account/credentials/finish", &created)
        .await
        .assert_ok()["credential"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let elsewhere = other_browser(&app);
    elsewhere.sign_in(Some("lena"), &mut key2).await.assert_ok();
    let deleted = reply_of(
        with_phone
            .client
            .delete(with_phone.url(&format!("/account/credentials/{key2_id}")))
            .send()
            .await
            .expect("delete"),
    )
    .await;
    deleted.assert_ok();
    elsewhere
        .get("/account/credentials")
        .await
        .assert_error(401, "login_required");
    with_phone.get("/account/credentials").await.assert_ok();
}
on_both_backends!(a_removed_passkey_ends_the_sessions_it_started);

async fn reply_of(res: reqwest::Response) -> Reply {
    crate::helpers::reply(res).await
}

/// A new recovery link voids the person's older unused ones (the command says so), and a
/// recovery session is marked as one in the session lists.
async fn only_the_newest_recovery_link_works(backend: Backend) {
    let app = spawn_app(backend).await;
    app.sign_up("omar", &mut SoftAuthenticator::synced()).await;
    let first = ok(&app, &["users", "recovery-link", "omar"]);
    let out = cli(&app, &["users", "recovery-link", "omar"]);
    assert!(out.status.success());
    let second = String::from_utf8_lossy(&out.stdout).into_owned();
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(said.contains("older recovery link"), "{said}");
    let person = other_browser(&app);
    person
        .post_json("/recover", &json!({ "token": token_of(&first, "token") }))
        .await
        .assert_error(400, "invalid_recovery_code");
    person
        .post_json("/recover", &json!({ "token": token_of(&second, "token") }))
        .await
        .assert_ok();
    let sessions = app.get("/account/sessions").await;
    let list = sessions.assert_ok().as_array().expect("list").clone();
    assert_eq!(list.len(), 2, "{list:?}");
    for s in &list {
        // Marked only when it is one: other sessions keep the documented shape.
        let recovery = !s["current"].as_bool().expect("current");
        assert_eq!(s.get("recovery"), recovery.then_some(&json!(true)), "{s}");
    }
    let shown = json_of(&app, &["users", "show", "omar", "--json"]);
    let recovery: Vec<bool> = shown["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .map(|s| s.get("recovery").is_some_and(|r| r == &json!(true)))
        .collect();
    assert_eq!(recovery.iter().filter(|r| **r).count(), 1, "{shown}");
    let text = ok(&app, &["users", "show", "omar"]);
    assert!(text.contains("(recovery)"), "{text}");
}
on_both_backends!(only_the_newest_recovery_link_works);
