//! The `users`, `groups` and `events` commands' output and refusals, support actions on one
//! passkey, and groups at the door of a relying service (through the `openidconnect` library).

use diesel::prelude::*;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};
use serde_json::{json, Value};

use crate::admin::{cli, cli_command, json_of, ok, other_browser, refused};
use crate::authenticator::SoftAuthenticator;
use crate::helpers::{sorted_keys, spawn_app, verify_independently, Backend, TestApp};
use crate::oidc::{code, location_params, param, redeem, refresh, register, userinfo, REDIRECT};
use crate::on_both_backends;

async fn commands_print_what_scripts_rely_on(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut phone = SoftAuthenticator::synced();
    let signed_up = app.sign_up("lee", &mut phone).await;
    let passkey = signed_up["credential"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    app.sign_up_other("max").await;
    ok(&app, &["groups", "add", "ops"]);
    refused(&app, &["groups", "add", "ops"]);
    refused(&app, &["groups", "add", "no spaces"]);
    ok(&app, &["users", "add-to-group", "lee", "ops"]);
    refused(&app, &["users", "add-to-group", "lee", "nosuchgroup"]);
    refused(&app, &["users", "add-to-group", "nobody", "ops"]);

    let users = json_of(&app, &["users", "list", "--json"]);
    let lee = &users.as_array().expect("array")[0];
    let keys = sorted_keys(lee);
    let mut expected = vec![
        "created",
        "email",
        "groups",
        "id",
        "last_sign_in",
        "passkeys",
        "status",
        "username",
    ];
    expected.sort_unstable();
    assert_eq!(keys, expected);
    assert_eq!(lee["username"], "lee");
    assert_eq!(lee["status"], "active");
    assert_eq!(lee["groups"], json!(["ops"]));
    assert_eq!(lee["passkeys"], 1);
    assert!(lee["created"].as_str().expect("time").ends_with('Z'));
    assert_eq!(
        lee["last_sign_in"],
        Value::Null,
        "signed up, never signed in"
    );
    let ops = json_of(&app, &["users", "list", "--group", "ops", "--json"]);
    assert_eq!(ops.as_array().expect("array").len(), 1);

    let shown = json_of(&app, &["users", "show", "lee", "--json"]);
    assert_eq!(shown["passkeys"][0]["id"], passkey.as_str());
    assert_eq!(shown["passkeys"][0]["clone_suspected"], false);
    assert_eq!(shown["sessions"].as_array().expect("sessions").len(), 1);
    for key in ["created", "last_seen", "browser"] {
        assert!(shown["sessions"][0].get(key).is_some(), "{key}: {shown}");
    }
    let by_id = json_of(
        &app,
        &["users", "show", shown["id"].as_str().expect("id"), "--json"],
    );
    assert_eq!(by_id["username"], "lee");
    let text = ok(&app, &["users", "list"]);
    assert!(text.contains("lee") && text.contains("max"), "{text}");

    // Support actions on one passkey: only the user's own.
    let flag = passkey.clone();
    app.query(move |c| {
        use passkey_idp::db::schema::webauthn_credentials as creds;
        diesel::update(creds::table.filter(creds::credential_id.eq(flag)))
            .set(creds::clone_suspected.eq(true))
            .execute(c)?;
        Ok(())
    })
    .await;
    let other = other_browser(&app);
    other
        .sign_in(Some("lee"), &mut phone)
        .await
        .assert_error(401, "counter_regression");
    refused(&app, &["users", "passkey-unflag", "max", &passkey]);
    ok(&app, &["users", "passkey-unflag", "lee", &passkey]);
    other.sign_in(Some("lee"), &mut phone).await.assert_ok();
    refused(&app, &["users", "passkey-remove", "max", &passkey]);
    ok(&app, &["users", "passkey-remove", "lee", &passkey]);
    assert_eq!(
        json_of(&app, &["users", "show", "lee", "--json"])["passkeys"],
        json!([])
    );

    ok(&app, &["users", "remove-from-group", "lee", "ops"]);
    refused(&app, &["users", "remove-from-group", "lee", "ops"]);
    ok(&app, &["users", "add-to-group", "max", "ops"]);
    let groups = json_of(&app, &["groups", "list", "--json"]);
    assert_eq!(groups, json!([{ "name": "ops", "members": 1 }]));
    ok(&app, &["groups", "remove", "ops"]);
    assert_eq!(
        json_of(&app, &["users", "show", "max", "--json"])["groups"],
        json!([])
    );
    refused(&app, &["groups", "remove", "ops"]);

    // Events: newest first, the documented fields, filtered by user and time.
    let events = json_of(&app, &["events", "--since", "1h", "--json"]);
    let first = &events[0];
    let keys = sorted_keys(first);
    assert_eq!(
        keys,
        [
            "actor",
            "client",
            "credential",
            "detail",
            "kind",
            "object",
            "request_id",
            "time",
            "user",
            "username"
        ]
    );
    // The last change: the group removed, by the operator at the command line.
    assert_eq!(first["kind"], "group_removed");
    assert_eq!(first["object"], "ops");
    assert!(first["actor"].as_str().expect("actor").starts_with("cli:"));
    let times: Vec<&str> = events
        .as_array()
        .expect("array")
        .iter()
        .map(|e| e["time"].as_str().expect("time"))
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    let signins = json_of(&app, &["events", "--user", "lee", "--json"]);
    let success = signins
        .as_array()
        .expect("array")
        .iter()
        .find(|e| e["kind"] == "signin_success")
        .expect("a sign-in");
    assert_eq!(success["credential"], passkey.as_str());
    assert!(
        success["request_id"]
            .as_str()
            .is_some_and(|r| r.len() == 16),
        "{success}"
    );
    assert_eq!(
        event_count(&app, &["--user", "max"]),
        2,
        "max's sign-up, and joining ops"
    );
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(event_count(&app, &["--user", "max", "--since", "1s"]), 0);
    refused(&app, &["events", "--since", "soon"]);
    refused(&app, &["users", "disable", "nobody"]);

    // A key change is stored too.
    ok(&app, &["keys", "generate"]);
    let kinds = json_of(&app, &["events", "--json"]);
    assert_eq!(kinds[0]["kind"], "key_changed");
}
on_both_backends!(commands_print_what_scripts_rely_on);

/// A second user signed up in a cookie jar of its own.
trait OtherUser {
    async fn sign_up_other(&self, username: &str);
}

impl OtherUser for TestApp {
    async fn sign_up_other(&self, username: &str) {
        other_browser(self)
            .sign_up(username, &mut SoftAuthenticator::synced())
            .await;
    }
}

/// `allowed_groups`: after signing in, a person outside the client's groups goes back with
/// `access_denied`, `state` and `iss`; a member gets a code, and the ID token (checked by
/// the library) and /userinfo carry the `groups` claim.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_groups_are_enforced_and_groups_reach_the_tokens() {
    let app = spawn_app(Backend::Postgres).await;
    ok(&app, &["groups", "add", "grafana-admins"]);
    let out = cli(
        &app,
        &[
            "clients",
            "add",
            "--client-id",
            "grafana",
            "--redirect-uri",
            REDIRECT,
            "--allowed-groups",
            "grafana-admins,sre",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let secret = stdout.lines().next().expect("secret").to_string();

    let http = openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .expect("http");
    let metadata = CoreProviderMetadata::discover_async(
        IssuerUrl::new(app.origin.clone()).expect("issuer"),
        &http,
    )
    .await
    .expect("discovery");
    assert!(metadata
        .scopes_supported()
        .expect("scopes")
        .iter()
        .any(|s| s.as_str() == "groups"));
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new("grafana".into()),
        Some(ClientSecret::new(secret)),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).expect("redirect"));
    let start = || {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("groups".into()))
            .add_scope(Scope::new("offline_access".into()))
            .set_pkce_challenge(challenge)
            .url();
        // The test's cookie jars hold the session for the server's address.
        let url = url.to_string().replacen(&app.origin, &app.address, 1);
        (url, state, nonce, verifier)
    };

    // An outsider, signed in: sent back with access_denied (never before signing in).
    let outsider = other_browser(&app);
    let (url, state, _, _) = start();
    let res = outsider.client.get(&url).send().await.expect("authorize");
    let (base, _) = location_params(&res);
    assert!(
        base.ends_with("/login"),
        "asked to sign in first, at {base}"
    );
    outsider
        .sign_up("nat", &mut SoftAuthenticator::synced())
        .await;
    let res = outsider.client.get(&url).send().await.expect("authorize");
    let (base, params) = location_params(&res);
    assert_eq!(base, REDIRECT);
    assert_eq!(param(&params, "error"), Some("access_denied"));
    assert_eq!(param(&params, "state"), Some(state.secret().as_str()));
    assert_eq!(param(&params, "iss"), Some(app.origin.as_str()));
    assert_eq!(param(&params, "code"), None);

    // A member: a code, tokens, and the groups claim.
    let member = other_browser(&app);
    member
        .sign_up("oli", &mut SoftAuthenticator::synced())
        .await;
    ok(&app, &["users", "add-to-group", "oli", "grafana-admins"]);
    let (url, state, nonce, verifier) = start();
    let res = member.client.get(&url).send().await.expect("authorize");
    let (_, params) = location_params(&res);
    assert_eq!(param(&params, "state"), Some(state.secret().as_str()));
    let code = param(&params, "code").expect("a code").to_string();
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .expect("token endpoint")
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("the library redeems the code");
    let id_token = tokens.id_token().expect("an ID token");
    id_token
        .claims(&client.id_token_verifier(), &nonce)
        .expect("the library accepts the ID token");
    let jwks: Value = reqwest::get(app.url("/.well-known/jwks.json"))
        .await
        .expect("jwks")
        .json()
        .await
        .expect("json");
    let claims = verify_independently(&id_token.to_string(), &jwks).expect("valid");
    assert_eq!(claims["groups"], json!(["grafana-admins"]));
    let access = tokens.access_token().secret().clone();
    assert_eq!(
        userinfo(&app, &access).await.assert_ok()["groups"],
        json!(["grafana-admins"])
    );
    // Removed from the group: refused from the next sign-in on, and refresh stops too.
    let refresh_token = tokens.refresh_token().expect("a refresh token").clone();
    ok(
        &app,
        &["users", "remove-from-group", "oli", "grafana-admins"],
    );
    let refreshed = client
        .exchange_refresh_token(&refresh_token)
        .expect("token endpoint")
        .request_async(&http)
        .await;
    match refreshed {
        Err(openidconnect::RequestTokenError::ServerResponse(e)) => assert_eq!(
            e.error().to_string(),
            "invalid_grant",
            "a refresh after leaving the group is refused"
        ),
        other => panic!("expected invalid_grant, got {other:?}"),
    }
    let (url, _, _, _) = start();
    let res = member.client.get(&url).send().await.expect("authorize");
    assert_eq!(
        param(&location_params(&res).1, "error"),
        Some("access_denied")
    );
}

fn event_count(app: &TestApp, filter: &[&str]) -> usize {
    let mut args = vec!["events", "--json"];
    args.extend_from_slice(filter);
    json_of(app, &args).as_array().map_or(0, Vec::len)
}

/// The exit code of `passkey-idp ARGS`; when it is not 0, stderr ends with the reason (the
/// keys commands log the refusal before it).
#[track_caller]
fn exit_code(app: &TestApp, args: &[&str]) -> i32 {
    let out = cli(app, args);
    let code = out.status.code().expect("exited, not killed by a signal");
    if code != 0 {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = stderr.trim_end().lines().last().unwrap_or("");
        assert!(last.starts_with("passkey-idp: "), "{args:?}: {stderr}");
    }
    code
}

const CLIENT: &[&str] = &[
    "clients",
    "add",
    "--client-id",
    "app",
    "--redirect-uri",
    REDIRECT,
];

fn with<'a>(args: &[&'a str], more: &[&'a str]) -> Vec<&'a str> {
    args.iter().chain(more).copied().collect()
}

/// 2 usage, 3 not found, 4 already exists or conflict (docs/api.md).
async fn exit_codes_say_what_went_wrong(backend: Backend) {
    let app = spawn_app(backend).await;
    app.sign_up("lee", &mut SoftAuthenticator::synced()).await;
    ok(&app, &["groups", "add", "ops"]);
    ok(&app, CLIENT);
    for args in [
        &["users", "frobnicate"][..],
        &["groups", "add", "no spaces"],
        &["users", "update", "lee", "--email", "not-an-address"],
        &["users", "recovery-link", "lee", "--ttl", "100d"],
        &[
            "clients",
            "add",
            "--client-id",
            "bad id",
            "--redirect-uri",
            REDIRECT,
        ],
    ] {
        assert_eq!(exit_code(&app, args), 2, "{args:?}");
    }
    for args in [
        &["users", "show", "nobody"][..],
        &["users", "disable", "nobody"],
        &["users", "sessions-end", "nobody"],
        &["users", "update", "nobody", "--email", ""],
        &["users", "add-to-group", "lee", "nosuchgroup"],
        &["users", "remove-from-group", "lee", "ops"],
        &["users", "passkey-remove", "lee", "bm8tc3VjaC1wYXNza2V5"],
        &["groups", "remove", "nosuchgroup"],
        &["clients", "remove", "nobody"],
        &["keys", "revoke", "no-such-kid"],
    ] {
        assert_eq!(exit_code(&app, args), 3, "{args:?}");
    }
    ok(&app, &["users", "add-to-group", "lee", "ops"]);
    for args in [
        &["groups", "add", "ops"][..],
        &["users", "add-to-group", "lee", "ops"],
        CLIENT,
    ] {
        assert_eq!(exit_code(&app, args), 4, "{args:?}");
    }
    // Removing what the flag allows to be missing still needs the user to exist: a typo in a
    // name is not "nothing to do".
    let args = ["users", "passkey-remove", "nobody", "x", "--if-exists"];
    assert_eq!(exit_code(&app, &args), 3);
}
on_both_backends!(exit_codes_say_what_went_wrong);

/// `--if-missing` and `--if-exists`: run twice, a create or a removal succeeds both times, and
/// says with `--json` what it found.
async fn if_missing_and_if_exists_make_commands_idempotent(backend: Backend) {
    let app = spawn_app(backend).await;
    let signed_up = app.sign_up("lee", &mut SoftAuthenticator::synced()).await;
    let passkey = signed_up["credential"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let mut secrets = Vec::new();
    for _ in 0..2 {
        let group = json_of(&app, &["groups", "add", "ops", "--if-missing", "--json"]);
        assert_eq!(group, json!({ "name": "ops" }));
        let args = [
            "users",
            "add-to-group",
            "lee",
            "ops",
            "--if-missing",
            "--json",
        ];
        assert_eq!(json_of(&app, &args)["groups"], json!(["ops"]));
        let client = json_of(&app, &with(CLIENT, &["--if-missing", "--json"]));
        assert_eq!(client["client_id"], "app");
        secrets.push(client["client_secret"].clone());
    }
    assert!(secrets[0].is_string(), "a new client's secret: {secrets:?}");
    assert_eq!(secrets[1], Value::Null, "a secret is shown once");

    let lee = json_of(&app, &["users", "show", "lee", "--json"]);
    let removals: [(Vec<&str>, &str); 4] = [
        (
            vec!["users", "passkey-remove", "lee", passkey.as_str()],
            passkey.as_str(),
        ),
        (vec!["groups", "remove", "ops"], "ops"),
        (vec!["clients", "remove", "app"], "app"),
        (
            vec!["users", "delete", "lee"],
            lee["id"].as_str().expect("id"),
        ),
    ];
    let args = [
        "users",
        "remove-from-group",
        "lee",
        "ops",
        "--if-exists",
        "--json",
    ];
    for _ in 0..2 {
        assert_eq!(json_of(&app, &args)["groups"], json!([]));
    }
    for (args, id) in removals {
        let args = with(&args, &["--if-exists", "--json"]);
        assert_eq!(json_of(&app, &args), json!({ "removed": id }), "{args:?}");
        assert_eq!(json_of(&app, &args), json!({ "removed": null }), "{args:?}");
        assert_eq!(exit_code(&app, &args[..args.len() - 2]), 3, "{args:?}");
    }
}
on_both_backends!(if_missing_and_if_exists_make_commands_idempotent);

/// A changing command with `--json` prints what it made or changed: the user as `users show`
/// shows them, a link, a group, a client with its secret, a key.
async fn changing_commands_print_json(backend: Backend) {
    let app = spawn_app(backend).await;
    app.sign_up("lee", &mut SoftAuthenticator::synced()).await;
    let shown = json_of(&app, &["users", "show", "lee", "--json"]);
    let disabled = json_of(&app, &["users", "disable", "lee", "--json"]);
    assert_eq!(sorted_keys(&disabled), sorted_keys(&shown));
    assert_eq!(disabled["status"], "disabled");
    assert_eq!(disabled["sessions"], json!([]));
    let enabled = json_of(&app, &["users", "enable", "lee", "--json"]);
    assert_eq!(enabled["status"], "active");
    let args = [
        "users",
        "update",
        "lee",
        "--email",
        "lee@example.com",
        "--json",
    ];
    assert_eq!(json_of(&app, &args)["email"], "lee@example.com");
    let args = ["users", "update", "lee", "--email", "", "--json"];
    assert_eq!(json_of(&app, &args)["email"], Value::Null);
    let shown = json_of(&app, &["users", "show", "lee", "--json"]);
    assert_eq!(shown["email"], Value::Null, "cleared in the database");

    for (args, path) in [
        (
            &["users", "recovery-link", "lee", "--json"][..],
            "/recover?token=",
        ),
        (&["users", "invite", "--json"], "/register?invite="),
    ] {
        let link = json_of(&app, args);
        assert_eq!(sorted_keys(&link), ["expires", "url"]);
        let url = link["url"].as_str().expect("url");
        assert!(url.starts_with(&format!("{}{path}", app.origin)), "{url}");
        assert!(link["expires"].as_str().expect("time").ends_with('Z'));
    }
    let group = json_of(&app, &["groups", "add", "ops", "--json"]);
    assert_eq!(group, json!({ "name": "ops" }));
    let client = json_of(&app, &with(CLIENT, &["--json"]));
    assert_eq!(client["client_id"], "app");
    assert_eq!(client["public"], false);
    assert!(client["client_secret"]
        .as_str()
        .is_some_and(|s| s.len() >= 43));
    let key = json_of(&app, &["keys", "generate", "--alg", "EdDSA", "--json"]);
    assert_eq!(
        (&key["alg"], &key["state"]),
        (&json!("EdDSA"), &json!("next"))
    );
    let kid = key["kid"].as_str().expect("kid");
    let revoked = json_of(&app, &["keys", "revoke", kid, "--json"]);
    assert_eq!(revoked["revoked"]["state"], "revoked");
    let removed = json_of(&app, &["users", "delete", "lee", "--json"]);
    assert_eq!(removed, json!({ "removed": shown["id"] }));
}
on_both_backends!(changing_commands_print_json);

/// `users sessions-end` signs a person out of every browser and service at once, on the
/// running server, without disabling them.
async fn sessions_end_signs_a_person_out_everywhere(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut phone = SoftAuthenticator::synced();
    let signed_up = app.sign_up("dana", &mut phone).await;
    let c = register(&app, "wiki", false, &[REDIRECT], &[]).await;
    let tokens = redeem(&app, &c, &code(&app, &c.id).await).await;
    let refresh_token = tokens.assert_ok()["refresh_token"]
        .as_str()
        .expect("rt")
        .to_string();
    let laptop = other_browser(&app);
    laptop.sign_in(Some("dana"), &mut phone).await.assert_ok();
    app.get("/account/credentials").await.assert_ok();

    let ended = json_of(&app, &["users", "sessions-end", "dana", "--json"]);
    assert_eq!(
        ended,
        json!({ "user": signed_up["user"]["id"], "ended": 2 })
    );
    for browser in [&app, &laptop] {
        browser
            .get("/account/credentials")
            .await
            .assert_error(401, "login_required");
    }
    let who = (c.id.clone(), c.secret.clone().expect("secret"));
    let r = refresh(&app, refresh_token, who).await;
    assert_eq!(r.error(), "invalid_grant", "{}", r.body);
    // Not disabled: they sign in again, and nothing is left to end.
    laptop.sign_in(Some("dana"), &mut phone).await.assert_ok();
    laptop.get("/account/credentials").await.assert_ok();
    let text = ok(&app, &["users", "sessions-end", "dana"]);
    assert!(text.starts_with("ended 1 session of dana"), "{text}");
}
on_both_backends!(sessions_end_signs_a_person_out_everywhere);

/// `passkey-idp events | head -1`: the reader goes away after one line; the command ends with
/// exit 0 and says nothing (it once panicked: "failed printing to stdout", exit 101).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_pipe_ends_a_command_quietly() {
    use std::io::BufRead;
    let app = spawn_app(Backend::Embedded).await;
    // Far more than a pipe holds (64 KiB), so the command is still writing when it closes.
    app.query(|c| {
        use passkey_idp::db::schema::{security_events, users};
        passkey_idp::db::transaction(c, |c| {
            let now = chrono::Utc::now().naive_utc();
            for i in 0..1500 {
                diesel::insert_into(users::table)
                    .values((
                        users::id.eq(format!("{i:036}")),
                        users::username.eq(format!("person-{i}")),
                        users::display_name.eq("Person"),
                        users::user_handle.eq(format!("{i:032}").into_bytes()),
                        users::created_at.eq(now),
                    ))
                    .execute(c)?;
                diesel::insert_into(security_events::table)
                    .values((
                        security_events::occurred_at.eq(now),
                        security_events::kind.eq("signin_failure"),
                        security_events::user_id.eq(format!("{i:036}")),
                    ))
                    .execute(c)?;
            }
            Ok(())
        })
    })
    .await;
    for args in [
        &["events"][..],
        &["events", "--json"],
        &["users", "list"],
        &["users", "list", "--json"],
    ] {
        let all = cli(&app, args).stdout.len();
        assert!(
            all > 2 * 65_536,
            "{args:?} prints more than a pipe holds: {all} bytes"
        );
        let mut child = cli_command(&app, args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn passkey-idp");
        let mut stdout = std::io::BufReader::new(child.stdout.take().expect("stdout"));
        let mut first = String::new();
        stdout.read_line(&mut first).expect("a first line");
        assert!(!first.is_empty(), "{args:?}");
        drop(stdout);
        let out = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?} said: {stderr}");
    }
}
