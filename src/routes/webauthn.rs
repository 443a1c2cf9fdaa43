//! `POST /webauthn/{register,login}/{begin,finish}` (API.md, "Passkey ceremonies").

use actix_web::cookie::SameSite;
use actix_web::{post, web, HttpRequest, HttpResponse};
use serde_json::json;

use super::{
    client_addr, make_cookie, no_store, read_body, read_cookie, read_json, removal_cookie,
    require_json,
};
use crate::ceremony::{self, authentication, registration, CEREMONY_COOKIE};
use crate::error::ApiError;
use crate::session;
use crate::state::AppState;

fn begun(app: &AppState, options: serde_json::Value, ceremony_id: String) -> HttpResponse {
    let cookie = make_cookie(
        &app.settings,
        CEREMONY_COOKIE,
        ceremony_id,
        app.settings.challenge_ttl,
        SameSite::Strict,
    );
    no_store(HttpResponse::Ok().cookie(cookie).json(options))
}

fn count(app: &AppState, kind: &str, outcome: &str) {
    app.metrics.inc(
        "passkey_idp_ceremonies_total",
        &[("kind", kind), ("outcome", outcome)],
    );
}

#[tracing::instrument(name = "register_begin", skip_all)]
#[post("/webauthn/register/begin")]
pub async fn register_begin(
    app: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body: registration::BeginRequest = read_json(&req, payload, &app.settings).await?;
    ceremony::check_rate_limit(&app, &client_addr(&req)).await?;
    let b = registration::begin(&app, body).await?;
    Ok(begun(&app, b.options, b.ceremony_id))
}

#[tracing::instrument(name = "register_finish", skip_all)]
#[post("/webauthn/register/finish")]
pub async fn register_finish(
    app: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    require_json(&req)?;
    let body = read_body(payload, app.settings.max_body_bytes).await?;
    let ceremony_id = read_cookie(&req, &app.settings, CEREMONY_COOKIE);
    let reg = match registration::finish(&app, ceremony_id.as_deref(), &body).await {
        Ok(reg) => reg,
        Err(e) => {
            count(&app, "register", e.code);
            tracing::info!(target: "security", event = "registration_failure", reason = e.code, "passkey registration refused");
            return Err(e);
        }
    };
    count(&app, "register", "ok");
    let old = read_cookie(&req, &app.settings, session::COOKIE);
    let signed = ceremony::sign_in(&app, &reg.user_id, reg.amr, old.as_deref()).await?;
    Ok(signed_in(
        &app,
        signed,
        json!({
            "status": "ok",
            "user": { "id": reg.user_id, "username": reg.username },
            "credential": { "id": reg.credential_id, "name": reg.credential_name, "synced": reg.synced },
        }),
    ))
}

/// The success response of both finishes: a new session cookie, the ceremony cookie cleared,
/// and the access token added to `body`.
fn signed_in(
    app: &AppState,
    signed: ceremony::SignedIn,
    mut body: serde_json::Value,
) -> HttpResponse {
    body["access_token"] = json!(signed.access_token);
    body["token_type"] = json!("Bearer");
    body["expires_in"] = json!(signed.expires_in);
    let session_cookie = make_cookie(
        &app.settings,
        session::COOKIE,
        signed.session_id,
        app.settings.session_lifetime,
        SameSite::Lax,
    );
    no_store(
        HttpResponse::Ok()
            .cookie(session_cookie)
            .cookie(removal_cookie(&app.settings, CEREMONY_COOKIE))
            .json(body),
    )
}

#[tracing::instrument(name = "login_begin", skip_all)]
#[post("/webauthn/login/begin")]
pub async fn login_begin(
    app: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body: authentication::BeginRequest = read_json(&req, payload, &app.settings).await?;
    ceremony::check_rate_limit(&app, &client_addr(&req)).await?;
    let b = authentication::begin(&app, body).await?;
    Ok(begun(&app, b.options, b.ceremony_id))
}

#[tracing::instrument(name = "login_finish", skip_all)]
#[post("/webauthn/login/finish")]
pub async fn login_finish(
    app: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    require_json(&req)?;
    let body = read_body(payload, app.settings.max_body_bytes).await?;
    let ceremony_id = read_cookie(&req, &app.settings, CEREMONY_COOKIE);
    let auth = match authentication::finish(&app, ceremony_id.as_deref(), &body).await {
        Ok(auth) => auth,
        Err(e) => {
            count(&app, "login", e.code);
            tracing::info!(target: "security", event = "signin_failure", reason = e.code, "passkey sign-in refused");
            return Err(e);
        }
    };
    count(&app, "login", "ok");
    let old = read_cookie(&req, &app.settings, session::COOKIE);
    let signed = ceremony::sign_in(&app, &auth.user_id, auth.amr, old.as_deref()).await?;
    Ok(signed_in(&app, signed, json!({ "status": "ok" })))
}
