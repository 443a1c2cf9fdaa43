//! The protocol edges an attacker reaches: each test names the hole it keeps closed.

use serde_json::{json, Value};

use crate::authenticator::{SoftAuthenticator, Tamper};
use crate::helpers::{spawn_app, spawn_with, Backend, TestApp, TestConfig};
use crate::oidc::{code, redeem, refresh, register, signed_in, userinfo, REDIRECT};
use crate::on_both_backends;

/// The `data-next` the login page is rendered with for `next` (sent percent-encoded).
async fn next_target(app: &TestApp, next_encoded: &str) -> String {
    let html = app
        .client
        .get(app.url(&format!("/login?next={next_encoded}")))
        .send()
        .await
        .expect("login page")
        .text()
        .await
        .expect("html");
    let start = html.find("data-next=\"").expect("data-next") + "data-next=\"".len();
    html[start..].split('"').next().expect("value").to_string()
}

/// Hole 1: An open redirect after sign-in through a tab, a line feed or a backslash in `next`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_is_a_path_on_this_site_only() {
    let app = spawn_app(Backend::Embedded).await;
    for evil in [
        "%2F%09%2Fevil.example",
        "%2F%0A%2Fevil.example",
        "%2F%0D%2Fevil.example",
        "%2F%5Cevil.example",
        "%2F%2Fevil.example",
        "https%3A%2F%2Fevil.example",
        "%2F%20%2Fevil.example",
    ] {
        assert_eq!(next_target(&app, evil).await, "/account", "{evil}");
    }
    assert_eq!(
        next_target(&app, "%2Faccount%3Fx%3D1").await,
        "/account?x=1"
    );
}

/// Hole 2: Two refreshes racing with one refresh token: one wins, and the family is revoked with
/// everything it issued, the winner's new refresh token and access token included.
async fn racing_refreshes_revoke_the_whole_family(backend: Backend) {
    let app = spawn_app(backend).await;
    let c = register(&app, "app", false, &[REDIRECT], &[]).await;
    let me = (c.id.clone(), c.secret.clone().expect("secret"));
    signed_in(&app, "alice").await;
    for round in 0..5 {
        let code = code(&app, &c.id).await;
        let tokens = redeem(&app, &c, &code).await.assert_ok().clone();
        let r1 = tokens["refresh_token"]
            .as_str()
            .expect("refresh")
            .to_string();
        let (a, b) = tokio::join!(
            refresh(&app, r1.clone(), me.clone()),
            refresh(&app, r1.clone(), me.clone())
        );
        let winners: Vec<&Value> = [&a, &b]
            .into_iter()
            .filter(|r| r.status == 200)
            .map(|r| &r.body)
            .collect();
        assert!(winners.len() <= 1, "round {round}: both won");
        for loser in [&a, &b].into_iter().filter(|r| r.status != 200) {
            assert_eq!(loser.error(), "invalid_grant", "round {round}");
        }
        if let Some(won) = winners.first() {
            let r2 = won["refresh_token"].as_str().expect("rotated").to_string();
            let access = won["access_token"].as_str().expect("access").to_string();
            let again = refresh(&app, r2, me.clone()).await;
            assert_eq!(
                again.error(),
                "invalid_grant",
                "round {round}: the winner's new refresh token"
            );
            userinfo(&app, &access)
                .await
                .assert_error(401, "invalid_token");
        }
    }
}
on_both_backends!(racing_refreshes_revoke_the_whole_family);

/// Hole 3: An assertion from a frame on another site (`crossOrigin: true`, `topOrigin`) is refused;
/// so is a registration from one.
async fn framed_ceremonies_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let framed = Tamper {
        top_origin: Some("https://evil.example".into()),
        ..Tamper::default()
    };
    let mut device = SoftAuthenticator::synced();
    let options = app.register_begin(json!({"username": "framed"})).await;
    let created = device
        .create(options.assert_ok(), &app.origin, &framed)
        .expect("create");
    app.register_finish(&created)
        .await
        .assert_error(400, "origin_mismatch");

    app.sign_up("alice", &mut device).await;
    let options = app.login_begin(json!({"username": "alice"})).await;
    let assertion = device
        .get(options.assert_ok(), &app.origin, &framed)
        .expect("get");
    app.login_finish(&assertion)
        .await
        .assert_error(401, "origin_mismatch");
}
on_both_backends!(framed_ceremonies_are_refused);

/// Hole 4: Bytes after authenticatorData, signed with it, are refused.
async fn trailing_authenticator_data_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut device = SoftAuthenticator::synced();
    app.sign_up("alice", &mut device).await;
    let options = app.login_begin(json!({"username": "alice"})).await;
    let assertion = device
        .get(
            options.assert_ok(),
            &app.origin,
            &Tamper {
                trailing_auth_data: vec![1, 2, 3, 4, 5],
                ..Tamper::default()
            },
        )
        .expect("get");
    app.login_finish(&assertion)
        .await
        .assert_error(400, "invalid_request");
    // The same device signs in when its data is exact.
    app.sign_in(Some("alice"), &mut device).await.assert_ok();
}
on_both_backends!(trailing_authenticator_data_is_refused);

/// Hole 5: A credential id over WebAuthn's 1,023 bytes is refused at registration.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlong_credential_ids_are_refused() {
    let app = spawn_app(Backend::Embedded).await;
    for (len, ok) in [(1024usize, false), (1100, false), (1023, true)] {
        let mut device = SoftAuthenticator::synced();
        let name = format!("long{len}");
        let options = app.register_begin(json!({ "username": name })).await;
        let created = device
            .create(
                options.assert_ok(),
                &app.origin,
                &Tamper {
                    credential_id_len: Some(len),
                    ..Tamper::default()
                },
            )
            .expect("create");
        let finish = app.register_finish(&created).await;
        if ok {
            finish.assert_ok();
        } else {
            finish.assert_error(400, "invalid_request");
        }
    }
}

/// Median time of `n` wrong recovery attempts for `username`.
async fn recovery_time(app: &TestApp, username: &str, n: usize) -> std::time::Duration {
    let mut times = Vec::new();
    for _ in 0..n {
        let start = std::time::Instant::now();
        app.post_json(
            "/recover",
            &json!({"username": username, "code": "aaaa-bbbb-cccc"}),
        )
        .await
        .assert_error(401, "invalid_recovery_code");
        times.push(start.elapsed());
    }
    times.sort();
    times[n / 2]
}

/// Hole 6: recovery is neither a username oracle nor a CPU amplifier: a wrong code costs one
/// argon2 verification for an unknown username and for one with ten unused codes alike (it
/// used to cost ten). Generous bounds: the old ratio was about 6.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovery_costs_the_same_for_every_username() {
    let app = spawn_with(
        TestConfig::new(Backend::Embedded)
            .with("PASSKEY_IDP__RATE_LIMIT__RECOVERY_PER_USER", "0")
            .with("PASSKEY_IDP__RATE_LIMIT__RECOVERY_PER_ADDRESS", "0"),
    )
    .await;
    let mut device = SoftAuthenticator::synced();
    app.sign_up("carol", &mut device).await;
    app.post_json("/account/recovery-codes", &json!({}))
        .await
        .assert_ok();
    let stored = app
        .query(|c| {
            let user = passkey_idp::db::users::find_by_username(c, "carol")?.expect("user");
            passkey_idp::db::recovery_codes::unused(c, &user.id)
        })
        .await;
    assert!(
        stored.iter().all(|c| c.lookup.is_some()),
        "every code has its lookup"
    );
    recovery_time(&app, "nobody", 2).await; // warm-up
    let unknown = recovery_time(&app, "nobody", 7).await;
    let known = recovery_time(&app, "carol", 7).await;
    assert!(
        known < unknown * 3 + std::time::Duration::from_millis(30),
        "known user {known:?} vs unknown {unknown:?}"
    );
}

/// The `aud` of an access token, decoded without verifying (the tests elsewhere verify).
fn audience_of(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice::<Value>(&bytes).expect("claims")["aud"].clone()
}

async fn client_with_audiences(
    app: &TestApp,
    id: &str,
    audiences: &[&str],
) -> crate::oidc::Registered {
    let (_, secret) = app
        .operator()
        .client_add(
            &app.app.oidc.clients,
            passkey_idp::oidc::clients::NewClient {
                client_id: id,
                name: None,
                redirect_uris: vec![REDIRECT.to_string()],
                post_logout_redirect_uris: vec![],
                public: false,
                scopes: None,
                id_token_alg: None,
                audiences: audiences.iter().map(|a| a.to_string()).collect(),
                allowed_groups: vec![],
            },
        )
        .await
        .expect("client");
    crate::oidc::Registered {
        id: id.to_string(),
        secret,
    }
}

/// Hole 7: each client's access tokens carry its own audiences (default: its client_id), so a
/// resource server can tell client A's token from client B's; the sign-in token keeps
/// `tokens.audience`, and `/userinfo` takes them all.
async fn access_tokens_carry_the_clients_audience(backend: Backend) {
    let app = spawn_app(backend).await;
    let plain = client_with_audiences(&app, "plain", &[]).await;
    let one = client_with_audiences(&app, "one", &["https://api.one.example"]).await;
    let two = client_with_audiences(&app, "two", &["https://a.example", "https://b.example"]).await;
    let signed_up = app.sign_up("alice", &mut SoftAuthenticator::synced()).await;
    assert_eq!(
        audience_of(signed_up["access_token"].as_str().expect("token")),
        json!("passkey-idp")
    );
    for (client, expected) in [
        (&plain, json!("plain")),
        (&one, json!("https://api.one.example")),
        (&two, json!(["https://a.example", "https://b.example"])),
    ] {
        let code = code(&app, &client.id).await;
        let tokens = redeem(&app, client, &code).await.assert_ok().clone();
        let access = tokens["access_token"].as_str().expect("access");
        assert_eq!(audience_of(access), expected, "{}", client.id);
        userinfo(&app, access).await.assert_ok();
    }
}
on_both_backends!(access_tokens_carry_the_clients_audience);

/// Hole 8: a cross-site GET to `/logout` with an ID token the attacker obtained for their own
/// account does not end the victim's session: the hint's `sid` is not the victim's session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_with_someone_elses_id_token_only_asks() {
    let victim = spawn_app(Backend::Postgres).await;
    let back = "http://localhost:9/bye";
    let c = register(&victim, "app", false, &[REDIRECT], &[back]).await;
    // The attacker, in their own browser on the same IdP, gets an ID token for themselves.
    let attacker = TestApp {
        client: crate::helpers::new_client(),
        address: victim.address.clone(),
        origin: victim.origin.clone(),
        app: victim.app.clone(),
    };
    signed_in(&attacker, "mallory").await;
    let code_m = code(&attacker, &c.id).await;
    let their_token = redeem(&attacker, &c, &code_m).await.assert_ok()["id_token"]
        .as_str()
        .expect("id token")
        .to_string();
    let claims = audience_free_claims(&their_token);
    assert!(claims["sid"].is_string(), "ID tokens carry sid: {claims}");

    signed_in(&victim, "alice").await;
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("id_token_hint", &their_token)
        .append_pair("post_logout_redirect_uri", back);
    let res = victim
        .client
        .get(victim.url(&format!("/logout?{}", q.finish())))
        .header("Sec-Fetch-Site", "cross-site")
        .send()
        .await
        .expect("logout");
    assert_eq!(res.status(), 200, "a question, not a redirect");
    assert!(res.text().await.expect("page").contains("Sign out of"));
    victim.get("/account/credentials").await.assert_ok();
}

/// The claims of a JWT, decoded without verifying.
fn audience_free_claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("payload");
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .expect("base64url"),
    )
    .expect("claims")
}

/// Flags the credential of `username` by replaying an old count.
async fn flag_as_cloned(app: &TestApp, username: &str, device: &mut SoftAuthenticator) {
    app.sign_in(Some(username), device).await.assert_ok();
    app.sign_in(Some(username), device).await.assert_ok();
    let options = app.login_begin(json!({ "username": username })).await;
    let old = Tamper {
        counter: Some(1),
        ..Tamper::default()
    };
    let assertion = device
        .get(options.assert_ok(), &app.origin, &old)
        .expect("get");
    app.login_finish(&assertion)
        .await
        .assert_error(401, "counter_regression");
}

/// Hole 10: a passkey flagged as possibly cloned no longer signs in (by default), so a clone
/// that jumped the counter cannot keep using it; `cloned_credentials = "flag"` keeps the old way.
async fn a_flagged_passkey_is_blocked(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut device = SoftAuthenticator::new();
    app.sign_up("ivan", &mut device).await;
    flag_as_cloned(&app, "ivan", &mut device).await;
    // A genuine, higher count from the same key: still refused.
    app.sign_in(Some("ivan"), &mut device)
        .await
        .assert_error(401, "counter_regression");

    let lenient = spawn_with(
        TestConfig::new(backend).with("PASSKEY_IDP__WEBAUTHN__CLONED_CREDENTIALS", "flag"),
    )
    .await;
    let mut device = SoftAuthenticator::new();
    lenient.sign_up("ivan", &mut device).await;
    flag_as_cloned(&lenient, "ivan", &mut device).await;
    lenient.sign_in(Some("ivan"), &mut device).await.assert_ok();
}
on_both_backends!(a_flagged_passkey_is_blocked);

/// Hole 12: the small ones. Query-string errors are JSON like every other error; pages carry
/// `Cross-Origin-Opener-Policy`; a repeated `/authorize` parameter is `invalid_request` at the
/// client; backup flags that contradict the stored credential fail a sign-in with 401.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_edges_answer_like_the_rest() {
    let app = spawn_app(Backend::Embedded).await;
    let res = app
        .client
        .get(app.url("/authorize/continue"))
        .send()
        .await
        .expect("continue");
    assert_eq!(res.status(), 400);
    assert!(res.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .starts_with("application/json"));
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"], "invalid_request");

    let login = app
        .client
        .get(app.url("/login"))
        .send()
        .await
        .expect("login");
    assert_eq!(login.headers()["cross-origin-opener-policy"], "same-origin");

    let c = register(&app, "app", true, &[REDIRECT], &[]).await;
    let query = format!("{}&state=second", crate::oidc::authorize_query(&c.id, &[]));
    let res = app
        .client
        .get(app.url(&format!("/authorize?{query}")))
        .send()
        .await
        .expect("authorize");
    let (base, params) = crate::oidc::location_params(&res);
    assert_eq!(base, REDIRECT);
    assert_eq!(
        crate::oidc::param(&params, "error"),
        Some("invalid_request")
    );

    let mut device = SoftAuthenticator::synced();
    app.sign_up("bea", &mut device).await;
    device.backup_eligible = false;
    device.backup_state = false;
    app.sign_in(Some("bea"), &mut device)
        .await
        .assert_error(401, "invalid_signature");
}

/// Hole 11: sensitive account actions need a fresh proof. With an old sign-in, adding a
/// passkey, new recovery codes and deleting a passkey answer 401 `reauthentication_required`;
/// after `/account/reauth` with one of the person's own passkeys they work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sensitive_actions_need_a_recent_sign_in() {
    let app = spawn_with(
        TestConfig::new(Backend::Postgres).with("PASSKEY_IDP__SESSION__REAUTH_MAX_AGE_SECS", "10"),
    )
    .await;
    let mut device = SoftAuthenticator::synced();
    app.sign_up("alice", &mut device).await;
    let second = app
        .post_json("/account/credentials/begin", &json!({}))
        .await;
    second.assert_ok(); // fresh: allowed
    tokio::time::sleep(std::time::Duration::from_secs(11)).await;
    for (method, path) in [
        ("POST", "/account/credentials/begin"),
        ("POST", "/account/recovery-codes"),
        ("DELETE", "/account/credentials/some-id"),
    ] {
        let req = match method {
            "DELETE" => app.client.delete(app.url(path)),
            _ => app.client.post(app.url(path)).json(&json!({})),
        };
        crate::helpers::reply(req.send().await.expect("request"))
            .await
            .assert_error(401, "reauthentication_required");
    }
    app.get("/account/credentials").await.assert_ok(); // reading needs no fresh proof

    // Someone else's passkey does not re-authenticate this session.
    let mut other = SoftAuthenticator::synced();
    let stranger = TestApp {
        client: crate::helpers::new_client(),
        address: app.address.clone(),
        origin: app.origin.clone(),
        app: app.app.clone(),
    };
    stranger.sign_up("mallory", &mut other).await;
    let options = app.post_json("/account/reauth/begin", &json!({})).await;
    let foreign = other.get(options.assert_ok(), &app.origin, &Tamper::default());
    assert!(
        foreign.is_err(),
        "mallory's device has no credential in alice's list"
    );

    let options = app.post_json("/account/reauth/begin", &json!({})).await;
    let assertion = device
        .get(options.assert_ok(), &app.origin, &Tamper::default())
        .expect("get");
    app.post_json("/account/reauth/finish", &assertion)
        .await
        .assert_ok();
    app.post_json("/account/recovery-codes", &json!({}))
        .await
        .assert_ok();
}

/// The cookies as an https deployment sets them (the test speaks plain HTTP to the listener;
/// the issuer is https): `__Host-` names, `Secure`, `HttpOnly`, `SameSite`, HSTS, and a new
/// session id at every sign-in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_issuer_gets_host_only_secure_cookies() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let config = TestConfig::new(Backend::Embedded)
        .with("PASSKEY_IDP_ISSUER", &format!("https://localhost:{port}"));
    let (settings, _, _) = crate::helpers::test_settings(&config, port);
    let application = passkey_idp::startup::Application::build_on(settings, listener)
        .await
        .expect("starts");
    tokio::spawn(application.run_until_stopped());
    let base = format!("http://127.0.0.1:{port}");
    let origin = format!("https://localhost:{port}");
    // No cookie jar: a client does not send Secure cookies over http, so the test carries them.
    let client = crate::helpers::new_client();
    let post = |path: &str, body: Value, cookie: Option<String>| {
        let mut req = client
            .post(format!("{base}{path}"))
            .header("Origin", &origin)
            .json(&body);
        if let Some(c) = cookie {
            req = req.header("Cookie", c);
        }
        req.send()
    };
    let cookie_named = |res: &reqwest::Response, name: &str| -> String {
        res.headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} cookie"))
            .to_string()
    };
    let pair = |set_cookie: &str| set_cookie.split(';').next().expect("pair").to_string();

    let mut device = SoftAuthenticator::synced();
    let begin = post(
        "/webauthn/register/begin",
        json!({"username": "alice"}),
        None,
    )
    .await
    .expect("begin");
    assert!(begin.headers()["strict-transport-security"]
        .to_str()
        .expect("ascii")
        .contains("max-age="));
    let ceremony = cookie_named(&begin, "__Host-pkidp_ceremony");
    for attribute in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(ceremony.contains(attribute), "{ceremony}");
    }
    assert!(!ceremony.contains("Domain="), "{ceremony}");
    let options: Value = begin.json().await.expect("options");
    let created = device
        .create(&options, &origin, &Tamper::default())
        .expect("create");
    let finish = post("/webauthn/register/finish", created, Some(pair(&ceremony)))
        .await
        .expect("finish");
    assert_eq!(finish.status(), 200);
    let first = cookie_named(&finish, "__Host-pkidp_session");
    for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(first.contains(attribute), "{first}");
    }

    // Signing in again, with the first session presented, gives a new session id.
    let begin = post("/webauthn/login/begin", json!({}), Some(pair(&first)))
        .await
        .expect("begin");
    let ceremony = cookie_named(&begin, "__Host-pkidp_ceremony");
    let options: Value = begin.json().await.expect("options");
    let assertion = device
        .get(&options, &origin, &Tamper::default())
        .expect("get");
    let cookies = format!("{}; {}", pair(&ceremony), pair(&first));
    let finish = post("/webauthn/login/finish", assertion, Some(cookies))
        .await
        .expect("finish");
    assert_eq!(finish.status(), 200);
    let second = cookie_named(&finish, "__Host-pkidp_session");
    assert_ne!(pair(&first), pair(&second), "a new session id at sign-in");
    let old = client
        .get(format!("{base}/account/credentials"))
        .header("Cookie", pair(&first))
        .send()
        .await
        .expect("account");
    assert_eq!(old.status(), 401, "the old session ended");
    let new = client
        .get(format!("{base}/account/credentials"))
        .header("Cookie", pair(&second))
        .send()
        .await
        .expect("account");
    assert_eq!(new.status(), 200);
}

/// `clients add --audience` (repeatable) sets the audiences; `clients list --json` shows them.
#[test]
fn the_command_line_sets_audiences() {
    let url = crate::helpers::create_pg_database();
    let keys = crate::helpers::scratch_dir("aud-keys").join("keys");
    let keys = keys.display().to_string();
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("PASSKEY_IDP_KEYS_DIR", keys.as_str()),
    ];
    let add = crate::helpers::run_cli(
        &[
            "clients",
            "add",
            "--client-id",
            "api",
            "--redirect-uri",
            "https://app.example/cb",
            "--audience",
            "https://api.example",
            "--audience",
            "https://files.example",
        ],
        &env,
    );
    assert!(
        add.status.success(),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );
    let list = crate::helpers::run_cli(&["clients", "list", "--json"], &env);
    let clients: Value = serde_json::from_slice(&list.stdout).expect("json");
    assert_eq!(
        clients[0]["audiences"],
        json!(["https://api.example", "https://files.example"])
    );
}
