//! The admin API's scopes, read from the served OpenAPI document so that every operation added
//! later is covered: a token with one scope is refused (403 `insufficient_scope`, naming the
//! scope needed) exactly on the operations that need another one; no token, a malformed, an
//! expired or a revoked one is 401 everywhere.

use std::time::Duration;

use passkey_idp::admin::tokens::Scopes;
use passkey_idp::admin::Admin;
use reqwest::Method;
use serde_json::{json, Value};

use crate::authenticator::SoftAuthenticator;
use crate::helpers::{reply, spawn_with, Backend, Reply, TestApp, TestConfig};
use crate::on_both_backends;

/// Where the API lives.
pub const BASE: &str = "/api/admin/v1";

/// Every scope a token can hold (docs/api.md, "Admin API").
pub const SCOPES: &[&str] = &[
    "users:read",
    "users:write",
    "recovery:write",
    "groups:read",
    "groups:write",
    "clients:read",
    "clients:write",
    "keys:read",
    "keys:write",
    "events:read",
    "tokens:write",
    "admin",
];

/// One operation of the served document.
#[derive(Debug, Clone)]
pub struct Operation {
    pub method: Method,
    /// The path under [`BASE`], with `{param}` segments.
    pub path: String,
    /// The one scope its `security` names.
    pub scope: String,
    pub has_body: bool,
}

impl Operation {
    pub fn label(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// The served OpenAPI document, read without a token.
pub async fn document(app: &TestApp) -> Value {
    let res = app
        .client
        .get(app.url(&format!("{BASE}/openapi.json")))
        .send()
        .await
        .expect("GET openapi.json");
    assert_eq!(res.status(), 200, "the document is served without a token");
    res.json().await.expect("the document is JSON")
}

/// Every operation of the document, with the scope it declares.
pub fn operations(doc: &Value) -> Vec<Operation> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let methods = [
                "get", "put", "post", "delete", "options", "head", "patch", "trace",
            ];
            if !methods.contains(&method.as_str()) {
                continue; // `parameters`, `summary`… of the path item
            }
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let scope = op["security"][0]["bearer"][0]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} declares no bearer scope"))
                .to_string();
            ops.push(Operation {
                method,
                path: path.clone(),
                scope,
                has_body: op.get("requestBody").is_some(),
            });
        }
    }
    assert!(!ops.is_empty(), "the document describes no operation");
    ops
}

/// A token holding `scopes`, made through the domain API as `passkey-idp tokens create` does.
pub async fn token(app: &TestApp, name: &str, scopes: &str, lifetime: Duration) -> String {
    operator(app)
        .token_create(name, &Scopes::parse(scopes).expect("scopes"), lifetime)
        .await
        .expect("token created")
        .token
}

/// The operator at the command line (every scope).
pub fn operator(app: &TestApp) -> Admin {
    Admin::new(app.app.db.clone(), &app.app.settings.site().issuer)
}

const HOUR: Duration = Duration::from_secs(3600);

/// `path` with its `{param}` segments filled: users by `user`'s id, groups by `group`, anything
/// else by a made-up name.
fn filled(path: &str, user: &str, group: &str) -> String {
    path.split('/')
        .map(|segment| match segment {
            "{id}" | "{user_id}" => user.to_string(),
            "{name}" if path.starts_with("/groups") => group.to_string(),
            s if s.starts_with('{') => format!("no-such-{}", s.trim_matches(['{', '}'])),
            s => s.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Calls `op` with `authorization` (none when `None`); a body of `{}` where it takes one.
pub async fn call(app: &TestApp, op: &Operation, path: &str, authorization: Option<&str>) -> Reply {
    let mut request = app
        .client
        .request(op.method.clone(), app.url(&format!("{BASE}{path}")));
    if let Some(value) = authorization {
        request = request.header("Authorization", value);
    }
    if op.has_body {
        request = request.json(&json!({}));
    }
    reply(request.send().await.expect("admin API request")).await
}

fn challenge(r: &Reply) -> String {
    r.headers
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// A person with a passkey and a session, in group `staff`; returns their id.
async fn seeded(app: &TestApp) -> String {
    let signed_up = app.sign_up("ada", &mut SoftAuthenticator::synced()).await;
    let admin = operator(app);
    admin.group_add("staff").await.expect("group");
    admin.add_to_group("ada", "staff").await.expect("member");
    signed_up["user"]["id"]
        .as_str()
        .expect("user id")
        .to_string()
}

fn unlimited(backend: Backend) -> TestConfig {
    TestConfig::new(backend).with("PASSKEY_IDP__RATE_LIMIT__ADMIN_PER_MINUTE", "0")
}

async fn every_scope_opens_exactly_its_operations(backend: Backend) {
    let app = spawn_with(unlimited(backend)).await;
    let user = seeded(&app).await;
    let ops = operations(&document(&app).await);
    for op in &ops {
        assert!(
            SCOPES.contains(&op.scope.as_str()),
            "{} needs {}, which is not a scope",
            op.label(),
            op.scope
        );
    }
    // `admin` last: with it every operation runs, the removing ones included.
    for scope in SCOPES {
        let name = format!("only-{}", scope.replace(':', "-"));
        let bearer = format!("Bearer {}", token(&app, &name, scope, HOUR).await);
        for op in &ops {
            let r = call(&app, op, &filled(&op.path, &user, "staff"), Some(&bearer)).await;
            let what = format!("{} with only {scope}: {} {}", op.label(), r.status, r.body);
            if *scope == op.scope || *scope == "admin" {
                assert!(
                    !matches!(r.status.as_u16(), 401 | 403) && r.status.as_u16() < 500,
                    "{what}"
                );
                continue;
            }
            assert_eq!(r.status, 403, "{what}");
            assert_eq!(r.error(), "insufficient_scope", "{what}");
            let description = r.body["error_description"].as_str().unwrap_or_default();
            assert!(description.contains(op.scope.as_str()), "{what}");
            let challenge = challenge(&r);
            assert!(
                challenge.starts_with("Bearer ")
                    && challenge.contains("error=\"insufficient_scope\"")
                    && challenge.contains(&format!("scope=\"{}\"", op.scope)),
                "{what}: WWW-Authenticate {challenge}"
            );
        }
    }
}
on_both_backends!(every_scope_opens_exactly_its_operations);

/// What a request without a live token gets, on every operation.
async fn assert_unauthorized(app: &TestApp, ops: &[Operation], authorization: Option<&str>) {
    for op in ops {
        let r = call(app, op, &filled(&op.path, "ada", "staff"), authorization).await;
        let what = format!(
            "{} with {authorization:?}: {} {}",
            op.label(),
            r.status,
            r.body
        );
        r.assert_error(401, "invalid_token");
        let challenge = challenge(&r);
        assert!(challenge.starts_with("Bearer "), "{what}: {challenge}");
        match authorization {
            Some(value) if value.len() > "Bearer ".len() && value.starts_with("Bearer ") => {
                assert!(
                    challenge.contains("error=\"invalid_token\""),
                    "{what}: {challenge}"
                )
            }
            // No bearer credentials at all: the challenge names no error (RFC 6750 §3.1).
            _ => assert!(!challenge.contains("error="), "{what}: {challenge}"),
        }
    }
}

async fn tokens_missing_malformed_expired_or_revoked_are_401(backend: Backend) {
    let app = spawn_with(unlimited(backend)).await;
    seeded(&app).await;
    let ops = operations(&document(&app).await);
    let live = token(&app, "live", "admin", HOUR).await;

    assert_unauthorized(&app, &ops, None).await;
    let long = format!("Bearer {live}{}", "a".repeat(4096));
    let garbage = format!("Bearer pkidp_{}", "%$#!;".repeat(8));
    let malformed = [
        "Bearer x",
        "Bearer ",
        "Basic YWRtaW46YWRtaW4=",
        garbage.as_str(),
        long.as_str(),
    ];
    for value in malformed {
        assert_unauthorized(&app, &ops, Some(value)).await;
    }
    // A live token with one character changed.
    let mut changed = live.clone();
    let last = changed.pop().expect("a character");
    changed.push(if last == 'a' { 'b' } else { 'a' });
    assert_unauthorized(&app, &ops, Some(&format!("Bearer {changed}"))).await;

    // Expired: made for a minute, then its end moved into the past.
    let expired = token(&app, "expired", "admin", Duration::from_secs(60)).await;
    app.query(|c| {
        use diesel::prelude::*;
        use passkey_idp::db::schema::api_tokens as t;
        let past = chrono::Utc::now().naive_utc() - chrono::Duration::minutes(5);
        diesel::update(t::table.filter(t::name.eq("expired")))
            .set(t::expires_at.eq(past))
            .execute(c)?;
        Ok(())
    })
    .await;
    assert_unauthorized(&app, &ops, Some(&format!("Bearer {expired}"))).await;

    // Revoked: works until `tokens revoke`, then never again.
    let revoked = format!(
        "Bearer {}",
        token(&app, "revoked", "users:read", HOUR).await
    );
    let list = ops
        .iter()
        .find(|op| op.method == Method::GET && op.path == "/users")
        .expect("GET /users");
    call(&app, list, "/users", Some(&revoked)).await.assert_ok();
    operator(&app)
        .token_revoke("revoked")
        .await
        .expect("revoked");
    assert_unauthorized(&app, &ops, Some(&revoked)).await;
    // The live token still works.
    call(&app, list, "/users", Some(&format!("Bearer {live}")))
        .await
        .assert_ok();
}
on_both_backends!(tokens_missing_malformed_expired_or_revoked_are_401);

/// Whether a help-desk token may call `op` (docs/api.md: look people up, issue recovery links
/// and invites).
fn help_desk_may(op: &Operation) -> bool {
    let people = op.method == Method::GET && (op.path == "/users" || op.path == "/users/{id}");
    let links = op.method == Method::POST
        && (op.path == "/users/{id}/recovery-links" || op.path == "/invites");
    people || links || matches!(op.scope.as_str(), "users:read" | "recovery:write")
}

async fn a_help_desk_token_looks_people_up_and_issues_recovery_links_only(backend: Backend) {
    let app = spawn_with(unlimited(backend)).await;
    let user = seeded(&app).await;
    let ops = operations(&document(&app).await);
    let desk = format!(
        "Bearer {}",
        token(&app, "help-desk", "users:read,recovery:write", HOUR).await
    );
    for op in &ops {
        let r = call(&app, op, &filled(&op.path, &user, "staff"), Some(&desk)).await;
        let what = format!("help desk: {} {} {}", op.label(), r.status, r.body);
        if help_desk_may(op) {
            assert!(
                !matches!(r.status.as_u16(), 401 | 403) && r.status.as_u16() < 500,
                "{what}"
            );
        } else {
            assert_eq!(
                (r.status.as_u16(), r.error()),
                (403, "insufficient_scope"),
                "{what}"
            );
        }
    }
    // What it may do, it does.
    let list = reply(
        app.client
            .get(app.url(&format!("{BASE}/users?query=ad")))
            .header("Authorization", &desk)
            .send()
            .await
            .expect("list"),
    )
    .await;
    assert_eq!(list.assert_ok()["items"][0]["username"], "ada");
    let shown = reply(
        app.client
            .get(app.url(&format!("{BASE}/users/{user}")))
            .header("Authorization", &desk)
            .send()
            .await
            .expect("show"),
    )
    .await;
    assert_eq!(shown.assert_ok()["username"], "ada");
    if ops.iter().any(|op| op.path == "/users/{id}/recovery-links") {
        let link = reply(
            app.client
                .post(app.url(&format!("{BASE}/users/{user}/recovery-links")))
                .header("Authorization", &desk)
                .json(&json!({}))
                .send()
                .await
                .expect("recovery link"),
        )
        .await;
        assert!(link.status.is_success(), "{} {}", link.status, link.body);
        assert!(link.body["url"].is_string(), "{}", link.body);
    }
    if ops.iter().any(|op| op.path == "/invites") {
        let invite = reply(
            app.client
                .post(app.url(&format!("{BASE}/invites")))
                .header("Authorization", &desk)
                .json(&json!({"username": "newcomer"}))
                .send()
                .await
                .expect("invite"),
        )
        .await;
        assert!(
            invite.status.is_success(),
            "{} {}",
            invite.status,
            invite.body
        );
        assert!(invite.body["url"].is_string(), "{}", invite.body);
    }
}
on_both_backends!(a_help_desk_token_looks_people_up_and_issues_recovery_links_only);
