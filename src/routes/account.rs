//! The account JSON endpoints (session cookie required), recovery and sign-out.

use actix_web::cookie::SameSite;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::body::{read_json, read_raw_json};
use super::cookies::{self, CEREMONY, SESSION};
use super::error::ApiError;
use super::webauthn::{begun, ceremony_of, signed_in};
use super::{caller, client_addr, no_store, require_session};
use crate::account::recovery::RecoverRequest;
use crate::events::Event;
use crate::session::{Need, RECOVERY_LIFETIME};
use crate::state::AppState;

/// Sensitive actions need a sign-in no older than `session.reauth_max_age_secs`.
fn recent(app: &AppState) -> Need {
    Need::Recent(app.settings.session.reauth_max_age.as_secs())
}

fn recent_or_recovery(app: &AppState) -> Need {
    Need::RecentOrRecovery(app.settings.session.reauth_max_age.as_secs())
}

#[get("/account/credentials")]
pub async fn list(app: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let s = require_session(&req, &app, Need::Full).await?;
    let creds = app.accounts.credentials(&s.session.user_id).await?;
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
    let name = app
        .accounts
        .rename(&s.session.user_id, &id, &body.name, &caller(&req))
        .await?;
    Ok(no_store(HttpResponse::Ok().json(
        json!({ "status": "ok", "id": id.as_str(), "name": name }),
    )))
}

#[delete("/account/credentials/{id}")]
pub async fn remove(
    app: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let s = require_session(&req, &app, recent(&app)).await?;
    app.accounts
        .delete(&s.session.user_id, &id, &s.session.sid, &caller(&req))
        .await?;
    Ok(no_store(HttpResponse::Ok().json(json!({ "status": "ok" }))))
}

/// Adding a passkey is the one thing a recovery session may do.
#[post("/account/credentials/begin")]
pub async fn add_begin(
    app: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let s = require_session(&req, &app, recent_or_recovery(&app)).await?;
    let started = app
        .passkeys
        .begin_adding(&s.session.user_id)
        .await
        .map_err(ApiError::Registration)?;
    Ok(begun(&app, started))
}

#[post("/account/credentials/finish")]
pub async fn add_finish(
    app: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let s = require_session(&req, &app, recent_or_recovery(&app)).await?;
    let body = read_raw_json(&req, payload, &app.settings).await?;
    let ceremony_id = ceremony_of(&req, &app, &body).map_err(ApiError::Registration)?;
    let recovery = s.session.restricted.then_some(s.session_id.as_str());
    let added = app
        .passkeys
        .add(
            &s.session.user_id,
            ceremony_id.as_deref(),
            &body,
            recovery,
            &caller(&req),
        )
        .await
        .map_err(ApiError::Registration)?;
    let mut res = HttpResponse::Ok();
    res.cookie(cookies::removal(&app.settings, CEREMONY));
    if recovery.is_some() {
        res.cookie(cookies::removal(&app.settings, SESSION));
    }
    Ok(no_store(res.json(json!({
        "status": "ok",
        "credential": { "id": added.id, "name": added.name, "synced": added.synced, "authenticator": added.authenticator },
    }))))
}

#[post("/account/recovery-codes")]
pub async fn recovery_codes(
    app: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let s = require_session(&req, &app, recent(&app)).await?;
    let codes = app.accounts.new_recovery_codes(&s.session.user_id).await?;
    Ok(no_store(HttpResponse::Ok().json(json!({ "codes": codes }))))
}

/// Username + one recovery code → a short recovery session whose only power is to add a passkey.
#[post("/recover")]
pub async fn recover(
    app: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    if super::body::is_form_request(req.headers()) {
        return Ok(super::pages::without_script(&req));
    }
    let body: RecoverRequest = read_json(&req, payload, &app.settings).await?;
    let old = cookies::read(&req, &app.settings, SESSION);
    let id = app
        .accounts
        .recover(
            body,
            &client_addr(&req, &app.settings),
            old.as_deref(),
            &caller(&req),
        )
        .await?;
    let cookie = cookies::make(
        &app.settings,
        SESSION,
        id,
        RECOVERY_LIFETIME,
        SameSite::Strict,
    );
    Ok(no_store(
        HttpResponse::Ok()
            .cookie(cookie)
            .json(json!({ "status": "ok", "next": "add_passkey" })),
    ))
}

/// `POST /logout`: from the account page's script (no body, or JSON) it ends the session and
/// answers JSON. A form is a relying service's RP-initiated logout and gets the end-session
/// endpoint's rules, except the pages' own "Sign out" form posted without JavaScript: an empty
/// form that the browser says comes from this site (`Origin` and `Sec-Fetch-Site`, which
/// another site cannot set), which ends the session and answers 303 to `/signed-out`.
#[post("/logout")]
pub async fn logout(
    app: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let form = super::body::is_form_request(req.headers());
    if form {
        let form = super::body::read_form_bytes(&req, payload, &app.settings).await?;
        let own_page = form.is_empty()
            && super::middleware::from_this_site(req.headers(), &app.settings.server.site.issuer);
        if !own_page {
            return super::oidc::end_session_posted(&app, &req, &form).await;
        }
    }
    if let Some(id) = cookies::read(&req, &app.settings, SESSION) {
        app.sessions.end(&id).await?;
    }
    let mut res = if form {
        super::see_other("/signed-out")
    } else {
        HttpResponse::Ok().json(json!({ "status": "ok" }))
    };
    res.add_cookie(&cookies::removal(&app.settings, SESSION))
        .map_err(crate::fault::Fault::internal)?;
    Ok(no_store(res))
}

/// Re-authentication: the signed-in person proves presence with one of their passkeys again,
/// which renews the sign-in time that sensitive actions look at.
#[post("/account/reauth/begin")]
pub async fn reauth_begin(
    app: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let s = require_session(&req, &app, Need::Full).await?;
    let started = app
        .passkeys
        .begin_reauthentication(&s.session.user_id)
        .await
        .map_err(ApiError::SignIn)?;
    Ok(begun(&app, started))
}

#[post("/account/reauth/finish")]
pub async fn reauth_finish(
    app: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let s = require_session(&req, &app, Need::Full).await?;
    let body = read_raw_json(&req, payload, &app.settings).await?;
    let ceremony_id = ceremony_of(&req, &app, &body).map_err(ApiError::SignIn)?;
    let signed = app
        .passkeys
        .reauthenticate(
            &s.session.user_id,
            ceremony_id.as_deref(),
            &body,
            &s.session_id,
            &caller(&req),
        )
        .await
        .map_err(ApiError::SignIn)?;
    Ok(signed_in(&app, signed, json!({ "status": "ok" })))
}

/// Where the person is signed in.
#[get("/account/sessions")]
pub async fn sessions(
    app: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let s = require_session(&req, &app, Need::Full).await?;
    let views = app
        .sessions
        .list(&s.session.user_id, &s.session.sid)
        .await?;
    Ok(no_store(HttpResponse::Ok().json(views)))
}

/// "Sign out everywhere else": every session of the user but this one ends (refresh tokens
/// issued to services are not touched).
#[delete("/account/sessions")]
pub async fn end_other_sessions(
    app: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let s = require_session(&req, &app, Need::Full).await?;
    let ended = app
        .sessions
        .end_others(&s.session.user_id, &s.session.sid)
        .await?;
    Event::SessionsEnded
        .now()
        .user(&s.session.user_id)
        .detail(format!("{ended} ended"))
        .report();
    Ok(no_store(
        HttpResponse::Ok().json(json!({ "status": "ok", "ended": ended })),
    ))
}

/// The person's own recent security events.
#[get("/account/events")]
pub async fn events(app: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let s = require_session(&req, &app, Need::Full).await?;
    let events = app.accounts.events(&s.session.user_id).await?;
    Ok(no_store(HttpResponse::Ok().json(events)))
}

/// Deletes the account (a recent sign-in or a re-authentication first): everything goes, as
/// with `users delete`, and the cookie is cleared.
#[delete("/account")]
pub async fn delete_account(
    app: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let s = require_session(&req, &app, recent(&app)).await?;
    app.accounts
        .delete_account(&s.session.user_id, &caller(&req))
        .await?;
    app.sessions.end(&s.session_id).await?;
    Ok(no_store(
        HttpResponse::Ok()
            .cookie(cookies::removal(&app.settings, SESSION))
            .json(json!({ "status": "ok" })),
    ))
}
