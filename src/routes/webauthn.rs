//! `POST /webauthn/{register,login}/{begin,finish}` (docs/api.md, "Passkey ceremonies").

use actix_web::cookie::SameSite;
use actix_web::{post, web, HttpRequest, HttpResponse};

use super::answers::{Begun, PasskeyAnswer, RegisteredAnswer, SignedInAnswer, UserAnswer};
use super::body::{read_json, read_raw_json};
use super::cookies::{self, CEREMONY, SESSION};
use super::error::ApiError;
use super::{caller, client_addr, no_store};
use crate::ceremony::{
    CeremonyError, CeremonyStarted, FinishBody, RegistrationRequest, SignInRequest, SignedIn,
};
use crate::events::Event;
use crate::ids::CeremonyId;
use crate::state::AppState;

/// The answer to every `begin`: the options, and the ceremony id in a Strict cookie and in the
/// body (clients without cookies, on other origins or native, send it back as `ceremony`).
pub(super) fn begun(app: &AppState, started: CeremonyStarted) -> HttpResponse {
    let cookie = cookies::make(
        &app.settings,
        CEREMONY,
        started.ceremony_id.expose().to_string(),
        app.settings.webauthn.challenge_ttl,
        SameSite::Strict,
    );
    let answer = Begun {
        options: &started.options,
        ceremony: started.ceremony_id.expose(),
    };
    no_store(HttpResponse::Ok().cookie(cookie).json(answer))
}

/// A `finish` body, read once, and the ceremony it names by its cookie, its `ceremony` field,
/// or both in agreement.
pub(super) async fn finish_body(
    req: &HttpRequest,
    app: &AppState,
    payload: web::Payload,
) -> Result<(FinishBody, Result<Option<CeremonyId>, CeremonyError>), ApiError> {
    let body = FinishBody::read(&read_raw_json(req, payload, &app.settings).await?);
    let ceremony =
        crate::ceremony::bound_ceremony(cookies::ceremony(req, &app.settings), body.ceremony());
    Ok((body, ceremony))
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
    let refuse = |e| {
        refused(
            &app,
            "register",
            Event::RegistrationFailure,
            ApiError::Registration(e),
        )
    };
    let (body, ceremony) = finish_body(&req, &app, payload).await?;
    let ceremony = ceremony.map_err(refuse)?;
    let old = cookies::session(&req, &app.settings);
    let reg = app
        .passkeys
        .register(ceremony.as_ref(), body, old.as_ref(), &caller(&req))
        .await
        .map_err(refuse)?;
    super::known_user(&req, &reg.signed_in.user_id);
    let answer = RegisteredAnswer {
        status: "ok",
        user: UserAnswer {
            id: &reg.signed_in.user_id,
            username: &reg.username,
        },
        credential: PasskeyAnswer::from(&reg.passkey),
        access_token: &reg.signed_in.access_token,
        token_type: "Bearer",
        expires_in: reg.signed_in.expires_in,
    };
    Ok(with_session(&app, &reg.signed_in, &answer))
}

/// The answer of every sign-in (and sign-up): `answer`, with a new session cookie and the
/// ceremony cookie cleared.
pub(super) fn with_session(
    app: &AppState,
    signed: &SignedIn,
    answer: &impl serde::Serialize,
) -> HttpResponse {
    let session_cookie = cookies::make(
        &app.settings,
        SESSION,
        signed.session.expose().to_string(),
        app.sessions.lifetime(),
        SameSite::Lax,
    );
    no_store(
        HttpResponse::Ok()
            .cookie(session_cookie)
            .cookie(cookies::removal(&app.settings, CEREMONY))
            .json(answer),
    )
}

/// Signed in (a sign-in or a re-authentication): the service's own access token.
pub(super) fn signed_in(app: &AppState, signed: &SignedIn) -> HttpResponse {
    let answer = SignedInAnswer {
        status: "ok",
        access_token: &signed.access_token,
        token_type: "Bearer",
        expires_in: signed.expires_in,
    };
    with_session(app, signed, &answer)
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
    let refuse = |e| refused(&app, "login", Event::SigninFailure, ApiError::SignIn(e));
    let (body, ceremony) = finish_body(&req, &app, payload).await?;
    let ceremony = ceremony.map_err(refuse)?;
    let old = cookies::session(&req, &app.settings);
    let signed = app
        .passkeys
        .sign_in(ceremony.as_ref(), body, old.as_ref(), &caller(&req))
        .await
        .map_err(refuse)?;
    super::known_user(&req, &signed.user_id);
    Ok(signed_in(&app, &signed))
}
