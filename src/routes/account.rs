//! The account JSON endpoints (session cookie required), recovery and sign-out.

use actix_web::cookie::SameSite;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::answers::{
    AddedAnswer, CodesAnswer, EndedAnswer, PasskeyAnswer, RecoveringAnswer, RenamedAnswer, DONE,
};
use super::body::read_json;
use super::cookies::{self, CEREMONY, SESSION};
use super::error::ApiError;
use super::webauthn::{begun, finish_body, signed_in};
use super::{caller, client_addr, no_store, require_session};
use crate::account::recovery::RecoverRequest;
use crate::events::Event;
use crate::ids::CredentialId;
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
        .rename(
            &s.session.user_id,
            &CredentialId::from(id.as_str()),
            &body.name,
            &caller(&req),
        )
        .await?;
    Ok(no_store(HttpResponse::Ok().json(RenamedAnswer {
        status: "ok",
        id: &id,
        name: &name,
    })))
}

#[delete("/account/credentials/{id}")]
pub async fn remove(
    app: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let s = require_session(&req, &app, recent(&app)).await?;
    app.accounts
        .delete(
            &s.session.user_id,
            &CredentialId::from(id.as_str()),
            &s.session.sid,
            &caller(&req),
        )
        .await?;
    Ok(no_store(HttpResponse::Ok().json(DONE)))
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
    let (body, ceremony) = finish_body(&req, &app, payload).await?;
    let ceremony = ceremony.map_err(ApiError::Registration)?;
    let recovery = s.session.restricted.then_some(&s.secret);
    let added = app
        .passkeys
        .add(
            &s.session.user_id,
            ceremony.as_ref(),
            body,
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
    Ok(no_store(res.json(AddedAnswer {
        status: "ok",
        credential: PasskeyAnswer::from(&added),
    })))
}

#[post("/account/recovery-codes")]
pub async fn recovery_codes(
    app: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let s = require_session(&req, &app, recent(&app)).await?;
    let codes = app.accounts.new_recovery_codes(&s.session.user_id).await?;
    Ok(no_store(
        HttpResponse::Ok().json(CodesAnswer { codes: &codes }),
    ))
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
    let old = cookies::session(&req, &app.settings);
    let secret = app
        .accounts
        .recover(
            body,
            &client_addr(&req, &app.settings),
            old.as_ref(),
            &caller(&req),
        )
        .await?;
    let cookie = cookies::make(
        &app.settings,
        SESSION,
        secret.expose().to_string(),
        RECOVERY_LIFETIME,
        SameSite::Strict,
    );
    Ok(no_store(HttpResponse::Ok().cookie(cookie).json(
        RecoveringAnswer {
            status: "ok",
            next: "add_passkey",
        },
    )))
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
    if let Some(secret) = cookies::session(&req, &app.settings) {
        app.sessions.end(&secret).await?;
    }
    let mut res = if form {
        super::see_other("/signed-out")
    } else {
        HttpResponse::Ok().json(DONE)
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
    let (body, ceremony) = finish_body(&req, &app, payload).await?;
    let ceremony = ceremony.map_err(ApiError::SignIn)?;
    let signed = app
        .passkeys
        .reauthenticate(
            &s.session.user_id,
            ceremony.as_ref(),
            body,
            &s.secret,
            &caller(&req),
        )
        .await
        .map_err(ApiError::SignIn)?;
    Ok(signed_in(&app, &signed))
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
    Ok(no_store(HttpResponse::Ok().json(EndedAnswer {
        status: "ok",
        ended,
    })))
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
    app.sessions.end(&s.secret).await?;
    Ok(no_store(
        HttpResponse::Ok()
            .cookie(cookies::removal(&app.settings, SESSION))
            .json(DONE),
    ))
}
