//! The admin API at `/api/admin/v1` (docs/admin-api.md): JSON in and out, a bearer token with
//! scopes, the errors of the rest of the service. [`ROUTES`] is the one table of its
//! operations and the scope each needs; handlers find their scope there ([`auth::admin`]), and
//! a test checks that the OpenAPI document describes exactly these operations.

mod auth;
mod clients;
mod events;
mod groups;
mod keys;
mod openapi;
mod recovery;
pub mod refusals;
mod tokens;
mod user_changes;
mod users;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use self::auth::AuthRefusal;
use super::error::{ApiError, RequestError};
use crate::admin::tokens::Scope;

/// Where the API lives.
pub const BASE: &str = "/api/admin/v1";

/// Every operation: method, path under [`BASE`], the scope it needs.
pub const ROUTES: &[(&str, &str, Scope)] = &[
    ("GET", "/users", Scope::UsersRead),
    ("GET", "/users/{id}", Scope::UsersRead),
    ("DELETE", "/users/{id}", Scope::UsersWrite),
    ("POST", "/users/{id}/disable", Scope::UsersWrite),
    ("POST", "/users/{id}/enable", Scope::UsersWrite),
    (
        "DELETE",
        "/users/{id}/passkeys/{credential_id}",
        Scope::UsersWrite,
    ),
    (
        "POST",
        "/users/{id}/passkeys/{credential_id}/unflag",
        Scope::UsersWrite,
    ),
    ("GET", "/users/{id}/sessions", Scope::UsersRead),
    ("POST", "/users/{id}/recovery-links", Scope::RecoveryWrite),
    ("POST", "/invites", Scope::RecoveryWrite),
    ("GET", "/groups", Scope::GroupsRead),
    ("POST", "/groups", Scope::GroupsWrite),
    ("DELETE", "/groups/{name}", Scope::GroupsWrite),
    (
        "PUT",
        "/groups/{name}/members/{user_id}",
        Scope::GroupsWrite,
    ),
    (
        "DELETE",
        "/groups/{name}/members/{user_id}",
        Scope::GroupsWrite,
    ),
    ("GET", "/events", Scope::EventsRead),
    ("GET", "/tokens", Scope::TokensWrite),
    ("POST", "/tokens", Scope::TokensWrite),
    ("DELETE", "/tokens/{name}", Scope::TokensWrite),
    ("PATCH", "/users/{id}", Scope::UsersWrite),
    ("DELETE", "/users/{id}/sessions", Scope::UsersWrite),
    ("GET", "/clients", Scope::ClientsRead),
    ("POST", "/clients", Scope::ClientsWrite),
    ("GET", "/clients/{client_id}", Scope::ClientsRead),
    ("PATCH", "/clients/{client_id}", Scope::ClientsWrite),
    ("DELETE", "/clients/{client_id}", Scope::ClientsWrite),
    ("POST", "/clients/{client_id}/secret", Scope::ClientsWrite),
    ("GET", "/keys", Scope::KeysRead),
    ("POST", "/keys/generate", Scope::KeysWrite),
    ("POST", "/keys/rotate", Scope::KeysWrite),
    ("POST", "/keys/{kid}/retire", Scope::KeysWrite),
    ("POST", "/keys/{kid}/revoke", Scope::KeysWrite),
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope(BASE)
            .service(openapi::document)
            .service(users::list)
            .service(users::show)
            .service(users::erase)
            .service(users::disable)
            .service(users::enable)
            .service(users::passkey_remove)
            .service(users::passkey_unflag)
            .service(users::sessions)
            .service(recovery::recovery_link)
            .service(recovery::invite)
            .service(groups::list)
            .service(groups::create)
            .service(groups::remove)
            .service(groups::add_member)
            .service(groups::remove_member)
            .service(events::list)
            .service(tokens::list)
            .service(tokens::create)
            .service(tokens::revoke)
            .service(user_changes::update)
            .service(user_changes::end_sessions)
            .service(clients::list)
            .service(clients::add)
            .service(clients::show)
            .service(clients::update)
            .service(clients::remove)
            .service(clients::rotate_secret)
            .service(keys::list)
            .service(keys::generate)
            .service(keys::rotate)
            .service(keys::retire)
            .service(keys::revoke)
            .default_service(web::to(unmatched)),
    );
}

/// The scope an operation needs, by its method and path pattern.
pub fn scope_of(method: &str, pattern: &str) -> Option<Scope> {
    let path = pattern.strip_prefix(BASE)?;
    ROUTES
        .iter()
        .find(|(m, p, _)| *m == method && *p == path)
        .map(|(_, _, scope)| *scope)
}

/// Whether a concrete path fits a pattern with `{param}` segments.
fn fits(pattern: &str, path: &str) -> bool {
    let (mut pattern, mut path) = (pattern.split('/'), path.split('/'));
    loop {
        match (pattern.next(), path.next()) {
            (None, None) => return true,
            (Some(p), Some(s)) if p.starts_with('{') || p == s => {
                if p.starts_with('{') && s.is_empty() {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

/// A path with no operation: 405 with `Allow` when another method has one, else 404.
async fn unmatched(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let path = req.path().strip_prefix(BASE).unwrap_or_default();
    let mut allowed: Vec<&str> = ROUTES
        .iter()
        .filter(|(_, pattern, _)| fits(pattern, path))
        .map(|(method, _, _)| *method)
        .collect();
    if path == "/openapi.json" {
        allowed.push("GET");
    }
    if allowed.is_empty() {
        return Err(RequestError::NotFound.into());
    }
    allowed.dedup();
    let mut res =
        actix_web::ResponseError::error_response(&ApiError::from(RequestError::MethodNotAllowed));
    if let Ok(value) = header::HeaderValue::from_str(&allowed.join(", ")) {
        res.headers_mut().insert(header::ALLOW, value);
    }
    Ok(res)
}

/// The `WWW-Authenticate` challenge of a refused token (RFC 6750 §3).
pub fn challenge(refusal: &AuthRefusal) -> Option<String> {
    const REALM: &str = "Bearer realm=\"passkey-idp-admin\"";
    match refusal {
        AuthRefusal::NoToken => Some(REALM.to_string()),
        AuthRefusal::BadToken => Some(format!("{REALM}, error=\"invalid_token\"")),
        AuthRefusal::MissingScope(scope) => Some(format!(
            "{REALM}, error=\"insufficient_scope\", scope=\"{scope}\""
        )),
        AuthRefusal::RateLimited => None,
    }
}

/// A query string read into `T`; one that does not fit is 400 `invalid_request`.
fn query<T: DeserializeOwned>(req: &HttpRequest) -> Result<T, ApiError> {
    serde_urlencoded::from_str(req.query_string()).map_err(|_| RequestError::BadQuery.into())
}

/// `limit` and `cursor` of a list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// How many items, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the page before.
    pub cursor: Option<String>,
}

impl PageQuery {
    /// The page size, checked.
    fn limit(&self) -> Result<i64, ApiError> {
        match self.limit {
            None => Ok(50),
            Some(n @ 1..=200) => Ok(n),
            Some(_) => Err(RequestError::BadQuery.into()),
        }
    }

    /// The cursor's text, if any; one this API did not hand out is 400.
    fn cursor(&self) -> Result<Option<String>, ApiError> {
        self.cursor
            .as_deref()
            .map(|c| {
                URL_SAFE_NO_PAD
                    .decode(c)
                    .ok()
                    .and_then(|bytes| String::from_utf8(bytes).ok())
                    .ok_or_else(|| ApiError::from(RequestError::BadQuery))
            })
            .transpose()
    }
}

/// One page of a list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Listing<T> {
    pub items: Vec<T>,
    /// Give it as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Listing<T> {
    /// A page from up to `limit + 1` items: the extra one says there is a next page, whose
    /// cursor `key` makes from the page's last item.
    fn of(mut items: Vec<T>, limit: i64, key: impl Fn(&T) -> String) -> Listing<T> {
        let more = items.len() as i64 > limit;
        items.truncate(limit.max(0) as usize);
        let next_cursor = more
            .then(|| items.last().map(|last| URL_SAFE_NO_PAD.encode(key(last))))
            .flatten();
        Listing { items, next_cursor }
    }
}

/// 204: done, nothing to say.
fn done() -> HttpResponse {
    super::no_store(HttpResponse::NoContent().finish())
}

fn json<T: Serialize>(status: actix_web::http::StatusCode, body: &T) -> HttpResponse {
    super::no_store(HttpResponse::build(status).json(body))
}

/// A body that may be left out: nothing sent, or JSON `null`, is `T::default()`; anything
/// else must be JSON that fits `T`.
async fn optional_json<T: DeserializeOwned + Default>(
    req: &HttpRequest,
    payload: web::Payload,
    settings: &crate::settings::Settings,
) -> Result<T, ApiError> {
    let body: Option<Option<T>> = super::body::read_optional_json(req, payload, settings).await?;
    Ok(body.flatten().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every handler declared in this folder is registered in [`configure`], and every
    /// operation of [`ROUTES`] has one (besides the document's).
    #[test]
    fn configure_registers_every_handler() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/routes/admin_api");
        let mut handlers = 0;
        for entry in std::fs::read_dir(dir).expect("admin_api") {
            let source = std::fs::read_to_string(entry.expect("entry").path()).expect("source");
            handlers += source
                .lines()
                .map(str::trim)
                .filter(|l| {
                    ["#[get(", "#[post(", "#[put(", "#[patch(", "#[delete("]
                        .iter()
                        .any(|m| l.starts_with(m))
                })
                .count();
        }
        let source = include_str!("mod.rs");
        let configure = &source[source.find("pub fn configure").expect("configure")..];
        let configure = &configure[..configure.find("\n}").expect("its end")];
        assert_eq!(configure.matches(".service(").count() - 1, handlers);
        assert_eq!(handlers, ROUTES.len() + 1);
    }

    #[test]
    fn paths_fit_their_patterns_only() {
        assert!(fits("/users/{id}", "/users/alice"));
        assert!(!fits("/users/{id}", "/users/"));
        assert!(!fits("/users/{id}", "/users/alice/sessions"));
        assert!(fits("/users", "/users"));
    }
}
