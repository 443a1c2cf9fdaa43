//! `POST /webauthn/{register,login}/{begin,finish}` (docs/api.md, "Passkey ceremonies").

use actix_web::cookie::SameSite;
use actix_web::{post, web, HttpRequest, HttpResponse};
use serde_json::json;

use super::body::{read_json, read_raw_json};
use super::cookies::{self, CEREMONY, SESSION};
use super::error::ApiError;
use super::{caller, client_addr, no_store};
use crate::ceremony::{
    CeremonyError, CeremonyStarted, RegistrationRequest, SignInRequest, SignedIn,
};
use crate::events::Event;
use crate::state::AppState;

/// The answer to every `begin`: the options, and the ceremony id in a Strict cookie.
pub(super) fn begun(app: &AppState, started: CeremonyStarted) -> HttpResponse {
    let cookie = cookies::make(
        &app.settings,
        CEREMONY,
        started.ceremony_id,
        app.settings.webauthn.challenge_ttl,
        SameSite::Strict,
    );
    let mut options = started.options;
    // Clients without cookies (other origins, native apps) send it back as the `ceremony` field.
    options["ceremony"] = json!(cookie.value());
    no_store(HttpResponse::Ok().cookie(cookie).json(options))
}

/// The ceremony a `finish` names, by its cookie, its `ceremony` field, or both in agreement.
pub(super) fn ceremony_of(
    req: &HttpRequest,
    app: &AppState,
    body: &[u8],
) -> Result<Option<String>, CeremonyError> {
    let cookie = cookies::read(req, &app.settings, CEREMONY);
    let field = crate::ceremony::ceremony_field(body);
    Ok(crate::ceremony::bound_ceremony(cookie.as_deref(), field.as_deref())?.map(str::to_string))
}

/// Reports a refused ceremony (the security event, with its stable code, and the ceremony
/// metric).
fn refused(app: &AppState, kind: &str, event: Event, e: ApiError) -> ApiError {
    let code = e.code();
    app.metrics.inc(
        "passkey_idp_ceremonies_total",
        &[("kind", kind), ("outcome", code)],
    );
    event.now().reason(code).report();
    e
}

#[tracing::instrument(name = "register_begin", skip_all)]
#[post("/webauthn/register/begin")]
pub async fn register_begin(
    app: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body: RegistrationRequest = read_json(&req, payload, &app.settings).await?;
    let started = app
        .passkeys
        .begin_registration(body, &client_addr(&req, &app.settings))
        .await
        .map_err(ApiError::Registration)?;
    Ok(begun(&app, started))
}

#[tracing::instrument(name = "register_finish", skip_all)]
#[post("/webauthn/register/finish")]
pub async fn register_finish(
    app: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_raw_json(&req, payload, &app.settings).await?;
    let ceremony_id = ceremony_of(&req, &app, &body).map_err(|e| {
        refused(
            &app,
            "register",
            Event::RegistrationFailure,
            ApiError::Registration(e),
        )
    })?;
    let old = cookies::read(&req, &app.settings, SESSION);
    let reg = app
        .passkeys
        .register(ceremony_id.as_deref(), &body, old.as_deref(), &caller(&req))
        .await
        .map_err(|e| {
            refused(
                &app,
                "register",
                Event::RegistrationFailure,
                ApiError::Registration(e),
            )
        })?;
    let body = json!({
        "status": "ok",
        "user": { "id": reg.signed_in.user_id, "username": reg.username },
        "credential": { "id": reg.passkey.id, "name": reg.passkey.name, "synced": reg.passkey.synced, "authenticator": reg.passkey.authenticator },
    });
    Ok(signed_in(&app, reg.signed_in, body))
}

/// The success response of every assertion or sign-up finish: a new session cookie, the ceremony cookie cleared,
/// and the access token added to `body`.
pub(super) fn signed_in(
    app: &AppState,
    signed: SignedIn,
    mut body: serde_json::Value,
) -> HttpResponse {
    body["access_token"] = json!(signed.access_token);
    body["token_type"] = json!("Bearer");
    body["expires_in"] = json!(signed.expires_in);
    let session_cookie = cookies::make(
        &app.settings,
        SESSION,
        signed.session_id,
        app.sessions.lifetime(),
        SameSite::Lax,
    );
    no_store(
        HttpResponse::Ok()
            .cookie(session_cookie)
            .cookie(cookies::removal(&app.settings, CEREMONY))
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
    let body: SignInRequest = read_json(&req, payload, &app.settings).await?;
    let started = app
        .passkeys
        .begin_sign_in(body, &client_addr(&req, &app.settings))
        .await
        .map_err(ApiError::SignIn)?;
    Ok(begun(&app, started))
}

#[tracing::instrument(name = "login_finish", skip_all)]
#[post("/webauthn/login/finish")]
pub async fn login_finish(
    app: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_raw_json(&req, payload, &app.settings).await?;
    let ceremony_id = ceremony_of(&req, &app, &body)
        .map_err(|e| refused(&app, "login", Event::SigninFailure, ApiError::SignIn(e)))?;
    let old = cookies::read(&req, &app.settings, SESSION);
    let signed = app
        .passkeys
        .sign_in(ceremony_id.as_deref(), &body, old.as_deref(), &caller(&req))
        .await
        .map_err(|e| refused(&app, "login", Event::SigninFailure, ApiError::SignIn(e)))?;
    Ok(signed_in(&app, signed, json!({ "status": "ok" })))
}
