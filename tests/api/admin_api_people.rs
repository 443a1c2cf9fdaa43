//! The admin API's people, groups, events and tokens, through a real HTTP client on both
//! backends: every answer's shape, 404 and 409, idempotent memberships, the audit trail of
//! every change (actor `token:NAME`, the right object), its filters and cursor, and the
//! refusals HTTP itself makes.

use std::time::Duration;

use diesel::prelude::*;
use passkey_idp::admin::tokens::Scopes;
use passkey_idp::admin::Admin;
use reqwest::Method;
use serde_json::{json, Value};

use crate::admin::{cli, other_browser};
use crate::authenticator::SoftAuthenticator;
use crate::helpers::{new_client, reply, spawn_app, Backend, Reply, TestApp};
use crate::on_both_backends;

const BASE: &str = "/api/admin/v1";

/// A token made as `tokens create` makes it (actor `cli:…`).
async fn token(app: &TestApp, name: &str, scopes: &str) -> String {
    Admin::new(app.app.db.clone(), "http://x")
        .token_create(
            name,
            &Scopes::parse(scopes).unwrap(),
            Duration::from_secs(3600),
        )
        .await
        .unwrap()
        .token
}

/// A caller of the admin API with one token.
struct Api<'a> {
    app: &'a TestApp,
    token: String,
    client: reqwest::Client,
}

impl<'a> Api<'a> {
    async fn new(app: &'a TestApp, name: &str, scopes: &str) -> Api<'a> {
        Api {
            app,
            token: token(app, name, scopes).await,
            client: new_client(),
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let mut request = self
            .client
            .request(method, self.app.url(&format!("{BASE}{path}")))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        reply(request.send().await.expect("request sent")).await
    }

    async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(body)).await
    }

    async fn put(&self, path: &str) -> Reply {
        self.call(Method::PUT, path, None).await
    }

    async fn delete(&self, path: &str) -> Reply {
        self.call(Method::DELETE, path, None).await
    }

    /// Every event the query finds (one page of up to 200).
    async fn events(&self, query: &str) -> Vec<Value> {
        let r = self.get(&format!("/events?limit=200&{query}")).await;
        r.assert_ok()["items"].as_array().expect("items").clone()
    }
}

#[track_caller]
fn status(r: &Reply, expected: u16) -> &Value {
    assert_eq!(r.status.as_u16(), expected, "unexpected reply: {}", r.body);
    &r.body
}

#[track_caller]
fn no_content(r: &Reply) {
    status(r, 204);
    assert_eq!(r.body, Value::Null, "204 has no body");
}

fn kinds(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["kind"].as_str().expect("kind"))
        .collect()
}

async fn set_flag(app: &TestApp, credential_id: &str) {
    let id = credential_id.to_string();
    app.query(move |c| {
        use passkey_idp::db::schema::webauthn_credentials as creds;
        diesel::update(creds::table.filter(creds::credential_id.eq(id)))
            .set(creds::clone_suspected.eq(true))
            .execute(c)?;
        Ok(())
    })
    .await;
}

/// Disable, enable, sessions, passkey unflag and removal, and delete: their answers, their
/// 404s, and the events they store (found after the delete by the old username or id).
async fn people_change_through_the_api(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut phone = SoftAuthenticator::synced();
    app.sign_up("ana", &mut phone).await;
    let api = Api::new(&app, "ops", "users:*,recovery:write,events:read").await;
    let shown = api.get("/users/ana").await.assert_ok().clone();
    let (id, passkey) = (
        shown["id"].as_str().unwrap().to_string(),
        shown["passkeys"][0]["id"].as_str().unwrap().to_string(),
    );

    let sessions = api.get("/users/ana/sessions").await.assert_ok().clone();
    assert_eq!(sessions["next_cursor"], Value::Null);
    assert_eq!(sessions["items"], shown["sessions"]);
    assert_eq!(sessions["items"].as_array().unwrap().len(), 1);
    for key in ["created", "last_seen", "browser"] {
        assert!(sessions["items"][0][key].is_string(), "{key}: {sessions}");
    }

    // Disable and enable answer the person; doing it twice is fine and stores one event.
    for _ in 0..2 {
        let user = api.post("/users/ana/disable", json!(null)).await;
        assert_eq!(user.assert_ok()["status"], "disabled");
        assert_eq!(user.body["id"], id.as_str());
        assert_eq!(user.body["sessions"], json!([]));
    }
    app.get("/account/credentials")
        .await
        .assert_error(401, "login_required");
    for _ in 0..2 {
        let user = api.post(&format!("/users/{id}/enable"), json!({})).await;
        assert_eq!(user.assert_ok()["status"], "active");
    }
    let disabled = api.events("kind=user_disabled").await;
    assert_eq!(disabled.len(), 1, "{disabled:?}");
    assert_eq!(disabled[0]["actor"], "token:ops");
    assert_eq!(disabled[0]["user"], id.as_str());
    assert_eq!(disabled[0]["username"], "ana");
    assert_eq!(
        disabled[0]["detail"],
        json!({"from": "active", "to": "disabled"})
    );
    assert_eq!(api.events("kind=user_enabled").await.len(), 1);

    // Unflag: 204, and an event only when the flag was set.
    set_flag(&app, &passkey).await;
    for _ in 0..2 {
        no_content(
            &api.post(&format!("/users/ana/passkeys/{passkey}/unflag"), json!({}))
                .await,
        );
    }
    let shown = api.get("/users/ana").await.assert_ok().clone();
    assert_eq!(shown["passkeys"][0]["clone_suspected"], false);
    let unflagged = api.events("kind=passkey_unflagged").await;
    assert_eq!(unflagged.len(), 1, "{unflagged:?}");
    assert_eq!(unflagged[0]["actor"], "token:ops");
    assert_eq!(unflagged[0]["user"], id.as_str());
    assert_eq!(unflagged[0]["credential"], passkey.as_str());

    // What does not exist is 404.
    for r in [
        api.post("/users/nobody/disable", json!({})).await,
        api.post("/users/nobody/enable", json!({})).await,
        api.get("/users/nobody/sessions").await,
        api.delete("/users/nobody").await,
        api.delete("/users/ana/passkeys/nope").await,
        api.post("/users/ana/passkeys/nope/unflag", json!({})).await,
    ] {
        r.assert_error(404, "not_found");
    }

    // Removing the passkey ends the sessions it started.
    let signed_in = other_browser(&app);
    signed_in.sign_in(Some("ana"), &mut phone).await.assert_ok();
    no_content(&api.delete(&format!("/users/ana/passkeys/{passkey}")).await);
    signed_in
        .get("/account/credentials")
        .await
        .assert_error(401, "login_required");
    api.delete(&format!("/users/ana/passkeys/{passkey}"))
        .await
        .assert_error(404, "not_found");
    let removed = api.events("kind=passkey_removed").await;
    assert_eq!(removed[0]["credential"], passkey.as_str());
    assert_eq!(removed[0]["actor"], "token:ops");

    // Delete: 204, then 404; the events still say who it was, found by the old name or id.
    no_content(&api.delete("/users/ana").await);
    api.get("/users/ana").await.assert_error(404, "not_found");
    api.delete("/users/ana")
        .await
        .assert_error(404, "not_found");
    let by_name = api.events("user=ana").await;
    let by_id = api.events(&format!("user={id}")).await;
    assert_eq!(by_name, by_id);
    assert_eq!(by_name[0]["kind"], "user_deleted");
    assert_eq!(by_name[0]["actor"], "token:ops");
    assert!(
        by_name.iter().all(|e| e["username"] == "ana"),
        "{by_name:?}"
    );
    for kind in [
        "user_deleted",
        "passkey_removed",
        "passkey_unflagged",
        "user_enabled",
        "user_disabled",
        "passkey_added",
    ] {
        assert!(kinds(&by_name).contains(&kind), "{kind} in {by_name:?}");
    }
}
on_both_backends!(people_change_through_the_api);

/// Recovery links (no body, `null`, a ttl; the newest answers `POST /recover` like a recovery
/// code) and invites (404 for an unknown group, 409 for a taken username), with their events.
async fn recovery_links_and_invites_through_the_api(backend: Backend) {
    let app = spawn_app(backend).await;
    app.sign_up("ana", &mut SoftAuthenticator::synced()).await;
    let api = Api::new(&app, "ops", "users:read,recovery:write,events:read").await;
    let id = api.get("/users/ana").await.assert_ok()["id"]
        .as_str()
        .unwrap()
        .to_string();
    api.post("/users/nobody/recovery-links", json!({}))
        .await
        .assert_error(404, "not_found");
    // A recovery link: no body, null and a ttl all do; the newest answers like a recovery code.
    let bare = reply(
        new_client()
            .post(app.url(&format!("{BASE}/users/ana/recovery-links")))
            .bearer_auth(&api.token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    for link in [
        bare,
        api.post("/users/ana/recovery-links", json!(null)).await,
        api.post("/users/ana/recovery-links", json!({"ttl_secs": 3600}))
            .await,
    ] {
        let body = status(&link, 201).clone();
        assert_eq!(sorted(&body), ["expires", "url"]);
        assert!(body["url"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{}/recover?token=", app.origin)));
    }
    api.post("/users/ana/recovery-links", json!({"ttl_secs": 0}))
        .await
        .assert_error(400, "invalid_request");
    let link = status(&api.post("/users/ana/recovery-links", json!({})).await, 201).clone();
    let url = url::Url::parse(link["url"].as_str().unwrap()).unwrap();
    let recovery_token = url.query_pairs().find(|(k, _)| k == "token").unwrap().1;
    let person = other_browser(&app);
    let r = person
        .post_json("/recover", &json!({ "token": recovery_token }))
        .await;
    assert_eq!(r.assert_ok()["next"], "add_passkey");
    let issued = api
        .events("kind=recovery_link_issued&actor=token:ops")
        .await;
    assert_eq!(issued.len(), 4);
    assert_eq!(issued[0]["user"], id.as_str());

    // Invites.
    let invite = status(
        &api.post("/invites", json!({"username": "newbie", "ttl_secs": 600}))
            .await,
        201,
    )
    .clone();
    assert!(invite["url"]
        .as_str()
        .unwrap()
        .contains("/register?invite="));
    status(&api.post("/invites", json!({})).await, 201);
    api.post("/invites", json!({"groups": ["nope"]}))
        .await
        .assert_error(404, "not_found");
    api.post("/invites", json!({"username": "ana"}))
        .await
        .assert_error(409, "conflict");
    let invites = api.events("kind=invite_issued").await;
    assert_eq!(invites.len(), 2);
    assert!(invites.iter().all(|e| e["actor"] == "token:ops"));
    assert_eq!(invites[1]["detail"]["username"], "newbie");

    // A disabled person gets no link.
    let admin = Api::new(&app, "root", "admin").await;
    admin
        .post("/users/ana/disable", json!({}))
        .await
        .assert_ok();
    api.post("/users/ana/recovery-links", json!({}))
        .await
        .assert_error(409, "conflict");
}
on_both_backends!(recovery_links_and_invites_through_the_api);

fn sorted(value: &Value) -> Vec<&str> {
    crate::helpers::sorted_keys(value)
}

/// Groups: create (409 when it exists), list, remove (404 when missing); memberships are
/// idempotent; each change is one event with the group as its object, from the API and from
/// the command line alike.
async fn groups_and_memberships(backend: Backend) {
    let app = spawn_app(backend).await;
    app.sign_up("bob", &mut SoftAuthenticator::synced()).await;
    let api = Api::new(&app, "gm", "groups:*,users:read,events:read").await;
    let bo = api.get("/users/bob").await.assert_ok()["id"]
        .as_str()
        .unwrap()
        .to_string();

    let created = status(&api.post("/groups", json!({"name": "ops"})).await, 201).clone();
    assert_eq!(created, json!({"name": "ops", "members": 0}));
    api.post("/groups", json!({"name": "ops"}))
        .await
        .assert_error(409, "conflict");
    api.post("/groups", json!({"name": "no spaces"}))
        .await
        .assert_error(400, "invalid_request");
    status(&api.post("/groups", json!({"name": "eu/ops"})).await, 201);

    for _ in 0..2 {
        no_content(&api.put("/groups/ops/members/bob").await);
    }
    no_content(&api.put(&format!("/groups/eu%2Fops/members/{bo}")).await);
    let groups = api.get("/groups").await.assert_ok().clone();
    assert_eq!(
        groups,
        json!({"items": [{"name": "eu/ops", "members": 1}, {"name": "ops", "members": 1}], "next_cursor": null})
    );
    let first = api.get("/groups?limit=1").await.assert_ok().clone();
    assert_eq!(first["items"], json!([{"name": "eu/ops", "members": 1}]));
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = api.get(&format!("/groups?limit=1&cursor={cursor}")).await;
    assert_eq!(
        second.assert_ok(),
        &json!({"items": [{"name": "ops", "members": 1}], "next_cursor": null})
    );
    assert_eq!(
        api.get("/users/bob").await.assert_ok()["groups"],
        json!(["eu/ops", "ops"])
    );
    for _ in 0..2 {
        no_content(&api.delete("/groups/ops/members/bob").await);
    }
    for r in [
        api.put("/groups/nope/members/bob").await,
        api.put("/groups/ops/members/nobody").await,
        api.delete("/groups/nope/members/bob").await,
        api.delete("/groups/ops/members/nobody").await,
        api.delete("/groups/nope").await,
    ] {
        r.assert_error(404, "not_found");
    }
    no_content(&api.delete("/groups/eu%2Fops").await);
    no_content(&api.delete("/groups/ops").await);
    api.delete("/groups/ops")
        .await
        .assert_error(404, "not_found");
    assert_eq!(
        api.get("/groups").await.assert_ok(),
        &json!({"items": [], "next_cursor": null})
    );

    let mine = api.events("actor=token:gm").await;
    let got: Vec<(&str, &str, &str)> = mine
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap(),
                e["object"].as_str().unwrap(),
                e["user"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("group_removed", "ops", "-"),
            ("group_removed", "eu/ops", "-"),
            ("group_member_removed", "ops", bo.as_str()),
            ("group_member_added", "eu/ops", bo.as_str()),
            ("group_member_added", "ops", bo.as_str()),
            ("group_added", "eu/ops", "-"),
            ("group_added", "ops", "-"),
        ]
    );
    let member_added = &mine[4];
    assert_eq!(member_added["username"], "bob");

    // The command line stores the same events, as cli:USER.
    for args in [
        &["groups", "add", "clig"][..],
        &["users", "add-to-group", "bob", "clig"],
        &["users", "remove-from-group", "bob", "clig"],
        &["groups", "remove", "clig"],
    ] {
        let out = cli(&app, args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let from_cli: Vec<Value> = api
        .events("")
        .await
        .into_iter()
        .filter(|e| e["object"] == "clig")
        .collect();
    assert_eq!(
        kinds(&from_cli),
        [
            "group_removed",
            "group_member_removed",
            "group_member_added",
            "group_added"
        ]
    );
    assert!(
        from_cli
            .iter()
            .all(|e| e["actor"].as_str().unwrap().starts_with("cli:")),
        "{from_cli:?}"
    );
}
on_both_backends!(groups_and_memberships);

/// `GET /events`: filters by kind, actor, user and time; the cursor pages through every event
/// exactly once; what is not a filter is 400.
async fn events_filter_and_page(backend: Backend) {
    let app = spawn_app(backend).await;
    app.sign_up("cyd", &mut SoftAuthenticator::synced()).await;
    let api = Api::new(&app, "auditor", "admin").await;
    for name in ["g1", "g2", "g3", "g4", "g5"] {
        status(&api.post("/groups", json!({ "name": name })).await, 201);
    }
    let mid = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    tokio::time::sleep(Duration::from_millis(5)).await;
    no_content(&api.put("/groups/g1/members/cyd").await);

    let all = api.events("").await;
    // One member added, five groups, the token (by the command line), the sign-up; before
    // them, what the start stored (the first signing key).
    assert_eq!(
        kinds(&all[..8]),
        [
            "group_member_added",
            "group_added",
            "group_added",
            "group_added",
            "group_added",
            "group_added",
            "api_token_created",
            "passkey_added"
        ]
    );
    let total = all.len();
    let times: Vec<&str> = all.iter().map(|e| e["time"].as_str().unwrap()).collect();
    let mut newest_first = times.clone();
    newest_first.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, newest_first);
    assert_eq!(all[0]["kind"], "group_member_added");
    for key in [
        "time",
        "kind",
        "actor",
        "user",
        "username",
        "object",
        "detail",
        "credential",
        "client",
        "request_id",
    ] {
        assert!(all[0].get(key).is_some(), "{key} in {}", all[0]);
    }
    assert!(all[0]["request_id"].is_string(), "{}", all[0]);

    assert_eq!(api.events("kind=group_added").await.len(), 5);
    assert_eq!(api.events("actor=token:auditor").await.len(), 6);
    assert_eq!(api.events("actor=token:nobody").await.len(), 0);
    assert_eq!(
        kinds(&api.events("user=cyd").await),
        ["group_member_added", "passkey_added"]
    );
    assert_eq!(
        kinds(&api.events(&format!("since={mid}")).await),
        ["group_member_added"]
    );
    assert_eq!(api.events(&format!("until={mid}")).await, all[1..].to_vec());
    assert_eq!(api.events("since=2000-01-01T00:00:00Z").await.len(), total);
    assert_eq!(api.events("until=2000-01-01T00:00:00Z").await.len(), 0);
    assert_eq!(api.events("since=2999-01-01T00:00:00Z").await.len(), 0);
    assert_eq!(api.events("until=2999-01-01T00:00:00Z").await.len(), total);
    for bad in [
        "since=yesterday",
        "until=2026-13-01T00:00:00Z",
        "kind=not_a_kind",
        "cursor=%%%",
        "cursor=bm9wZQ",
        "limit=0",
        "limit=201",
    ] {
        api.get(&format!("/events?{bad}"))
            .await
            .assert_error(400, "invalid_request");
    }

    // Paging with limit=2 returns every event exactly once, in the same order.
    let mut paged = vec![];
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/events?limit=2&cursor={c}"),
            None => "/events?limit=2".to_string(),
        };
        let page = api.get(&path).await.assert_ok().clone();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        paged.extend(items.iter().cloned());
        pages += 1;
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, total.div_ceil(2));
    // The same events in the same order as one page: each exactly once.
    assert_eq!(paged, all);
    // Paging a filtered list keeps the filter.
    let first = api.get("/events?kind=group_added&limit=3").await;
    let cursor = first.assert_ok()["next_cursor"]
        .as_str()
        .unwrap()
        .to_string();
    let rest = api
        .get(&format!("/events?kind=group_added&limit=3&cursor={cursor}"))
        .await;
    assert_eq!(rest.assert_ok()["items"].as_array().unwrap().len(), 2);
    assert_eq!(rest.body["next_cursor"], Value::Null);
}
on_both_backends!(events_filter_and_page);

/// Tokens through the API: listed (never shown), created once (409 again), only with scopes
/// the caller holds (403), revoked at once (401), 404 when there is none.
async fn tokens_through_the_api(backend: Backend) {
    let app = spawn_app(backend).await;
    let root = Api::new(
        &app,
        "root",
        "tokens:write,users:read,recovery:write,events:read",
    )
    .await;
    let listed = root.get("/tokens").await.assert_ok().clone();
    assert_eq!(listed["next_cursor"], Value::Null);
    assert_eq!(listed["items"][0]["name"], "root");
    assert!(listed["items"][0]["created_by"]
        .as_str()
        .unwrap()
        .starts_with("cli:"));
    assert_eq!(
        sorted(&listed["items"][0]),
        [
            "created",
            "created_by",
            "expires",
            "last_used",
            "name",
            "scopes"
        ]
    );
    assert!(!listed.to_string().contains(&root.token));

    let created = root
        .post(
            "/tokens",
            json!({"name": "helpdesk", "scopes": "users:read,recovery:write", "expires_in_secs": 3600}),
        )
        .await;
    let created = status(&created, 201).clone();
    assert_eq!(sorted(&created), ["expires", "name", "scopes", "token"]);
    assert_eq!(created["scopes"], json!(["users:read", "recovery:write"]));
    let second = root
        .post(
            "/tokens",
            json!({"name": "reader", "scopes": ["users:read"]}),
        )
        .await;
    status(&second, 201);
    root.post(
        "/tokens",
        json!({"name": "helpdesk", "scopes": ["users:read"]}),
    )
    .await
    .assert_error(409, "conflict");
    root.post("/tokens", json!({"name": "boss", "scopes": ["admin"]}))
        .await
        .assert_error(403, "insufficient_scope");
    root.post("/tokens", json!({"name": "boss", "scopes": "groups:write"}))
        .await
        .assert_error(403, "insufficient_scope");
    root.post("/tokens", json!({"name": "x", "scopes": "users:delete"}))
        .await
        .assert_error(400, "invalid_request");
    root.post("/tokens", json!({"name": "x", "scopes": []}))
        .await
        .assert_error(400, "invalid_request");
    root.post(
        "/tokens",
        json!({"name": "x", "scopes": "users:read", "expires_in_secs": 5}),
    )
    .await
    .assert_error(400, "invalid_request");
    let page = root.get("/tokens?limit=2").await.assert_ok().clone();
    let names: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["helpdesk", "reader"]);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = root.get(&format!("/tokens?limit=2&cursor={cursor}")).await;
    assert_eq!(rest.assert_ok()["items"][0]["name"], "root");

    // The new token does what its scopes say, and nothing else.
    let helpdesk = Api {
        app: &app,
        token: created["token"].as_str().unwrap().to_string(),
        client: new_client(),
    };
    helpdesk.get("/users").await.assert_ok();
    helpdesk
        .get("/tokens")
        .await
        .assert_error(403, "insufficient_scope");
    no_content(&root.delete("/tokens/helpdesk").await);
    helpdesk
        .get("/users")
        .await
        .assert_error(401, "invalid_token");
    root.delete("/tokens/helpdesk")
        .await
        .assert_error(404, "not_found");

    let made = root.events("actor=token:root").await;
    let got: Vec<(&str, &str)> = made
        .iter()
        .map(|e| (e["kind"].as_str().unwrap(), e["object"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            ("api_token_revoked", "helpdesk"),
            ("api_token_created", "reader"),
            ("api_token_created", "helpdesk"),
        ]
    );
}
on_both_backends!(tokens_through_the_api);

/// What HTTP itself refuses: malformed JSON (400), another content type (415), a path with no
/// operation (404, JSON), a method the path does not take (405 with Allow).
async fn http_refusals(backend: Backend) {
    let app = spawn_app(backend).await;
    let api = Api::new(&app, "admin", "admin").await;
    let raw = |method: Method, path: &str, content_type: &str, body: &'static str| {
        api.client
            .request(method, app.url(&format!("{BASE}{path}")))
            .bearer_auth(&api.token)
            .header("Content-Type", content_type)
            .body(body)
            .send()
    };
    let r = reply(
        raw(Method::POST, "/groups", "application/json", "{\"name\":")
            .await
            .unwrap(),
    )
    .await;
    r.assert_error(400, "invalid_request");
    let r = reply(
        raw(
            Method::POST,
            "/groups",
            "application/json",
            "{\"nom\":\"x\"}",
        )
        .await
        .unwrap(),
    )
    .await;
    r.assert_error(400, "invalid_request");
    let r = reply(
        raw(Method::POST, "/groups", "text/plain", "{\"name\":\"x\"}")
            .await
            .unwrap(),
    )
    .await;
    r.assert_error(415, "invalid_request");
    let r = reply(
        raw(
            Method::POST,
            "/tokens",
            "application/x-www-form-urlencoded",
            "name=x",
        )
        .await
        .unwrap(),
    )
    .await;
    r.assert_error(415, "invalid_request");
    let r = reply(
        raw(Method::POST, "/users/x/recovery-links", "text/plain", "ttl")
            .await
            .unwrap(),
    )
    .await;
    r.assert_error(415, "invalid_request");
    api.get("/nothing/here")
        .await
        .assert_error(404, "not_found");
    api.get("/groups/ops/members")
        .await
        .assert_error(404, "not_found");
    let r = api.call(Method::PATCH, "/groups", None).await;
    r.assert_error(405, "invalid_request");
    assert_eq!(r.headers["allow"], "GET, POST");
    let r = api.get("/groups/ops/members/bob").await;
    r.assert_error(405, "invalid_request");
    assert_eq!(r.headers["allow"], "PUT, DELETE");
    let r = api.put("/tokens/x").await;
    assert_eq!(r.headers["allow"], "DELETE");
    // Without a token, or with the wrong scope.
    let r = reply(
        new_client()
            .get(app.url(&format!("{BASE}/events")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    r.assert_error(401, "invalid_token");
    let reader = Api::new(&app, "reader", "users:read").await;
    for r in [
        reader.get("/events").await,
        reader.get("/groups").await,
        reader.post("/users/x/disable", json!({})).await,
        reader.post("/invites", json!({})).await,
    ] {
        r.assert_error(403, "insufficient_scope");
    }
}
on_both_backends!(http_refusals);
