//! Thin actix handlers, one file per area, plus what they share: body reading, cookies, the
//! request log and the JSON error for anything unmatched.

mod account;
mod oidc;
mod ops;
mod pages;
mod webauthn;
mod wellknown;

use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use tracing::Instrument;

use crate::error::ApiError;
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
        .service(account::logout)
        .service(wellknown::jwks)
        .service(oidc::discovery)
        .service(oidc::authorize)
        .service(oidc::authorize_continue)
        .service(oidc::token_endpoint)
        .service(oidc::userinfo)
        .service(oidc::end_session)
        .service(oidc::revoke)
        .service(ops::healthz)
        .service(ops::readyz)
        .service(ops::metrics)
        .service(pages::index)
        .service(pages::login)
        .service(pages::register)
        .service(pages::account)
        .service(pages::recover)
        .service(pages::assets);
}

pub struct SignedIn {
    pub session_id: String,
    pub session: crate::session::Session,
}

/// The session of the request's cookie, if it is still alive.
pub async fn current_session(
    req: &HttpRequest,
    app: &AppState,
) -> Result<Option<SignedIn>, ApiError> {
    let Some(id) = read_cookie(req, &app.settings, crate::session::COOKIE) else {
        return Ok(None);
    };
    Ok(crate::session::get(&app.store, &id)
        .await?
        .map(|session| SignedIn {
            session_id: id,
            session,
        }))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// A session from a passkey sign-in.
    Full,
    /// A passkey sign-in, or a recovery session (which may only add a passkey).
    FullOrRecovery,
}

pub async fn require_session(
    req: &HttpRequest,
    app: &AppState,
    need: Need,
) -> Result<SignedIn, ApiError> {
    let signed_in = current_session(req, app).await?.ok_or_else(|| {
        ApiError::unauthorized(
            "login_required",
            "You are not signed in, or your session ended; sign in again.",
        )
    })?;
    if signed_in.session.restricted && need == Need::Full {
        return Err(ApiError::new(
            actix_web::http::StatusCode::FORBIDDEN,
            "login_required",
            "A recovery session can only add a new passkey; add one, then sign in with it.",
        ));
    }
    Ok(signed_in)
}

pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// CSRF defence for everything a session cookie authorises: a state-changing request that a
/// browser marks as coming from another site (Origin or Sec-Fetch-Site) is refused. SameSite
/// cookies and the JSON-only bodies are the other two layers.
pub async fn check_origin(
    req: ServiceRequest,
    next: actix_web::middleware::Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::EitherBody<impl MessageBody>>, actix_web::Error> {
    let state_changing = !matches!(
        *req.method(),
        actix_web::http::Method::GET
            | actix_web::http::Method::HEAD
            | actix_web::http::Method::OPTIONS
    );
    let path = req.path();
    let cookie_authorised = ["/webauthn/", "/account", "/logout", "/recover"]
        .iter()
        .any(|p| path.starts_with(p));
    if state_changing && cookie_authorised {
        let issuer = req
            .app_data::<web::Data<AppState>>()
            .map(|a| a.settings.issuer.clone())
            .unwrap_or_default();
        let header = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let foreign_origin = header("origin").is_some_and(|o| o != issuer);
        let cross_site = header("sec-fetch-site").is_some_and(|s| s == "cross-site");
        if foreign_origin || cross_site {
            tracing::warn!(target: "security", event = "csrf_refused", route = %path, "cross-site request refused");
            let err = ApiError::new(
                actix_web::http::StatusCode::FORBIDDEN,
                "invalid_request",
                "This request came from another site and was refused; use this site's own pages.",
            );
            let res = actix_web::ResponseError::error_response(&err);
            return Ok(req.into_response(res).map_into_right_body());
        }
    }
    next.call(req).await.map(|r| r.map_into_left_body())
}

pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found())
}

/// Reads the body up to the configured limit, refusing anything larger with a JSON 413.
pub async fn read_body(mut payload: web::Payload, limit: usize) -> Result<web::Bytes, ApiError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|_| ApiError::invalid_request("The request body could not be read."))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
        "invalid_request",
        format!("The request body is larger than {} KiB.", limit / 1024),
    )
}

/// JSON bodies only: a form or text post (as a cross-site form could send) is refused.
pub fn require_json(req: &HttpRequest) -> Result<(), ApiError> {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/json")
        })
        .unwrap_or(false);
    if is_json {
        Ok(())
    } else {
        Err(ApiError::new(
            actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request",
            "Send the request body as JSON with Content-Type: application/json.",
        ))
    }
}

pub async fn read_json<T: DeserializeOwned>(
    req: &HttpRequest,
    payload: web::Payload,
    settings: &Settings,
) -> Result<T, ApiError> {
    require_json(req)?;
    let body = read_body(payload, settings.max_body_bytes).await?;
    serde_json::from_slice(&body).map_err(|e| {
        ApiError::invalid_request(format!(
            "The request body is not the expected JSON ({}).",
            e.classify_message()
        ))
    })
}

trait ClassifyMessage {
    fn classify_message(&self) -> &'static str;
}

impl ClassifyMessage for serde_json::Error {
    fn classify_message(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                "malformed JSON"
            }
            serde_json::error::Category::Data => "a field is missing or has the wrong type",
            serde_json::error::Category::Io => "unreadable",
        }
    }
}

/// Cookie names get the `__Host-` prefix on https, which pins them to this exact origin.
pub fn cookie_name(settings: &Settings, base: &str) -> String {
    if settings.secure_cookies() {
        format!("__Host-{base}")
    } else {
        base.to_string()
    }
}

pub fn make_cookie(
    settings: &Settings,
    base: &str,
    value: String,
    max_age: Duration,
    same_site: SameSite,
) -> Cookie<'static> {
    Cookie::build(cookie_name(settings, base), value)
        .path("/")
        .http_only(true)
        .secure(settings.secure_cookies())
        .same_site(same_site)
        .max_age(actix_web::cookie::time::Duration::seconds(
            max_age.as_secs() as i64,
        ))
        .finish()
}

pub fn removal_cookie(settings: &Settings, base: &str) -> Cookie<'static> {
    let mut c = make_cookie(settings, base, String::new(), Duration::ZERO, SameSite::Lax);
    c.make_removal();
    c
}

pub fn read_cookie(req: &HttpRequest, settings: &Settings, base: &str) -> Option<String> {
    req.cookie(&cookie_name(settings, base))
        .map(|c| c.value().to_string())
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

/// The address a rate limit counts against: the TCP peer (a proxy's address when behind one).
pub fn client_addr(req: &HttpRequest) -> String {
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default()
}

/// Request log and metrics: one line per request with an id, the route pattern (never the
/// raw path or query, which can carry codes), the status and the latency.
pub async fn log_request(
    req: ServiceRequest,
    next: actix_web::middleware::Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let start = Instant::now();
    let request_id = crate::random::hex(&crate::random::bytes(8));
    let method = req.method().to_string();
    let app = req.app_data::<web::Data<AppState>>().cloned();
    let span = tracing::info_span!("request", request_id = %request_id);
    let mut res = next.call(req).instrument(span.clone()).await?;
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_string());
    let status = res.status().as_u16();
    span.in_scope(|| {
        tracing::info!(
            target: "http",
            method = %method,
            route = %route,
            status,
            latency_ms = start.elapsed().as_secs_f64() * 1000.0,
            "request"
        )
    });
    if let Some(app) = app {
        app.metrics.inc(
            "passkey_idp_http_requests_total",
            &[("route", &route), ("status", &status.to_string())],
        );
    }
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        res.headers_mut()
            .insert(header::HeaderName::from_static("x-request-id"), v);
    }
    Ok(res)
}

pub fn no_store(mut res: HttpResponse) -> HttpResponse {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
