//! Who calls the admin API: a bearer token with scopes (`Authorization: Bearer pkidp_…`),
//! counted against `rate_limit.admin_per_minute` per client address before it is looked up.

use actix_web::http::header;
use actix_web::HttpRequest;

use crate::admin::tokens::{self, Scope};
use crate::admin::Admin;
use crate::events::Event;
use crate::routes::error::ApiError;
use crate::routes::{client_addr, request_id};
use crate::state::AppState;

/// Why a request to the admin API was refused before it was looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthRefusal {
    /// No `Authorization: Bearer` header (401).
    NoToken,
    /// A token that is unknown, revoked, expired or malformed (401).
    BadToken,
    /// A live token without the scope the operation needs (403).
    MissingScope(Scope),
    /// Too many requests from this address (429).
    RateLimited,
}

/// The bearer token of the request, if it has one.
fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The scope the request's operation needs, from [`super::ROUTES`]; `admin` for a route the
/// table does not name (a mistake that then fails closed).
fn needed(req: &HttpRequest) -> Scope {
    req.match_pattern()
        .and_then(|pattern| super::scope_of(req.method().as_str(), &pattern))
        .unwrap_or(Scope::Admin)
}

/// The caller as an [`Admin`] acting for its token, once its token holds the scope the
/// operation needs.
pub async fn admin(req: &HttpRequest, app: &AppState) -> Result<Admin, ApiError> {
    let needed = needed(req);
    // A NUL byte fits no name, id or time, and the database refuses it in text: 400 up front.
    let raw = req.uri().path_and_query().map_or("", |pq| pq.as_str());
    if raw.contains("%00") {
        return Err(crate::routes::error::RequestError::BadQuery.into());
    }
    if !app
        .limits
        .allow_admin_request(&client_addr(req, &app.settings))
        .await?
    {
        return Err(ApiError::AdminAuth(AuthRefusal::RateLimited));
    }
    let presented = bearer(req).ok_or(ApiError::AdminAuth(AuthRefusal::NoToken))?;
    let holder = tokens::authenticate(&app.db, presented)
        .await?
        .ok_or(ApiError::AdminAuth(AuthRefusal::BadToken))?;
    let request_id = Some(request_id(req)).filter(|id| !id.is_empty());
    if !holder.scopes.allow(needed) {
        Event::AdminRefused
            .now()
            .object(format!("token:{}", holder.name))
            .reason("insufficient_scope")
            .detail(needed.name())
            .report();
        return Err(ApiError::AdminAuth(AuthRefusal::MissingScope(needed)));
    }
    Ok(Admin::for_token(
        app.db.clone(),
        &app.settings.site().issuer,
        holder,
        request_id,
    ))
}
