//! The account JSON endpoints, recovery codes, sign-out and the pages' web security, over HTTP.

use serde_json::{json, Value};

use crate::authenticator::{SoftAuthenticator, Tamper};
use crate::helpers::{new_client, spawn_app, spawn_with, Backend, TestApp, TestConfig};
use crate::on_both_backends;

async fn get_json(app: &TestApp, path: &str) -> crate::helpers::Reply {
    app.get(path).await
}

async fn add_passkey(app: &TestApp, device: &mut SoftAuthenticator) -> crate::helpers::Reply {
    let options = app
        .post_json("/account/credentials/begin", &json!({}))
        .await;
    let options = options.assert_ok().clone();
    let response = device
        .create(&options, &app.origin, &Tamper::default())
        .expect("create");
    app.post_json("/account/credentials/finish", &response)
        .await
}

async fn manage_passkeys(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut phone = SoftAuthenticator::synced();
    let first = app.sign_up("alice", &mut phone).await;
    let first_id = first["credential"]["id"].as_str().expect("id").to_string();

    let list = get_json(&app, "/account/credentials").await;
    let creds = list.assert_ok().as_array().expect("a list").clone();
    assert_eq!(creds.len(), 1);
    for field in [
        "id",
        "name",
        "created",
        "last_used",
        "synced",
        "aaguid",
        "authenticator",
        "clone_suspected",
    ] {
        assert!(creds[0].get(field).is_some(), "field {field}: {}", creds[0]);
    }
    assert_eq!(creds[0]["authenticator"]["name"], "Passkey");

    // The last passkey cannot be deleted.
    let reply = reply_of(
        app.client
            .delete(app.url(&format!("/account/credentials/{first_id}"))),
    )
    .await;
    reply.assert_error(409, "last_credential");

    // Add a second one: excludeCredentials lists the first.
    let options = app
        .post_json("/account/credentials/begin", &json!({}))
        .await
        .assert_ok()
        .clone();
    let excluded: Vec<&str> = options["publicKey"]["excludeCredentials"]
        .as_array()
        .expect("excludeCredentials")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(excluded, vec![first_id.as_str()]);
    assert!(
        phone
            .create(&options, &app.origin, &Tamper::default())
            .is_err(),
        "the same authenticator refuses"
    );
    let mut key = SoftAuthenticator::new();
    let added = add_passkey(&app, &mut key).await;
    let second_id = added.assert_ok()["credential"]["id"]
        .as_str()
        .expect("id")
        .to_string();

    // Rename, with the usual validation.
    let rename = |id: String, name: Value| {
        let req = app
            .client
            .patch(app.url(&format!("/account/credentials/{id}")))
            .json(&json!({ "name": name }));
        reply_of(req)
    };
    rename(second_id.clone(), json!("  Blue key  "))
        .await
        .assert_ok();
    rename(second_id.clone(), json!(""))
        .await
        .assert_error(400, "invalid_request");
    rename("nope".into(), json!("x"))
        .await
        .assert_error(404, "not_found");
    let creds = get_json(&app, "/account/credentials")
        .await
        .assert_ok()
        .clone();
    assert!(creds
        .as_array()
        .expect("list")
        .iter()
        .any(|c| c["name"] == "Blue key"));

    // Now the first can go; the second is then the last.
    reply_of(
        app.client
            .delete(app.url(&format!("/account/credentials/{first_id}"))),
    )
    .await
    .assert_ok();
    reply_of(
        app.client
            .delete(app.url(&format!("/account/credentials/{second_id}"))),
    )
    .await
    .assert_error(409, "last_credential");
    // The remaining passkey signs in.
    app.sign_in(Some("alice"), &mut key).await.assert_ok();

    // Another user cannot touch alice's passkeys.
    let mallory = TestApp {
        client: new_client(),
        ..clone_app(&app)
    };
    mallory
        .sign_up("mallory", &mut SoftAuthenticator::new())
        .await;
    reply_of(
        mallory
            .client
            .patch(mallory.url(&format!("/account/credentials/{second_id}")))
            .json(&json!({"name": "x"})),
    )
    .await
    .assert_error(404, "not_found");
}
on_both_backends!(manage_passkeys);

fn clone_app(app: &TestApp) -> TestApp {
    TestApp {
        address: app.address.clone(),
        origin: app.origin.clone(),
        client: app.client.clone(),
        app: app.app.clone(),
    }
}

async fn reply_of(req: reqwest::RequestBuilder) -> crate::helpers::Reply {
    crate::helpers::reply(req.send().await.expect("request")).await
}

async fn account_endpoints_need_a_session(backend: Backend) {
    let app = spawn_app(backend).await;
    get_json(&app, "/account/credentials")
        .await
        .assert_error(401, "login_required");
    app.post_json("/account/recovery-codes", &json!({}))
        .await
        .assert_error(401, "login_required");
    app.post_json("/account/credentials/begin", &json!({}))
        .await
        .assert_error(401, "login_required");
    let page = app
        .client
        .get(app.url("/account"))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), 303);
    assert_eq!(page.headers()["location"], "/login?next=/account");

    // Sign out ends the session on the server, not just in the browser.
    let mut device = SoftAuthenticator::new();
    let signed_up = app.register_begin(json!({"username": "bob"})).await;
    let response = device
        .create(signed_up.assert_ok(), &app.origin, &Tamper::default())
        .expect("create");
    let finish = app.register_finish(&response).await;
    let cookie = finish
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("pkidp_session="))
        .expect("session");
    let cookie = cookie.split(';').next().expect("pair").to_string();
    get_json(&app, "/account/credentials").await.assert_ok();
    app.post_json("/logout", &json!({})).await.assert_ok();
    let replayed = app
        .client
        .get(app.url("/account/credentials"))
        .header("Cookie", cookie)
        .send()
        .await
        .expect("request");
    assert_eq!(
        replayed.status(),
        401,
        "the old session cookie no longer works"
    );
}
on_both_backends!(account_endpoints_need_a_session);

async fn recovery_codes_get_you_back_in_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut lost = SoftAuthenticator::new();
    app.sign_up("carol", &mut lost).await;
    let codes = app.post_json("/account/recovery-codes", &json!({})).await;
    let codes: Vec<String> = codes.assert_ok()["codes"]
        .as_array()
        .expect("codes")
        .iter()
        .map(|c| c.as_str().expect("code").to_string())
        .collect();
    assert_eq!(codes.len(), 10);
    let unique: std::collections::HashSet<_> = codes.iter().collect();
    assert_eq!(unique.len(), 10);
    // Stored only as argon2id hashes.
    let stored = app
        .query(|c| {
            let user = passkey_idp::db::users::find_by_username(c, "carol")?.expect("user");
            passkey_idp::db::recovery_codes::unused(c, &user.id)
        })
        .await;
    assert_eq!(stored.len(), 10);
    assert!(stored.iter().all(|c| c.code_hash.starts_with("$argon2id$")
        && !codes.iter().any(|k| c.code_hash.contains(k.as_str()))));

    // A new device, a new browser: wrong code, then a right one (typed in capitals, no dashes).
    let stranger = TestApp {
        client: new_client(),
        ..clone_app(&app)
    };
    stranger
        .post_json(
            "/recover",
            &json!({"username": "carol", "code": "aaaa-bbbb-cccc"}),
        )
        .await
        .assert_error(401, "invalid_recovery_code");
    let typed = codes[3].replace('-', "").to_uppercase();
    stranger
        .post_json("/recover", &json!({"username": "carol", "code": typed}))
        .await
        .assert_ok();
    // The recovery session can add a passkey and nothing else.
    get_json(&stranger, "/account/credentials")
        .await
        .assert_error(403, "login_required");
    stranger
        .post_json("/account/recovery-codes", &json!({}))
        .await
        .assert_error(403, "login_required");
    let mut new_phone = SoftAuthenticator::new();
    let added = add_passkey(&stranger, &mut new_phone).await;
    added.assert_ok();
    assert!(
        added
            .set_cookies()
            .iter()
            .any(|c| c.starts_with("pkidp_session=;") || c.starts_with("pkidp_session=\"\"")),
        "the recovery session ends once the passkey exists: {:?}",
        added.set_cookies()
    );
    stranger
        .post_json("/account/credentials/begin", &json!({}))
        .await
        .assert_error(401, "login_required");
    // The new passkey signs in; the code is spent.
    stranger
        .sign_in(Some("carol"), &mut new_phone)
        .await
        .assert_ok();
    let again = TestApp {
        client: new_client(),
        ..clone_app(&app)
    };
    again
        .post_json("/recover", &json!({"username": "carol", "code": codes[3]}))
        .await
        .assert_error(401, "invalid_recovery_code");
    // A new set voids the old one.
    stranger
        .post_json("/account/recovery-codes", &json!({}))
        .await
        .assert_ok();
    again
        .post_json("/recover", &json!({"username": "carol", "code": codes[4]}))
        .await
        .assert_error(401, "invalid_recovery_code");
}
on_both_backends!(recovery_codes_get_you_back_in_once);

async fn recovery_attempts_are_rate_limited(backend: Backend) {
    let app = spawn_with(
        TestConfig::new(backend)
            .with("PASSKEY_IDP__RATE_LIMIT__RECOVERY_PER_USER", "3")
            .with("PASSKEY_IDP__RATE_LIMIT__RECOVERY_PER_ADDRESS", "5"),
    )
    .await;
    app.sign_up("dave", &mut SoftAuthenticator::new()).await;
    for _ in 0..3 {
        app.post_json(
            "/recover",
            &json!({"username": "dave", "code": "2222-3333-4444"}),
        )
        .await
        .assert_error(401, "invalid_recovery_code");
    }
    app.post_json(
        "/recover",
        &json!({"username": "dave", "code": "2222-3333-4444"}),
    )
    .await
    .assert_error(429, "rate_limited");
    // Other usernames from the same address: stopped by the per-address limit.
    app.post_json(
        "/recover",
        &json!({"username": "erin", "code": "2222-3333-4444"}),
    )
    .await
    .assert_error(401, "invalid_recovery_code");
    app.post_json(
        "/recover",
        &json!({"username": "frank", "code": "2222-3333-4444"}),
    )
    .await
    .assert_error(429, "rate_limited");
}
on_both_backends!(recovery_attempts_are_rate_limited);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_carry_strict_web_security() {
    let app = spawn_app(Backend::Embedded).await;
    for path in ["/", "/login", "/register", "/recover"] {
        let res = app.client.get(app.url(path)).send().await.expect("page");
        assert_eq!(res.status(), 200, "{path}");
        let h = res.headers().clone();
        let csp = h["content-security-policy"].to_str().expect("csp");
        assert!(
            csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{csp}"
        );
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "{csp}"
        );
        assert_eq!(h["referrer-policy"], "no-referrer");
        assert_eq!(h["x-content-type-options"], "nosniff");
        let html = res.text().await.expect("html");
        assert!(
            !html.contains("<script>") && !html.contains("onclick="),
            "{path}: no inline script"
        );
        for src in html.split("src=\"").skip(1) {
            assert!(src.starts_with('/'), "{path}: only our own assets: {src}");
        }
    }
    let login = app
        .client
        .get(app.url("/login?login_hint=%22%3E%3Cscript%3E"))
        .send()
        .await
        .expect("login");
    let html = login.text().await.expect("html");
    assert!(html.contains(r#"autocomplete="username webauthn""#));
    assert!(!html.contains("\"><script>"), "the login hint is escaped");
    let js = app
        .client
        .get(app.url("/static/webauthn.js"))
        .send()
        .await
        .expect("js");
    assert_eq!(
        js.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert_eq!(
        app.client
            .get(app.url("/static/../Cargo.toml"))
            .send()
            .await
            .expect("x")
            .status(),
        404
    );

    // CSRF: a state-changing request from another site is refused; from our own pages it is not.
    let foreign = app
        .client
        .post(app.url("/webauthn/register/begin"))
        .header("Origin", "http://evil.example")
        .json(&json!({"username": "victim"}))
        .send()
        .await
        .expect("request");
    let foreign = crate::helpers::reply(foreign).await;
    foreign.assert_error(403, "invalid_request");
    let cross_site = app
        .client
        .post(app.url("/logout"))
        .header("Sec-Fetch-Site", "cross-site")
        .send()
        .await
        .expect("request");
    assert_eq!(cross_site.status(), 403);
    let own = app
        .client
        .post(app.url("/webauthn/register/begin"))
        .header("Origin", app.origin.as_str())
        .json(&json!({"username": "victim"}))
        .send()
        .await
        .expect("request");
    assert_eq!(own.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_page_lists_passkeys_escaped_with_authenticator_names() {
    let app = spawn_app(Backend::Embedded).await;
    let mut device = SoftAuthenticator::synced();
    device.aaguid = *uuid::Uuid::parse_str("bada5566-a7aa-401f-bd96-45619a55120d")
        .expect("uuid")
        .as_bytes();
    let options = app
        .register_begin(json!({"username": "eve", "display_name": "<img src=x onerror=alert(1)>"}))
        .await;
    let response = device
        .create(options.assert_ok(), &app.origin, &Tamper::default())
        .expect("create");
    let body = app.register_finish(&response).await.assert_ok().clone();
    let id = body["credential"]["id"].as_str().expect("id").to_string();
    reply_of(
        app.client
            .patch(app.url(&format!("/account/credentials/{id}")))
            .json(&json!({"name": "<b>mine</b>"})),
    )
    .await
    .assert_ok();
    let html = app
        .client
        .get(app.url("/account?welcome=1"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(html.contains("1Password"), "built-in authenticator name");
    let escaped = |text: &str| text.replace('<', "&#60;").replace('>', "&#62;");
    assert!(
        html.contains(&escaped("<img src=x onerror=alert(1)>")) && !html.contains("<img src=x"),
        "display name escaped: {html}"
    );
    assert!(
        html.contains(&escaped("<b>mine</b>")) && !html.contains("<b>mine"),
        "passkey name escaped"
    );
    assert!(html.contains("Add a second passkey") && html.contains("Save recovery codes"));
    assert!(html.contains("Synced"));
}
