//! The admin API's clients (`/api/admin/v1/clients…`) over HTTP, on both backends: create,
//! show, change every field, rotate the secret with and without a grace period, remove (its
//! refresh tokens and a waiting code stop working, also after a re-add under the same id),
//! 404/409, declared clients refused, and the stored events with actor, object and change.

use serde_json::{json, Value};

use crate::authenticator::SoftAuthenticator;
use crate::helpers::{reply, spawn_app, spawn_with, Backend, Reply, TestApp, TestConfig};
use crate::oidc::{code, redeem, refresh, token, Registered, REDIRECT};
use crate::on_both_backends;

/// A token holding `scopes` (comma-separated), named `name`.
pub async fn api_token(app: &TestApp, name: &str, scopes: &str) -> String {
    app.operator()
        .token_create(
            name,
            &passkey_idp::admin::tokens::Scopes::parse(scopes).expect("scopes"),
            std::time::Duration::from_secs(3600),
        )
        .await
        .expect("token")
        .token
}

/// `METHOD /api/admin/v1PATH` with the bearer token, and a JSON body if given.
pub async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    bearer: &str,
    body: Option<Value>,
) -> Reply {
    let mut req = app
        .client
        .request(method, app.url(&format!("/api/admin/v1{path}")))
        .bearer_auth(bearer);
    if let Some(body) = body {
        req = req.json(&body);
    }
    reply(req.send().await.expect("admin API request")).await
}

/// The newest stored events of `kind`.
pub async fn events_of(app: &TestApp, kind: &str) -> Vec<Value> {
    let filter = passkey_idp::db::events::Filter {
        kind: Some(kind.to_string()),
        limit: 50,
        ..Default::default()
    };
    app.app
        .db
        .events()
        .recent(filter)
        .await
        .expect("events")
        .into_iter()
        .map(|row| serde_json::to_value(passkey_idp::events::EventView::from(row)).expect("json"))
        .collect()
}

/// Whether `/token` accepts this client authentication (a made-up refresh token is then
/// refused as `invalid_grant`, not the client as `invalid_client`).
async fn authenticates(app: &TestApp, id: &str, secret: &str) -> bool {
    let r = token(
        app,
        &[("grant_type", "refresh_token"), ("refresh_token", "nope")],
        Some((id, secret)),
    )
    .await;
    match r.status.as_u16() {
        400 => true,
        401 => false,
        other => panic!("unexpected {other}: {}", r.body),
    }
}

use reqwest::Method;

async fn create_change_every_field_and_remove(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = api_token(&app, "ops", "clients:*").await;
    let created = call(
        &app,
        Method::POST,
        "/clients",
        &t,
        Some(json!({"client_id": "wiki", "redirect_uris": [REDIRECT], "name": "Wiki"})),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["client_id"], "wiki");
    assert_eq!(created.body["declared"], false);
    assert_eq!(created.body["public"], false);
    let secret = created.body["client_secret"]
        .as_str()
        .expect("secret")
        .to_string();
    assert!(authenticates(&app, "wiki", &secret).await);
    let again = call(
        &app,
        Method::POST,
        "/clients",
        &t,
        Some(json!({"client_id": "wiki", "redirect_uris": [REDIRECT]})),
    )
    .await;
    again.assert_error(409, "conflict");
    let shown = call(&app, Method::GET, "/clients/wiki", &t, None).await;
    assert_eq!(shown.assert_ok()["name"], "Wiki");
    assert!(shown.body.get("client_secret").is_none(), "no secret shown");
    assert!(shown.body["updated"].is_null());

    let changes = json!({
        "name": "The wiki",
        "redirect_uris": [REDIRECT, "https://wiki.example/cb"],
        "post_logout_redirect_uris": ["https://wiki.example/bye"],
        "scopes": "openid profile groups",
        "id_token_alg": "ES256",
        "audiences": ["https://wiki.example/api"],
        "allowed_groups": ["staff"],
    });
    let changed = call(&app, Method::PATCH, "/clients/wiki", &t, Some(changes)).await;
    let c = changed.assert_ok();
    assert_eq!(c["name"], "The wiki");
    assert_eq!(
        c["redirect_uris"],
        json!([REDIRECT, "https://wiki.example/cb"])
    );
    assert_eq!(
        c["post_logout_redirect_uris"],
        json!(["https://wiki.example/bye"])
    );
    assert_eq!(c["scopes"], json!(["openid", "profile", "groups"]));
    assert_eq!(c["id_token_alg"], "ES256");
    assert_eq!(c["audiences"], json!(["https://wiki.example/api"]));
    assert_eq!(c["allowed_groups"], json!(["staff"]));
    assert!(c["updated"].is_string());
    // A subset changes only what it names; checked as a new client is.
    let one = call(
        &app,
        Method::PATCH,
        "/clients/wiki",
        &t,
        Some(json!({"scopes": ["openid", "email"]})),
    )
    .await;
    assert_eq!(one.assert_ok()["scopes"], json!(["openid", "email"]));
    assert_eq!(one.body["name"], "The wiki");
    for bad in [
        json!({"redirect_uris": ["http://evil.example/cb"]}),
        json!({"redirect_uris": []}),
        json!({"scopes": "profile"}),
        json!({"id_token_alg": "HS256"}),
        json!({"allowed_groups": ["no spaces"]}),
        json!({"name": ""}),
        json!({"secret": "x"}),
    ] {
        call(&app, Method::PATCH, "/clients/wiki", &t, Some(bad))
            .await
            .assert_error(400, "invalid_request");
    }
    call(
        &app,
        Method::PATCH,
        "/clients/nope",
        &t,
        Some(json!({"name": "x"})),
    )
    .await
    .assert_error(404, "not_found");
    call(&app, Method::GET, "/clients/nope", &t, None)
        .await
        .assert_error(404, "not_found");

    let list = call(&app, Method::GET, "/clients?limit=1", &t, None).await;
    assert_eq!(list.assert_ok()["items"][0]["client_id"], "wiki");
    assert!(list.body["next_cursor"].is_null());

    let updates = events_of(&app, "client_updated").await;
    assert_eq!(updates.len(), 2, "{updates:?}");
    let first = &updates[1];
    assert_eq!(first["actor"], "token:ops");
    assert_eq!(first["object"], "wiki");
    assert_eq!(
        first["detail"]["name"],
        json!({"from": "Wiki", "to": "The wiki"})
    );
    assert_eq!(
        first["detail"]["id_token_alg"],
        json!({"from": "RS256", "to": "ES256"})
    );
    assert_eq!(
        first["detail"]["allowed_groups"],
        json!({"from": [], "to": ["staff"]})
    );
    assert_eq!(
        first["detail"].as_object().expect("change").len(),
        7,
        "{first}"
    );
    assert_eq!(updates[0]["detail"].as_object().expect("change").len(), 1);
    let added = &events_of(&app, "client_added").await[0];
    assert_eq!(
        (added["actor"].as_str(), added["object"].as_str()),
        (Some("token:ops"), Some("wiki"))
    );
    assert!(!added.to_string().contains(&secret), "no secret in events");

    let gone = call(&app, Method::DELETE, "/clients/wiki", &t, None).await;
    assert_eq!(gone.status, 204);
    assert_eq!(gone.body, Value::Null);
    call(&app, Method::DELETE, "/clients/wiki", &t, None)
        .await
        .assert_error(404, "not_found");
    let removed = &events_of(&app, "client_removed").await[0];
    assert_eq!(
        (removed["actor"].as_str(), removed["object"].as_str()),
        (Some("token:ops"), Some("wiki"))
    );
    // Reading needs clients:read, changing clients:write.
    let reader = api_token(&app, "reader", "clients:read").await;
    call(&app, Method::GET, "/clients", &reader, None)
        .await
        .assert_ok();
    call(&app, Method::DELETE, "/clients/x", &reader, None)
        .await
        .assert_error(403, "insufficient_scope");
}
on_both_backends!(create_change_every_field_and_remove);

async fn rotated_secrets_and_their_grace(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = api_token(&app, "ops", "admin").await;
    let created = call(
        &app,
        Method::POST,
        "/clients",
        &t,
        Some(json!({"client_id": "app", "redirect_uris": [REDIRECT]})),
    )
    .await;
    let first = created.body["client_secret"]
        .as_str()
        .expect("secret")
        .to_string();
    // Default grace: both secrets work.
    let r = call(&app, Method::POST, "/clients/app/secret", &t, None).await;
    let body = r.assert_ok();
    let second = body["client_secret"].as_str().expect("new").to_string();
    assert!(body["previous_secret_expires"].is_string(), "{body}");
    assert_eq!(body["client"]["client_id"], "app");
    assert!(
        authenticates(&app, "app", &first).await,
        "the old secret within its grace"
    );
    assert!(authenticates(&app, "app", &second).await);
    // Grace 0: only the newest works.
    let r = call(
        &app,
        Method::POST,
        "/clients/app/secret",
        &t,
        Some(json!({"grace_secs": 0})),
    )
    .await;
    let third = r.assert_ok()["client_secret"]
        .as_str()
        .expect("new")
        .to_string();
    assert!(r.body["previous_secret_expires"].is_null());
    assert!(!authenticates(&app, "app", &first).await);
    assert!(!authenticates(&app, "app", &second).await, "cut at once");
    assert!(authenticates(&app, "app", &third).await);
    let rotated = events_of(&app, "client_secret_rotated").await;
    assert_eq!(rotated.len(), 2);
    assert_eq!(rotated[0]["actor"], "token:ops");
    assert_eq!(rotated[0]["object"], "app");
    assert!(rotated[0]["detail"]["previous_secret_expires"].is_null());
    for secret in [&first, &second, &third] {
        assert!(!rotated
            .iter()
            .any(|e| e.to_string().contains(secret.as_str())));
    }
    call(
        &app,
        Method::POST,
        "/clients/app/secret",
        &t,
        Some(json!({"grace_secs": 99999999})),
    )
    .await
    .assert_error(400, "invalid_request");
    // The body may be left out, or be null; anything else must fit.
    let null = call(
        &app,
        Method::POST,
        "/clients/app/secret",
        &t,
        Some(Value::Null),
    )
    .await;
    null.assert_ok();
    let unknown = json!({"grace": 1});
    call(&app, Method::POST, "/clients/app/secret", &t, Some(unknown))
        .await
        .assert_error(400, "invalid_request");
    call(&app, Method::POST, "/clients/nope/secret", &t, None)
        .await
        .assert_error(404, "not_found");
    // A public client has no secret to rotate.
    call(
        &app,
        Method::POST,
        "/clients",
        &t,
        Some(json!({"client_id": "spa", "redirect_uris": [REDIRECT], "public": true})),
    )
    .await;
    call(&app, Method::POST, "/clients/spa/secret", &t, None)
        .await
        .assert_error(409, "conflict");
}
on_both_backends!(rotated_secrets_and_their_grace);

async fn a_removed_client_leaves_nothing_behind(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = api_token(&app, "ops", "clients:write").await;
    let add = || {
        call(
            &app,
            Method::POST,
            "/clients",
            &t,
            Some(json!({"client_id": "app", "redirect_uris": [REDIRECT]})),
        )
    };
    let created = add().await;
    let c = Registered {
        id: "app".into(),
        secret: created.body["client_secret"].as_str().map(str::to_string),
    };
    app.sign_up("erin", &mut SoftAuthenticator::synced()).await;
    let tokens = redeem(&app, &c, &code(&app, "app").await)
        .await
        .assert_ok()
        .clone();
    let rt = tokens["refresh_token"].as_str().expect("rt").to_string();
    let waiting = code(&app, "app").await;
    assert_eq!(
        call(&app, Method::DELETE, "/clients/app", &t, None)
            .await
            .status,
        204
    );
    // Added again under the same id: neither the old refresh token nor the waiting code work.
    let again = add().await;
    let c2 = Registered {
        id: "app".into(),
        secret: again.body["client_secret"].as_str().map(str::to_string),
    };
    let who = (c2.id.clone(), c2.secret.clone().expect("secret"));
    refresh(&app, rt, who)
        .await
        .assert_error(400, "invalid_grant");
    redeem(&app, &c2, &waiting)
        .await
        .assert_error(400, "invalid_grant");
    // A new code works.
    redeem(&app, &c2, &code(&app, "app").await)
        .await
        .assert_ok();
}
on_both_backends!(a_removed_client_leaves_nothing_behind);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declared_clients_are_read_only() {
    let dir = crate::helpers::scratch_dir("declared");
    let file = dir.join("clients.toml");
    std::fs::write(
        &file,
        "[[client]]\nclient_id = \"fixed\"\nredirect_uris = [\"https://fixed.example/cb\"]\n",
    )
    .expect("write");
    let app = spawn_with(TestConfig::new(Backend::Embedded).with(
        "PASSKEY_IDP__OIDC__CLIENTS_FILE",
        &file.display().to_string(),
    ))
    .await;
    let t = api_token(&app, "ops", "clients:*").await;
    let shown = call(&app, Method::GET, "/clients/fixed", &t, None).await;
    assert_eq!(shown.assert_ok()["declared"], true);
    for (method, path, body) in [
        (Method::PATCH, "/clients/fixed", Some(json!({"name": "x"}))),
        (Method::POST, "/clients/fixed/secret", None),
        (Method::DELETE, "/clients/fixed", None),
        (
            Method::POST,
            "/clients",
            Some(json!({"client_id": "fixed", "redirect_uris": [REDIRECT]})),
        ),
    ] {
        let r = call(&app, method, path, &t, body).await;
        r.assert_error(409, "conflict");
        assert!(
            r.body["error_description"]
                .as_str()
                .unwrap_or("")
                .contains("oidc.clients_file"),
            "{}",
            r.body
        );
    }
}

/// The command line does what the API does, through the same operations: `clients show`,
/// `update`, `rotate-secret` with `--json`, exit 3 for an unknown client, and its changes (and
/// the `keys` commands') stored with the operator as actor.
async fn the_command_line_is_a_peer(backend: Backend) {
    use crate::admin::{cli, json_of};
    let app = spawn_app(backend).await;
    let added = json_of(
        &app,
        &[
            "clients",
            "add",
            "--client-id",
            "cal",
            "--redirect-uri",
            REDIRECT,
            "--json",
        ],
    );
    let first = added["client_secret"].as_str().expect("secret").to_string();
    let shown = json_of(&app, &["clients", "show", "cal", "--json"]);
    assert_eq!(
        (shown["client_id"].as_str(), shown["declared"].as_bool()),
        (Some("cal"), Some(false))
    );
    let changed = json_of(
        &app,
        &[
            "clients",
            "update",
            "cal",
            "--name",
            "Calendar",
            "--redirect-uri",
            REDIRECT,
            "--redirect-uri",
            "https://cal.example/cb",
            "--allowed-groups",
            "staff,ops",
            "--json",
        ],
    );
    assert_eq!(changed["name"], "Calendar");
    assert_eq!(
        changed["redirect_uris"],
        json!([REDIRECT, "https://cal.example/cb"])
    );
    assert_eq!(changed["allowed_groups"], json!(["staff", "ops"]));
    let cleared = json_of(
        &app,
        &["clients", "update", "cal", "--allowed-groups", "", "--json"],
    );
    assert_eq!(cleared["allowed_groups"], json!([]));
    let rotated = json_of(
        &app,
        &["clients", "rotate-secret", "cal", "--grace", "0", "--json"],
    );
    let second = rotated["client_secret"]
        .as_str()
        .expect("secret")
        .to_string();
    assert!(rotated["previous_secret_expires"].is_null());
    assert!(!authenticates(&app, "cal", &first).await);
    assert!(authenticates(&app, "cal", &second).await);
    // Text mode: the secret alone on stdout.
    let out = crate::admin::ok(&app, &["clients", "rotate-secret", "cal"]);
    assert!(authenticates(&app, "cal", out.trim()).await, "{out}");
    assert!(
        authenticates(&app, "cal", &second).await,
        "within the default grace"
    );
    for args in [
        &["clients", "show", "nope"][..],
        &["clients", "update", "nope", "--name", "x"],
        &["clients", "rotate-secret", "nope"],
    ] {
        assert_eq!(cli(&app, args).status.code(), Some(3), "{args:?}");
    }
    let bad = cli(
        &app,
        &[
            "clients",
            "update",
            "cal",
            "--redirect-uri",
            "http://evil.example/cb",
        ],
    );
    assert_eq!(bad.status.code(), Some(2));
    let update = &events_of(&app, "client_updated").await[1];
    assert!(
        update["actor"].as_str().unwrap_or("").starts_with("cli:"),
        "{update}"
    );
    assert_eq!(update["object"], "cal");
    assert_eq!(
        update["detail"]["name"],
        json!({"from": "cal", "to": "Calendar"})
    );

    let key = json_of(&app, &["keys", "generate", "--json"]);
    let kid = key["kid"].as_str().expect("kid");
    let stored = events_of(&app, "key_changed").await;
    let generated = stored
        .iter()
        .find(|e| e["object"] == kid)
        .expect("the kid is stored");
    assert_eq!(
        generated["detail"],
        json!({"action": "generated", "to": "next", "alg": "ES256"})
    );
    assert!(
        generated["actor"]
            .as_str()
            .unwrap_or("")
            .starts_with("cli:"),
        "{generated}"
    );
}
on_both_backends!(the_command_line_is_a_peer);
