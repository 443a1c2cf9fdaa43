//! OIDC-lite: the authorization code flow with PKCE (S256 only), strict enough for certified
//! relying-party libraries and closed to the classic OAuth attacks. No HTTP types here beyond
//! status codes; the handlers live in `routes/oidc.rs`.

pub mod clients;
mod tokens;

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Utc;
use serde::{Deserialize, Serialize};

pub use self::clients::Client;
pub use self::tokens::{
    authenticate, end_session, invalid_client as tokens_invalid_client, redeem_code, refresh,
    revoke, userinfo, verify_access_token, ClientCredentials, EndSession, LogoutParams,
    TokenResponse,
};
use crate::error::ApiError;
use crate::session::Session;
use crate::state::AppState;

/// How long an authorization request waits for the person to sign in.
const PENDING_TTL: Duration = Duration::from_secs(600);

/// The parameters of `/authorize`, as sent (GET query or POST form).
#[derive(Debug, Default, Deserialize)]
pub struct AuthorizeParams {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
    pub login_hint: Option<String>,
    pub response_mode: Option<String>,
    pub request: Option<String>,
    pub request_uri: Option<String>,
}

/// A validated authorization request, kept while the person signs in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    /// The person must have signed in at or after this time (prompt=login, max_age).
    pub min_auth_time: i64,
}

/// What `/authorize` answers.
pub enum Outcome {
    /// The client or redirect URI cannot be trusted: an error page, never a redirect.
    ErrorPage(String),
    /// Back to the client (success or error), a 303.
    Redirect(String),
    /// To the sign-in page, which continues the flow afterwards.
    SignIn(String),
}

/// What the store keeps for an authorization code (single use, 60 s).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CodeGrant {
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub nonce: Option<String>,
    pub scope: Vec<String>,
    pub user_id: String,
    pub auth_time: i64,
    pub amr: Vec<String>,
}

pub(crate) fn store_key(kind: &str, secret: &str) -> String {
    format!(
        "oidc:{kind}:{}",
        crate::random::sha256_hex(secret.as_bytes())
    )
}

/// The redirect URI with `params` appended to its query (keeping any query it has).
pub fn redirect_with(redirect_uri: &str, params: &[(&str, &str)]) -> String {
    match url::Url::parse(redirect_uri) {
        Ok(mut url) => {
            {
                let mut q = url.query_pairs_mut();
                for (k, v) in params {
                    q.append_pair(k, v);
                }
            }
            url.to_string()
        }
        Err(_) => redirect_uri.to_string(),
    }
}

fn error_redirect(
    app: &AppState,
    redirect_uri: &str,
    state: Option<&str>,
    error: &str,
    description: &str,
) -> Outcome {
    let mut params = vec![("error", error), ("error_description", description)];
    if let Some(state) = state {
        params.push(("state", state));
    }
    params.push(("iss", &app.settings.issuer));
    tracing::info!(target: "security", event = "authorize_refused", error, "authorization request refused");
    Outcome::Redirect(redirect_with(redirect_uri, &params))
}

fn is_pkce_value(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

async fn find_client(app: &AppState, client_id: &str) -> Result<Option<Client>, ApiError> {
    let id = client_id.to_string();
    let declared = app.declared_clients.clone();
    Ok(crate::db::run(&app.db, move |conn| clients::find(conn, &declared, &id)).await?)
}

/// `/authorize`: validate, then either redirect back with a code (a live session that
/// satisfies the request), or send the person to sign in first.
pub async fn authorize(
    app: &AppState,
    p: AuthorizeParams,
    session: Option<Session>,
) -> Result<Outcome, ApiError> {
    // 1. Who is asking, and where would the answer go? Until both are proven, nothing is
    //    ever redirected (no open redirector, no code sent to a look-alike URI).
    let Some(client_id) = p.client_id.as_deref().filter(|c| !c.is_empty()) else {
        return Ok(Outcome::ErrorPage(
            "The request does not say which service is asking (client_id is missing).".into(),
        ));
    };
    let Some(client) = find_client(app, client_id).await? else {
        return Ok(Outcome::ErrorPage(
            "The service that sent you here is not registered with this sign-in provider.".into(),
        ));
    };
    let Some(redirect_uri) = p.redirect_uri.as_deref().filter(|r| !r.is_empty()) else {
        return Ok(Outcome::ErrorPage(
            "The request does not say where to return (redirect_uri is missing).".into(),
        ));
    };
    if !client.redirect_uris.iter().any(|r| r == redirect_uri) {
        tracing::warn!(target: "security", event = "redirect_uri_mismatch", client_id = %client.client_id, "unregistered redirect_uri refused");
        return Ok(Outcome::ErrorPage(
            "The address this request wants to return to is not registered for this service, so we will not send you there.".into(),
        ));
    }
    let state = p.state.as_deref();
    let fail = |error: &str, description: &str| {
        Ok(error_redirect(app, redirect_uri, state, error, description))
    };

    // 2. The request itself.
    if p.request.is_some() {
        return fail(
            "request_not_supported",
            "Request objects are not supported.",
        );
    }
    if p.request_uri.is_some() {
        return fail("request_uri_not_supported", "request_uri is not supported.");
    }
    match p.response_type.as_deref() {
        Some("code") => {}
        Some(_) => {
            return fail(
                "unsupported_response_type",
                "Only response_type=code is supported.",
            )
        }
        None => return fail("invalid_request", "response_type is required."),
    }
    if p.response_mode.as_deref().is_some_and(|m| m != "query") {
        return fail("invalid_request", "Only response_mode=query is supported.");
    }
    let scope: Vec<String> = p
        .scope
        .as_deref()
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    if !scope.iter().any(|s| s == "openid") {
        return fail("invalid_scope", "The openid scope is required.");
    }
    if let Some(bad) = scope.iter().find(|s| !client.allows_scope(s)) {
        return fail(
            "invalid_scope",
            &format!("The scope {bad} is not allowed for this client."),
        );
    }
    let Some(challenge) = p.code_challenge.as_deref() else {
        return fail(
            "invalid_request",
            "PKCE is required: send code_challenge with code_challenge_method=S256.",
        );
    };
    if p.code_challenge_method.as_deref() != Some("S256") {
        return fail(
            "invalid_request",
            "Only code_challenge_method=S256 is supported (plain is refused).",
        );
    }
    if !is_pkce_value(challenge) || URL_SAFE_NO_PAD.decode(challenge).map(|d| d.len()) != Ok(32) {
        return fail(
            "invalid_request",
            "code_challenge must be the base64url SHA-256 of the code verifier.",
        );
    }
    let prompts: Vec<&str> = p
        .prompt
        .as_deref()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    if let Some(bad) = prompts
        .iter()
        .find(|v| !matches!(**v, "none" | "login" | "consent" | "select_account"))
    {
        return fail(
            "invalid_request",
            &format!("prompt={bad} is not supported."),
        );
    }
    let prompt_none = prompts.contains(&"none");
    if prompt_none && prompts.len() > 1 {
        return fail(
            "invalid_request",
            "prompt=none cannot be combined with other values.",
        );
    }
    let max_age = match p.max_age.as_deref() {
        None => None,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n >= 0 => Some(n),
            _ => {
                return fail(
                    "invalid_request",
                    "max_age must be a whole number of seconds.",
                )
            }
        },
    };
    if p.nonce.as_deref().is_some_and(|n| n.len() > 512) || state.is_some_and(|s| s.len() > 2048) {
        return fail("invalid_request", "state or nonce is too long.");
    }

    let now = Utc::now().timestamp();
    let min_auth_time = if prompts.contains(&"login") {
        now
    } else {
        max_age.map(|m| now - m).unwrap_or(0)
    };
    let request = AuthRequest {
        client_id: client.client_id.clone(),
        redirect_uri: redirect_uri.to_string(),
        scope,
        state: p.state.clone(),
        nonce: p.nonce.clone(),
        code_challenge: challenge.to_string(),
        min_auth_time,
    };

    // 3. A live session that satisfies the request: straight back with a code.
    let usable = session.filter(|s| !s.restricted && s.auth_time >= min_auth_time);
    if let Some(session) = usable {
        if !prompts.contains(&"login") {
            return Ok(Outcome::Redirect(
                issue_code(app, &request, &session).await?,
            ));
        }
    }
    if prompt_none {
        return fail(
            "login_required",
            "The person is not signed in (or must sign in again), and prompt=none forbids asking.",
        );
    }
    // 4. Otherwise sign in first; the login page comes back to /authorize/continue.
    let id = crate::random::token();
    let value = serde_json::to_string(&request).map_err(ApiError::internal)?;
    app.store
        .put(&store_key("pending", &id), &value, PENDING_TTL)
        .await?;
    let next = format!("/authorize/continue?request={id}");
    let mut login = url::form_urlencoded::Serializer::new(String::new());
    login.append_pair("next", &next);
    if let Some(hint) = p.login_hint.as_deref().filter(|h| h.len() <= 64) {
        login.append_pair("login_hint", hint);
    }
    Ok(Outcome::SignIn(format!(
        "{}/login?{}",
        app.settings.issuer,
        login.finish()
    )))
}

/// After the sign-in page: the pending request is taken (once) and answered if the session
/// now satisfies it.
pub async fn continue_authorize(
    app: &AppState,
    request_id: &str,
    session: Option<Session>,
) -> Result<Outcome, ApiError> {
    let Some(stored) = app.store.take(&store_key("pending", request_id)).await? else {
        return Ok(Outcome::ErrorPage(
            "This sign-in request has expired or was already used. Go back to the service and start again.".into(),
        ));
    };
    let request: AuthRequest = serde_json::from_str(&stored).map_err(ApiError::internal)?;
    match session.filter(|s| !s.restricted && s.auth_time >= request.min_auth_time) {
        Some(session) => Ok(Outcome::Redirect(
            issue_code(app, &request, &session).await?,
        )),
        None => Ok(error_redirect(
            app,
            &request.redirect_uri,
            request.state.as_deref(),
            "login_required",
            "The person did not sign in.",
        )),
    }
}

async fn issue_code(
    app: &AppState,
    request: &AuthRequest,
    session: &Session,
) -> Result<String, ApiError> {
    let code = crate::random::token();
    let grant = CodeGrant {
        client_id: request.client_id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        code_challenge: request.code_challenge.clone(),
        nonce: request.nonce.clone(),
        scope: request.scope.clone(),
        user_id: session.user_id.clone(),
        auth_time: session.auth_time,
        amr: session.amr.clone(),
    };
    let value = serde_json::to_string(&grant).map_err(ApiError::internal)?;
    app.store
        .put(&store_key("code", &code), &value, app.settings.code_ttl)
        .await?;
    tracing::info!(target: "security", event = "code_issued", client_id = %request.client_id, user_id = %session.user_id, "authorization code issued");
    let mut params = vec![("code", code.as_str())];
    if let Some(state) = request.state.as_deref() {
        params.push(("state", state));
    }
    params.push(("iss", &app.settings.issuer));
    Ok(redirect_with(&request.redirect_uri, &params))
}

/// The discovery document (OpenID Connect Discovery 1.0 / RFC 8414).
pub fn discovery(app: &AppState) -> serde_json::Value {
    let issuer = &app.settings.issuer;
    serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "userinfo_endpoint": format!("{issuer}/userinfo"),
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "end_session_endpoint": format!("{issuer}/logout"),
        "revocation_endpoint": format!("{issuer}/revoke"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": clients::SCOPES,
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "amr", "at_hash", "azp", "preferred_username", "name", "email", "email_verified"],
        "prompt_values_supported": ["none", "login"],
        "authorization_response_iss_parameter_supported": true,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "claims_parameter_supported": false,
    })
}
