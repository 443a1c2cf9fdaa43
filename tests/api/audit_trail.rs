//! The audit trail: every administrative change names its actor (`cli:USER`, `token:NAME`,
//! `instance:ID`) and its object; a deleted user's events still say who they were; admin API
//! tokens from the command line work at once and stop at once.

use serde_json::Value;

use crate::admin::{json_of, ok, refused};
use crate::authenticator::SoftAuthenticator;
use crate::helpers::{create_pg_database, spawn_app, spawn_with, Backend, TestApp, TestConfig};
use crate::on_both_backends;

fn events_of(app: &TestApp, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["events", "--json"];
    all.extend_from_slice(args);
    json_of(app, &all).as_array().expect("array").clone()
}

async fn admin_get(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    app.client
        .get(app.url(&format!("/api/admin/v1{path}")))
        .bearer_auth(token)
        .send()
        .await
        .expect("admin API")
}

async fn the_command_line_is_an_actor_and_a_deleted_user_keeps_their_name(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut authenticator = SoftAuthenticator::new();
    let signed_up = app.sign_up("greta", &mut authenticator).await;
    let id = signed_up["user"]["id"].as_str().expect("id").to_string();
    ok(&app, &["users", "disable", "greta"]);
    ok(&app, &["users", "delete", "greta"]);

    // Found by the name they had, and by their id: each event says who they were.
    for who in ["greta", id.as_str()] {
        let events = events_of(&app, &["--user", who]);
        let kinds: Vec<&str> = events.iter().filter_map(|e| e["kind"].as_str()).collect();
        assert_eq!(kinds[..2], ["user_deleted", "user_disabled"], "{events:?}");
        assert!(kinds.contains(&"passkey_added"), "{kinds:?}");
        for event in &events {
            assert_eq!(event["user"], id.as_str(), "{event}");
            assert_eq!(event["username"], "greta", "{event}");
        }
        // The operator's changes name them; what the person did themselves names nobody.
        let actor = events[0]["actor"].as_str().expect("actor");
        assert!(actor.starts_with("cli:") && actor.len() > 4, "{actor}");
        let added = events
            .iter()
            .find(|e| e["kind"] == "passkey_added")
            .expect("added");
        assert_eq!(added["actor"], Value::Null);
    }
}
on_both_backends!(the_command_line_is_an_actor_and_a_deleted_user_keeps_their_name);

async fn a_token_from_the_command_line_works_at_once_and_stops_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = ok(
        &app,
        &[
            "tokens",
            "create",
            "--name",
            "helpdesk",
            "--scope",
            "users:read,recovery:write",
        ],
    );
    let token = token.trim();
    assert!(token.starts_with("pkidp_") && token.len() > 40, "{token}");

    let res = admin_get(&app, token, "/users").await;
    assert_eq!(res.status(), 200);
    let page: Value = res.json().await.expect("json");
    assert_eq!(page["items"], serde_json::json!([]));
    assert_eq!(page["next_cursor"], Value::Null);

    // Listed without the token itself; used, so its last use is known.
    let listed = json_of(&app, &["tokens", "list", "--json"]);
    assert_eq!(listed[0]["name"], "helpdesk");
    assert_eq!(
        listed[0]["scopes"],
        serde_json::json!(["users:read", "recovery:write"])
    );
    assert!(listed[0]["last_used"].is_string(), "{listed}");
    assert!(!listed.to_string().contains(token));

    // Refused: a taken name, an unknown scope, a lifetime out of range.
    refused(
        &app,
        &[
            "tokens",
            "create",
            "--name",
            "helpdesk",
            "--scope",
            "users:read",
        ],
    );
    refused(
        &app,
        &["tokens", "create", "--name", "x", "--scope", "users:delete"],
    );
    refused(
        &app,
        &[
            "tokens",
            "create",
            "--name",
            "x",
            "--scope",
            "admin",
            "--expires-in",
            "400d",
        ],
    );

    ok(&app, &["tokens", "revoke", "helpdesk"]);
    let res = admin_get(&app, token, "/users").await;
    assert_eq!(res.status(), 401);
    assert!(res.headers()["www-authenticate"]
        .to_str()
        .expect("header")
        .starts_with("Bearer"));
    refused(&app, &["tokens", "revoke", "helpdesk"]);

    let events = events_of(&app, &[]);
    let created = events
        .iter()
        .find(|e| e["kind"] == "api_token_created")
        .expect("created");
    let revoked = events
        .iter()
        .find(|e| e["kind"] == "api_token_revoked")
        .expect("revoked");
    for event in [created, revoked] {
        assert_eq!(event["object"], "helpdesk");
        assert!(event["actor"].as_str().expect("actor").starts_with("cli:"));
    }
    assert_eq!(
        created["detail"]["scopes"],
        serde_json::json!(["users:read", "recovery:write"])
    );
    assert!(!events.iter().any(|e| e.to_string().contains(token)));
}
on_both_backends!(a_token_from_the_command_line_works_at_once_and_stops_at_once);

/// Three instances start at once with a new registration mode: one event records the change,
/// with the instance as its actor. The first mode ever seen is no change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_registration_mode_is_recorded_once() {
    let db = create_pg_database();
    let config = |mode: &str| TestConfig {
        database_url: Some(db.clone()),
        ..TestConfig::new(Backend::Postgres).with("PASSKEY_IDP__REGISTRATION__MODE", mode)
    };
    let first = spawn_with(config("open")).await;
    let events = events_of(&first, &[]);
    assert!(!events.iter().any(|e| e["kind"] == "setting_changed"));
    // The first start makes the signing keys, as itself.
    let made: Vec<&Value> = events
        .iter()
        .filter(|e| e["kind"] == "key_changed")
        .collect();
    assert!(!made.is_empty(), "{events:?}");
    for event in made {
        let actor = event["actor"].as_str().expect("actor");
        assert!(actor.starts_with("instance:"), "{event}");
        assert!(event["object"].is_string(), "{event}");
    }

    let (a, b, c) = tokio::join!(
        spawn_with(config("invite")),
        spawn_with(config("invite")),
        spawn_with(config("invite"))
    );
    let changes: Vec<Value> = events_of(&a, &[])
        .into_iter()
        .filter(|e| e["kind"] == "setting_changed")
        .collect();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0]["object"], "registration.mode");
    assert_eq!(
        changes[0]["detail"],
        serde_json::json!({"from": "open", "to": "invite"})
    );
    let actor = changes[0]["actor"].as_str().expect("actor");
    assert!(actor.starts_with("instance:"), "{actor}");
    drop((b, c));
}

fn api(app: &TestApp, token: &str, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
    app.client
        .request(method, app.url(&format!("/api/admin/v1{path}")))
        .bearer_auth(token)
}

/// Through the API: an email change and the end of every session, each an event naming the
/// token and never the address.
async fn changes_through_the_api_name_their_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut authenticator = SoftAuthenticator::new();
    let signed_up = app.sign_up("hana", &mut authenticator).await;
    let id = signed_up["user"]["id"].as_str().expect("id").to_string();
    app.get("/account/credentials").await.assert_ok();
    let token = ok(
        &app,
        &["tokens", "create", "--name", "ops", "--scope", "users:*"],
    );
    let token = token.trim();

    let res = api(&app, token, reqwest::Method::PATCH, "/users/hana")
        .json(&serde_json::json!({"email": "hana@example.com"}))
        .send()
        .await
        .expect("patch");
    assert_eq!(res.status(), 200);
    let user: Value = res.json().await.expect("json");
    assert_eq!(user["email"], "hana@example.com");
    assert_eq!(user["sessions"].as_array().expect("sessions").len(), 1);

    // Absent leaves it; null clears it; an unknown field or a wrong type is refused.
    for (body, email) in [
        (serde_json::json!({}), Value::from("hana@example.com")),
        (serde_json::json!({"email": null}), Value::Null),
    ] {
        let res = api(&app, token, reqwest::Method::PATCH, &format!("/users/{id}"))
            .json(&body)
            .send()
            .await
            .expect("patch");
        assert_eq!(res.status(), 200);
        assert_eq!(res.json::<Value>().await.expect("json")["email"], email);
    }
    for body in [
        serde_json::json!({"mail": "x@example.com"}),
        serde_json::json!({"email": 5}),
    ] {
        let res = api(&app, token, reqwest::Method::PATCH, "/users/hana")
            .json(&body)
            .send()
            .await
            .expect("patch");
        assert_eq!(res.status(), 400, "{body}");
    }
    let res = api(&app, token, reqwest::Method::PATCH, "/users/nobody")
        .json(&serde_json::json!({}))
        .send()
        .await
        .expect("patch");
    assert_eq!(res.status(), 404);

    let res = api(&app, token, reqwest::Method::DELETE, "/users/hana/sessions")
        .send()
        .await
        .expect("delete");
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.expect("json"),
        serde_json::json!({"user": id, "ended": 1})
    );
    app.get("/account/credentials")
        .await
        .assert_error(401, "login_required");

    let events = events_of(&app, &["--user", "hana"]);
    let updated: Vec<&Value> = events
        .iter()
        .filter(|e| e["kind"] == "user_updated")
        .collect();
    assert_eq!(updated.len(), 2, "{events:?}");
    assert_eq!(updated[0]["actor"], "token:ops");
    assert_eq!(
        updated[0]["detail"],
        serde_json::json!({"changed": ["email"]})
    );
    assert!(!events
        .iter()
        .any(|e| e.to_string().contains("hana@example.com")));
    let ended = events
        .iter()
        .find(|e| e["kind"] == "user_sessions_ended")
        .expect("ended");
    assert_eq!(ended["actor"], "token:ops");
    assert_eq!(ended["username"], "hana");
}
on_both_backends!(changes_through_the_api_name_their_token);
