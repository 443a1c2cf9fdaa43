//! The account JSON endpoints of API.md (session cookie required), recovery and sign-out.

use actix_web::cookie::SameSite;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::{
    client_addr, make_cookie, no_store, read_body, read_cookie, read_json, removal_cookie,
    require_json, require_session, Need,
};
use crate::ceremony::{registration, CEREMONY_COOKIE};
use crate::error::ApiError;
use crate::session::{self, Session};
use crate::state::AppState;

#[get("/account/credentials")]
pub async fn list(app: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let s = require_session(&req, &app, Need::Full).await?;
    let creds = crate::account::credentials(&app, &s.session.user_id).await?;
    Ok(no_store(HttpResponse::Ok().json(creds)))
}

#[derive(Debug, Deserialize)]
pub struct RenameRequest {
    name: String,
}

#[patch("/account/credentials/{id}")]
pub async fn rename(
    app: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let s = require_session(&req, &app, Need::Full).await?;
    let body: RenameRequest = read_json(&req, payload, &app.settings).await?;
    crate::account::rename(&app, &s.session.user_id, &id, &body.name).await?;
    Ok(no_store(HttpResponse::Ok().json(
        json!({ "status": "ok", "id": id.as_str(), "name": body.name.trim() }),
    )))
}

#[delete("/account/credentials/{id}")]
pub async fn remove(
    app: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let s = require_session(&req, &app, Need::Full).await?;
    crate::account::delete(&app, &s.session.user_id, &id).await?;
    Ok(no_store(HttpResponse::Ok().json(json!({ "status": "ok" }))))
}

/// Adding a passkey is the one thing a recovery session may do.
#[post("/account/credentials/begin")]
pub async fn add_begin(
    app: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let s = require_session(&req, &app, Need::FullOrRecovery).await?;
    let b = registration::add_begin(&app, &s.session.user_id).await?;
    let cookie = make_cookie(
        &app.settings,
        CEREMONY_COOKIE,
        b.ceremony_id,
        app.settings.challenge_ttl,
        SameSite::Strict,
    );
    Ok(no_store(HttpResponse::Ok().cookie(cookie).json(b.options)))
}

#[post("/account/credentials/finish")]
pub async fn add_finish(
    app: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let s = require_session(&req, &app, Need::FullOrRecovery).await?;
    require_json(&req)?;
    let body = read_body(payload, app.settings.max_body_bytes).await?;
    let ceremony_id = read_cookie(&req, &app.settings, CEREMONY_COOKIE);
    let added =
        registration::add_finish(&app, &s.session.user_id, ceremony_id.as_deref(), &body).await?;
    let mut res = HttpResponse::Ok();
    res.cookie(removal_cookie(&app.settings, CEREMONY_COOKIE));
    if s.session.restricted {
        // The recovery session has done its one job: the new passkey is the way in now.
        session::end(&app.store, &s.session_id).await?;
        res.cookie(removal_cookie(&app.settings, session::COOKIE));
    }
    Ok(no_store(res.json(json!({
        "status": "ok",
        "credential": { "id": added.credential_id, "name": added.name, "synced": added.synced },
    }))))
}

#[post("/account/recovery-codes")]
pub async fn recovery_codes(
    app: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let s = require_session(&req, &app, Need::Full).await?;
    let codes = crate::account::new_recovery_codes(&app, &s.session.user_id).await?;
    Ok(no_store(HttpResponse::Ok().json(json!({ "codes": codes }))))
}

/// Username + one recovery code → a short recovery session whose only power is to add a passkey.
#[post("/recover")]
pub async fn recover(
    app: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body: crate::account::RecoverRequest = read_json(&req, payload, &app.settings).await?;
    let user_id = crate::account::recover(&app, body, &client_addr(&req)).await?;
    let old = read_cookie(&req, &app.settings, session::COOKIE);
    let recovery = Session {
        user_id,
        auth_time: chrono::Utc::now().timestamp(),
        amr: vec!["otp".to_string()],
        restricted: true,
    };
    let ttl = crate::account::RECOVERY_SESSION;
    let id = session::start(&app.store, &recovery, ttl, old.as_deref()).await?;
    let cookie = make_cookie(&app.settings, session::COOKIE, id, ttl, SameSite::Strict);
    Ok(no_store(
        HttpResponse::Ok()
            .cookie(cookie)
            .json(json!({ "status": "ok", "next": "add_passkey" })),
    ))
}

#[post("/logout")]
pub async fn logout(app: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    if let Some(id) = read_cookie(&req, &app.settings, session::COOKIE) {
        session::end(&app.store, &id).await?;
    }
    Ok(no_store(
        HttpResponse::Ok()
            .cookie(removal_cookie(&app.settings, session::COOKIE))
            .json(json!({ "status": "ok" })),
    ))
}
