//! OIDC-lite endpoints (docs/api.md): discovery, authorize, token, userinfo, logout, revoke.
//! Every URL built here starts from the configured issuer, never from Host or X-Forwarded-*.

use actix_web::http::header;
use actix_web::{get, post, route, web, HttpRequest, HttpResponse};
use base64::Engine;
use serde::Deserialize;

use super::body::{read_form, read_form_bytes};
use super::cookies::{self, SESSION};
use super::error::{self, ApiError};
use super::pages::form_post::form_post_page;
use super::pages::refused::refused_page;
use super::pages::signed_out::signed_out_page;
use super::{client_addr, current_session, see_other};
use crate::events::Event;
use crate::fault::Fault;
use crate::oidc::{self, OAuthError, Outcome};
use crate::signing::KeyAlg;
use crate::state::AppState;

#[get("/.well-known/openid-configuration")]
pub async fn discovery(app: web::Data<AppState>) -> HttpResponse {
    let keys = app.keys.current();
    let algs: Vec<&str> = [KeyAlg::RS256, KeyAlg::ES256, KeyAlg::EdDSA]
        .into_iter()
        .filter(|alg| keys.active(*alg).is_some())
        .map(KeyAlg::name)
        .collect();
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(oidc::discovery(&app.settings.server.site.issuer, &algs))
}

/// The answer to the client: a 303 to the redirect URI with the parameters in its query, or
/// with `response_mode=form_post` a page that posts them there (the OAuth 2.0 Form Post Response
/// Mode).
fn back_to_client(
    app: &AppState,
    req: &HttpRequest,
    redirect_uri: &str,
    params: &[(&str, &str)],
    form_post: bool,
) -> Result<HttpResponse, ApiError> {
    if !form_post {
        return Ok(see_other(&oidc::redirect_with(redirect_uri, params)));
    }
    form_post_page(app, req, redirect_uri, params)
}

fn answer(app: &AppState, req: &HttpRequest, outcome: Outcome) -> Result<HttpResponse, ApiError> {
    match outcome {
        Outcome::SignIn(to) => Ok(see_other(&to)),
        Outcome::Respond(r) => {
            let params: Vec<(&str, &str)> =
                r.params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            back_to_client(app, req, &r.redirect_uri, &params, r.form_post)
        }
        Outcome::ErrorRedirect {
            redirect_uri,
            state,
            error,
            form_post,
        } => {
            let (code, description) = error::authorize(&error);
            Event::AuthorizeRefused.now().reason(code).report();
            let mut params = vec![("error", code), ("error_description", description)];
            if let Some(state) = state.as_deref() {
                params.push(("state", state));
            }
            params.push(("iss", &app.settings.server.site.issuer));
            back_to_client(app, req, &redirect_uri, &params, form_post)
        }
        Outcome::ErrorPage(refused) => refused_page(app, req, refused),
    }
}

#[route("/authorize", method = "GET", method = "POST")]
pub async fn authorize(
    app: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    app.oidc.admit(&client_addr(&req, &app.settings)).await?;
    let encoded = if req.method() == actix_web::http::Method::POST {
        let form = read_form_bytes(&req, payload, &app.settings).await?;
        if let Some(again) = again_as_get(&app, &req, "/authorize", &form) {
            return Ok(again);
        }
        form
    } else {
        web::Bytes::copy_from_slice(req.query_string().as_bytes())
    };
    let Ok(params) = oidc::AuthorizeParams::parse(&encoded) else {
        return answer(&app, &req, Outcome::ErrorPage(oidc::Refused::Unreadable));
    };
    let session = current_session(&req, &app).await?.map(|s| s.session);
    let outcome = app.oidc.authorize(params, session).await?;
    answer(&app, &req, outcome)
}

#[derive(Debug, Deserialize)]
pub struct ContinueQuery {
    request: String,
}

#[get("/authorize/continue")]
pub async fn authorize_continue(
    app: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<ContinueQuery>,
) -> Result<HttpResponse, ApiError> {
    app.oidc.admit(&client_addr(&req, &app.settings)).await?;
    let session = current_session(&req, &app).await?.map(|s| s.session);
    let outcome = app.oidc.continue_authorize(&query.request, session).await?;
    answer(&app, &req, outcome)
}

/// `Authorization: Basic` credentials, form-urlencoded inside as RFC 6749 §2.3.1 says.
/// `Ok(None)` when there is no such header; a malformed one is `invalid_client`.
fn basic_credentials(req: &HttpRequest) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || {
        OAuthError::InvalidClient("The Authorization header is not valid HTTP Basic credentials.")
    };
    let value = value.to_str().map_err(|_| malformed())?;
    let Some(encoded) = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))
    else {
        return Err(malformed());
    };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| malformed())?;
    let text = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = text.split_once(':').ok_or_else(malformed)?;
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    match (unescape(id), unescape(secret)) {
        (Some(id), Some(secret)) if !id.is_empty() => Ok(Some((id, secret))),
        _ => Err(malformed()),
    }
}

/// `client_secret_post` credentials (RFC 6749 §2.3.1), in any form that authenticates a client.
#[derive(Debug, Default, Deserialize)]
pub struct ClientAuthFields {
    client_id: Option<String>,
    client_secret: Option<String>,
}

trait ClientForm: serde::de::DeserializeOwned {
    fn auth(&self) -> &ClientAuthFields;
}

impl ClientForm for TokenForm {
    fn auth(&self) -> &ClientAuthFields {
        &self.auth
    }
}

impl ClientForm for RevokeForm {
    fn auth(&self) -> &ClientAuthFields {
        &self.auth
    }
}

/// Reads a form and authenticates the client that sent it (Basic header or form fields).
async fn authenticated<F: ClientForm>(
    app: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<(oidc::Client, F), ApiError> {
    app.oidc.admit(&client_addr(req, &app.settings)).await?;
    let basic = basic_credentials(req)?;
    let form: F = read_form(req, payload, &app.settings)
        .await
        .map_err(ApiError::Request)?;
    let client = app
        .oidc
        .authenticate(oidc::ClientCredentials {
            basic,
            form_id: form.auth().client_id.clone(),
            form_secret: form.auth().client_secret.clone(),
        })
        .await?;
    Ok((client, form))
}

#[derive(Debug, Deserialize)]
pub struct TokenForm {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
    scope: Option<String>,
    #[serde(flatten)]
    auth: ClientAuthFields,
}

#[post("/token")]
pub async fn token_endpoint(
    app: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (client, form) = authenticated::<TokenForm>(&app, &req, payload).await?;
    let tokens = match form.grant_type.as_deref() {
        Some("authorization_code") => {
            app.oidc
                .redeem_code(
                    &client,
                    form.code.as_deref(),
                    form.redirect_uri.as_deref(),
                    form.code_verifier.as_deref(),
                )
                .await?
        }
        Some("refresh_token") => {
            app.oidc
                .refresh(
                    &client,
                    form.refresh_token.as_deref(),
                    form.scope.as_deref(),
                )
                .await?
        }
        Some(_) => return Err(OAuthError::UnsupportedGrantType.into()),
        None => return Err(OAuthError::InvalidRequest("grant_type is required.").into()),
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(tokens))
}

#[derive(Debug, Default, Deserialize)]
pub struct UserinfoForm {
    access_token: Option<String>,
}

#[route("/userinfo", method = "GET", method = "POST")]
pub async fn userinfo(
    app: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    app.oidc.admit(&client_addr(&req, &app.settings)).await?;
    let from_header = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_string());
    let token = match from_header {
        Some(t) => Some(t),
        None if req.method() == actix_web::http::Method::POST => {
            read_form::<UserinfoForm>(&req, payload, &app.settings)
                .await
                .ok()
                .and_then(|f| f.access_token)
        }
        None => None,
    };
    let token = token
        .filter(|t| !t.is_empty())
        .ok_or(OAuthError::NoBearerToken)?;
    let claims = app.oidc.verify_access_token(&token).await?;
    let body = app.oidc.userinfo(&claims).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body))
}

/// RP-initiated logout: the IdP session ends, then back to a registered URI or a page.
#[get("/logout")]
pub async fn end_session(
    app: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<oidc::LogoutParams>,
) -> Result<HttpResponse, ApiError> {
    end_session_with(&app, &req, &query).await
}

/// A form posted from a service's site carries no SameSite=Lax cookie: when it came without
/// ours, the answer is a 303 to the same request as a GET at `path` (a top-level navigation,
/// which carries it). Up to 4 KiB, a length every browser and server takes in a URL. The
/// parameters are encoded again, never copied, so the `Location` is always a valid URL.
fn again_as_get(
    app: &AppState,
    req: &HttpRequest,
    path: &str,
    form: &[u8],
) -> Option<HttpResponse> {
    let without_cookie = cookies::read(req, &app.settings, SESSION).is_none();
    (without_cookie && form.len() <= 4096).then(|| {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(url::form_urlencoded::parse(form))
            .finish();
        see_other(&format!(
            "{}{path}?{query}",
            app.settings.server.site.issuer
        ))
    })
}

/// RP-initiated logout by POST (RP-Initiated Logout 1.0 §2: GET and POST alike). A form posted
/// from the service's site carries no SameSite=Lax cookie: it is answered with the same request
/// as a GET, a top-level navigation that does carry it.
pub async fn end_session_posted(
    app: &AppState,
    req: &HttpRequest,
    form: &[u8],
) -> Result<HttpResponse, ApiError> {
    if let Some(again) = again_as_get(app, req, "/logout", form) {
        return Ok(again);
    }
    let params: oidc::LogoutParams = serde_urlencoded::from_bytes(form)
        .map_err(|_| ApiError::Request(error::RequestError::BadForm))?;
    end_session_with(app, req, &params).await
}

async fn end_session_with(
    app: &AppState,
    req: &HttpRequest,
    params: &oidc::LogoutParams,
) -> Result<HttpResponse, ApiError> {
    let current = current_session(req, app).await?;
    let current_sid = current.as_ref().map(|s| s.session.sid.as_str());
    let outcome = app.oidc.end_session(params, current_sid).await?;
    if let oidc::EndSession::Confirm(service) = &outcome {
        return signed_out_page(app, req, Some(service.as_deref()));
    }
    if let Some(secret) = cookies::session(req, &app.settings) {
        app.sessions.end(&secret).await?;
    }
    Event::Logout.now().report();
    let removal = cookies::removal(&app.settings, SESSION);
    let mut res = match outcome {
        oidc::EndSession::Redirect(to) => see_other(&to),
        _ => signed_out_page(app, req, None)?,
    };
    res.add_cookie(&removal).map_err(Fault::internal)?;
    Ok(res)
}

#[derive(Debug, Deserialize)]
pub struct RevokeForm {
    token: Option<String>,
    token_type_hint: Option<String>,
    #[serde(flatten)]
    auth: ClientAuthFields,
}

#[post("/revoke")]
pub async fn revoke(
    app: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (client, form) = authenticated::<RevokeForm>(&app, &req, payload).await?;
    let token = form
        .token
        .as_deref()
        .filter(|t| !t.is_empty())
        .ok_or(OAuthError::InvalidRequest("token is required."))?;
    app.oidc
        .revoke(&client, token, form.token_type_hint.as_deref())
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}
