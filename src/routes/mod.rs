//! The HTTP layer, and the only code that knows actix: thin handlers, one file per area, which
//! read the request, call one domain operation and shape its answer; [`error`] maps every
//! refusal to its status, code and sentence.

mod account;
mod body;
pub mod cookies;
pub mod error;
pub mod middleware;
mod oidc;
mod ops;
mod pages;
mod webauthn;
mod wellknown;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};

use self::error::{ApiError, RequestError};
use crate::events::{browser_family, Caller};
use crate::session::{Denied, Need, Session};
use crate::settings::Settings;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(webauthn::register_begin)
        .service(webauthn::register_finish)
        .service(webauthn::login_begin)
        .service(webauthn::login_finish)
        .service(account::list)
        .service(account::rename)
        .service(account::remove)
        .service(account::add_begin)
        .service(account::add_finish)
        .service(account::recovery_codes)
        .service(account::recover)
        .service(account::reauth_begin)
        .service(account::reauth_finish)
        .service(account::sessions)
        .service(account::end_other_sessions)
        .service(account::events)
        .service(account::delete_account)
        .service(account::logout)
        .service(wellknown::jwks)
        .service(wellknown::related_origins)
        .service(oidc::discovery)
        .service(oidc::authorize)
        .service(oidc::authorize_continue)
        .service(oidc::token_endpoint)
        .service(oidc::userinfo)
        .service(oidc::end_session)
        .service(oidc::revoke)
        .service(oidc::signed_out)
        .service(ops::healthz)
        .service(ops::readyz)
        .service(ops::metrics)
        .service(pages::index)
        .service(pages::login)
        .service(pages::register)
        .service(pages::account)
        .service(pages::recover)
        .service(pages::assets)
        .service(pages::favicon)
        .service(pages::language)
        .service(pages::login_posted)
        .service(pages::register_posted);
}

/// The session of a request, with the id its cookie carries.
pub struct SignedIn {
    pub session_id: String,
    pub session: Session,
}

/// The session of the request's cookie, if it is still alive.
pub async fn current_session(
    req: &HttpRequest,
    app: &AppState,
) -> Result<Option<SignedIn>, ApiError> {
    let Some(id) = cookies::read(req, &app.settings, cookies::SESSION) else {
        return Ok(None);
    };
    Ok(app.sessions.get(&id).await?.map(|session| SignedIn {
        session_id: id,
        session,
    }))
}

pub async fn require_session(
    req: &HttpRequest,
    app: &AppState,
    need: Need,
) -> Result<SignedIn, ApiError> {
    let signed_in = current_session(req, app)
        .await?
        .ok_or(Denied::NotSignedIn)?;
    signed_in
        .session
        .allows(need, chrono::Utc::now().timestamp())?;
    Ok(signed_in)
}

/// Who is asking, as stored events and the session list see it: the request id and a coarse
/// browser family (never the User-Agent or the address).
pub fn caller(req: &HttpRequest) -> Caller {
    use actix_web::HttpMessage;
    Caller {
        request_id: req
            .extensions()
            .get::<middleware::RequestId>()
            .map(|r| r.0.clone()),
        browser: browser_family(
            req.headers()
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or(""),
        ),
        language: req
            .app_data::<web::Data<AppState>>()
            .map_or("en", |app| pages::catalog_for(&app.settings, req).lang()),
    }
}

pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// The id of the request (as in its log line and `X-Request-Id`), for a page to show as a
/// reference a person can give support.
pub fn request_id(req: &HttpRequest) -> String {
    req.extensions()
        .get::<middleware::RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default()
}

#[derive(askama::Template)]
#[template(path = "not_found.html")]
struct NotFoundPage<'a> {
    p: pages::Chrome<'a>,
    reference: &'a str,
}

/// Nothing at this path: a page for a browser (that asks for HTML), JSON for everyone else.
/// The page gives the request id as a reference a person can pass to support.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let wants_html = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    let app = req.app_data::<web::Data<AppState>>();
    let (Some(app), true) = (app, wants_html) else {
        return Err(RequestError::NotFound.into());
    };
    let reference = request_id(&req);
    let p = pages::Chrome::new(app, &req);
    pages::page(
        &p,
        actix_web::http::StatusCode::NOT_FOUND,
        NotFoundPage {
            p,
            reference: &reference,
        },
    )
}

/// The address a rate limit counts against: the TCP peer, or behind a trusted proxy the
/// address the proxy names (`server.trusted_proxies`).
pub fn client_addr(req: &HttpRequest, settings: &Settings) -> String {
    let Some(peer) = req.peer_addr().map(|a| a.ip()) else {
        return String::new();
    };
    if settings.trusted_proxies.is_empty() {
        return peer.to_string();
    }
    let values = |name: header::HeaderName| -> Vec<&str> {
        req.headers()
            .get_all(name)
            .filter_map(|v| v.to_str().ok())
            .collect()
    };
    crate::proxy::client_address(
        peer,
        &settings.trusted_proxies,
        &values(header::FORWARDED),
        &values(header::HeaderName::from_static("x-forwarded-for")),
    )
    .to_string()
}

pub fn no_store(mut res: HttpResponse) -> HttpResponse {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_not_found_page_has_no_text_outside_the_catalog() {
        super::pages::check(
            "not found",
            super::NotFoundPage {
                p: super::pages::marked_chrome(),
                reference: "abc",
            },
        );
    }
}
