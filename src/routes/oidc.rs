//! OIDC-lite endpoints (API.md): discovery, authorize, token, userinfo, logout, revoke.
//! Every URL built here starts from the configured issuer, never from Host or X-Forwarded-*.

use actix_web::http::header;
use actix_web::{get, post, route, web, HttpRequest, HttpResponse, ResponseError};
use askama::Template;
use base64::Engine;
use serde::Deserialize;

use super::{current_session, read_body, removal_cookie, see_other};
use crate::error::ApiError;
use crate::oidc::{self, Outcome};
use crate::session;
use crate::state::AppState;

#[get("/.well-known/openid-configuration")]
pub async fn discovery(app: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(oidc::discovery(&app))
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    rp_name: &'a str,
    message: &'a str,
}

fn answer(app: &AppState, outcome: Outcome) -> Result<HttpResponse, ApiError> {
    match outcome {
        Outcome::Redirect(to) | Outcome::SignIn(to) => Ok(see_other(&to)),
        Outcome::ErrorPage(message) => {
            let body = ErrorPage {
                rp_name: &app.settings.rp_name,
                message: &message,
            }
            .render()
            .map_err(ApiError::internal)?;
            Ok(HttpResponse::BadRequest()
                .content_type("text/html; charset=utf-8")
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .body(body))
        }
    }
}

/// Form bodies only (`application/x-www-form-urlencoded`), as OAuth prescribes.
async fn read_form<T: serde::de::DeserializeOwned>(
    req: &HttpRequest,
    payload: web::Payload,
    app: &AppState,
) -> Result<T, ApiError> {
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !is_form {
        return Err(ApiError::invalid_request(
            "Send the parameters as application/x-www-form-urlencoded.",
        ));
    }
    let body = read_body(payload, app.settings.max_body_bytes).await?;
    serde_urlencoded::from_bytes(&body)
        .map_err(|_| ApiError::invalid_request("The form parameters could not be read."))
}

#[route("/authorize", method = "GET", method = "POST")]
pub async fn authorize(
    app: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let params: oidc::AuthorizeParams = if req.method() == actix_web::http::Method::POST {
        read_form(&req, payload, &app).await?
    } else {
        match serde_urlencoded::from_str(req.query_string()) {
            Ok(p) => p,
            Err(_) => {
                return answer(
                    &app,
                    Outcome::ErrorPage("The request's parameters could not be read.".into()),
                )
            }
        }
    };
    let session = current_session(&req, &app).await?.map(|s| s.session);
    let outcome = oidc::authorize(&app, params, session).await?;
    answer(&app, outcome)
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
    let session = current_session(&req, &app).await?.map(|s| s.session);
    let outcome = oidc::continue_authorize(&app, &query.request, session).await?;
    answer(&app, outcome)
}

/// `Authorization: Basic` credentials, form-urlencoded inside as RFC 6749 §2.3.1 says.
/// `Ok(None)` when there is no such header; a malformed one is `invalid_client`.
fn basic_credentials(req: &HttpRequest) -> Result<Option<(String, String)>, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || {
        oidc::tokens_invalid_client("The Authorization header is not valid HTTP Basic credentials.")
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

/// An OAuth error response: no-store, and a `WWW-Authenticate` challenge for `invalid_client`.
fn oauth_error(e: ApiError) -> HttpResponse {
    let mut res = e.error_response();
    if e.code == "invalid_client" {
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Basic realm=\"passkey-idp\""),
        );
    }
    res.headers_mut()
        .insert(header::PRAGMA, header::HeaderValue::from_static("no-cache"));
    res
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
    let basic = basic_credentials(req)?;
    let form: F = read_form(req, payload, app).await?;
    let client = oidc::authenticate(
        app,
        oidc::ClientCredentials {
            basic,
            form_id: form.auth().client_id.clone(),
            form_secret: form.auth().client_secret.clone(),
        },
    )
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
) -> HttpResponse {
    let (client, form) = match authenticated::<TokenForm>(&app, &req, payload).await {
        Ok(found) => found,
        Err(e) => return oauth_error(e),
    };
    let result = async {
        match form.grant_type.as_deref() {
            Some("authorization_code") => {
                oidc::redeem_code(
                    &app,
                    &client,
                    form.code.as_deref(),
                    form.redirect_uri.as_deref(),
                    form.code_verifier.as_deref(),
                )
                .await
            }
            Some("refresh_token") => {
                oidc::refresh(
                    &app,
                    &client,
                    form.refresh_token.as_deref(),
                    form.scope.as_deref(),
                )
                .await
            }
            Some(_) => Err(ApiError::bad_request(
                "unsupported_grant_type",
                "Only authorization_code and refresh_token grants are supported.",
            )),
            None => Err(ApiError::invalid_request("grant_type is required.")),
        }
    }
    .await;
    match result {
        Ok(tokens) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::PRAGMA, "no-cache"))
            .json(tokens),
        Err(e) => oauth_error(e),
    }
}

/// 401 with the RFC 6750 challenge.
fn bearer_error(e: ApiError) -> HttpResponse {
    let mut res = e.error_response();
    let code = if e.code == "invalid_token" {
        "invalid_token"
    } else {
        "invalid_request"
    };
    let value = format!(
        "Bearer realm=\"passkey-idp\", error=\"{code}\", error_description=\"{}\"",
        e.description.replace(['"', '\\'], "")
    );
    if let Ok(v) = header::HeaderValue::from_str(&value) {
        res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    res
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
) -> HttpResponse {
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
            read_form::<UserinfoForm>(&req, payload, &app)
                .await
                .ok()
                .and_then(|f| f.access_token)
        }
        None => None,
    };
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        let mut res = bearer_error(ApiError::unauthorized(
            "invalid_token",
            "A Bearer access token is required.",
        ));
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer realm=\"passkey-idp\""),
        );
        return res;
    };
    let result = async {
        let claims = oidc::verify_access_token(&app, &token).await?;
        oidc::userinfo(&app, &claims).await
    }
    .await;
    match result {
        Ok(body) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(body),
        Err(e) if e.code == "invalid_token" => bearer_error(e),
        Err(e) => e.error_response(),
    }
}

#[derive(Template)]
#[template(path = "logged_out.html")]
struct LoggedOut<'a> {
    rp_name: &'a str,
    /// Ask first (no valid id_token_hint) rather than report.
    confirm: bool,
}

/// RP-initiated logout: the IdP session ends, then back to a registered URI or a page.
#[get("/logout")]
pub async fn end_session(
    app: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<oidc::LogoutParams>,
) -> Result<HttpResponse, ApiError> {
    let outcome = oidc::end_session(&app, &query).await?;
    let page = |confirm: bool| {
        LoggedOut {
            rp_name: &app.settings.rp_name,
            confirm,
        }
        .render()
        .map_err(ApiError::internal)
    };
    if let oidc::EndSession::Confirm = outcome {
        return Ok(HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(page(true)?));
    }
    if let Some(id) = super::read_cookie(&req, &app.settings, session::COOKIE) {
        session::end(&app.store, &id).await?;
    }
    tracing::info!(target: "security", event = "logout", "session ended by RP-initiated logout");
    let removal = removal_cookie(&app.settings, session::COOKIE);
    match outcome {
        oidc::EndSession::Redirect(to) => {
            let mut res = see_other(&to);
            res.add_cookie(&removal).map_err(ApiError::internal)?;
            Ok(res)
        }
        _ => Ok(HttpResponse::Ok()
            .cookie(removal)
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(page(false)?)),
    }
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
) -> HttpResponse {
    let (client, form) = match authenticated::<RevokeForm>(&app, &req, payload).await {
        Ok(found) => found,
        Err(e) => return oauth_error(e),
    };
    let result = async {
        let token = form
            .token
            .as_deref()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::invalid_request("token is required."))?;
        oidc::revoke(&app, &client, token, form.token_type_hint.as_deref()).await
    }
    .await;
    match result {
        Ok(()) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish(),
        Err(e) => oauth_error(e),
    }
}
