//! `/token`, `/userinfo`, `/revoke` and `/logout`: what happens after the code.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};

use super::{find_client, store_key, Client, CodeGrant};
use crate::db::{self, models::RefreshTokenRow};
use crate::error::ApiError;
use crate::state::AppState;
use crate::tokens::{self, AccessClaims, KeyAlg};

fn oauth(status: u16, code: &'static str, description: impl Into<String>) -> ApiError {
    let status = actix_web::http::StatusCode::from_u16(status)
        .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST);
    ApiError::new(status, code, description.into())
}

fn invalid_grant(description: &str) -> ApiError {
    oauth(400, "invalid_grant", description.to_string())
}

pub fn invalid_client(description: &str) -> ApiError {
    oauth(401, "invalid_client", description.to_string())
}

/// How the client presented itself: HTTP Basic (already decoded by the handler), or fields of
/// the form body.
pub struct ClientCredentials {
    pub basic: Option<(String, String)>,
    pub form_id: Option<String>,
    pub form_secret: Option<String>,
}

/// RFC 6749 §2.3: exactly one way of authenticating; a confidential client proves its secret,
/// a public client sends only its id (PKCE then carries the proof).
pub async fn authenticate(app: &AppState, creds: ClientCredentials) -> Result<Client, ApiError> {
    let (client_id, secret) = match (creds.basic, creds.form_id, creds.form_secret) {
        (Some(_), _, Some(_)) => {
            return Err(invalid_client(
                "Use one client authentication method, not two.",
            ))
        }
        (Some((id, secret)), form_id, None) => {
            if form_id.is_some_and(|f| f != id) {
                return Err(invalid_client(
                    "client_id in the body differs from the one in the Authorization header.",
                ));
            }
            (id, Some(secret))
        }
        (None, Some(id), secret) => (id, secret),
        (None, None, _) => return Err(invalid_client("Client authentication is required.")),
    };
    let client = find_client(app, &client_id)
        .await?
        .ok_or_else(|| invalid_client("Unknown client or wrong credentials."))?;
    match (client.public, secret) {
        (true, None) => Ok(client),
        (true, Some(_)) => Err(invalid_client(
            "This is a public client; it has no secret to send.",
        )),
        (false, Some(s)) if client.secret_matches(&s) => Ok(client),
        (false, _) => {
            tracing::warn!(target: "security", event = "client_auth_failed", client_id = %client.client_id, "client authentication failed");
            Err(invalid_client("Unknown client or wrong credentials."))
        }
    }
}

#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    pub id_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub scope: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct IdClaims {
    iss: String,
    sub: String,
    aud: String,
    azp: String,
    exp: i64,
    iat: i64,
    auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<String>,
    amr: Vec<String>,
    at_hash: String,
}

/// OIDC Core §3.1.3.6: the left half of the hash of the access token, with the hash of the ID
/// token's algorithm (SHA-512 for Ed25519).
fn at_hash(access_token: &str, alg: KeyAlg) -> String {
    let digest: Vec<u8> = match alg {
        KeyAlg::EdDSA => openssl::sha::sha512(access_token.as_bytes()).to_vec(),
        _ => openssl::sha::sha256(access_token.as_bytes()).to_vec(),
    };
    URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
}

struct Grant<'a> {
    client: &'a Client,
    user_id: &'a str,
    scope: &'a [String],
    auth_time: i64,
    amr: &'a [String],
    nonce: Option<&'a str>,
}

/// Signs an access token (RFC 9068) and an ID token (the client's algorithm).
fn mint(app: &AppState, g: &Grant<'_>) -> Result<(String, String, AccessClaims), ApiError> {
    let s = &app.settings;
    let now = Utc::now().timestamp();
    let keys = app.keys.current();
    let access = AccessClaims {
        iss: s.issuer.clone(),
        sub: g.user_id.to_string(),
        aud: s.audience.clone(),
        iat: now,
        exp: now + s.access_token_lifetime.as_secs() as i64,
        jti: crate::random::token(),
        auth_time: g.auth_time,
        amr: g.amr.to_vec(),
        client_id: g.client.client_id.clone(),
        scope: g.scope.join(" "),
    };
    let access_token =
        tokens::sign(&keys, s.access_token_alg, "at+jwt", &access).map_err(ApiError::internal)?;
    let id = IdClaims {
        iss: s.issuer.clone(),
        sub: g.user_id.to_string(),
        aud: g.client.client_id.clone(),
        azp: g.client.client_id.clone(),
        exp: now + s.id_token_lifetime.as_secs() as i64,
        iat: now,
        auth_time: g.auth_time,
        nonce: g.nonce.map(str::to_string),
        amr: g.amr.to_vec(),
        at_hash: at_hash(&access_token, g.client.id_token_alg),
    };
    let id_token =
        tokens::sign(&keys, g.client.id_token_alg, "JWT", &id).map_err(ApiError::internal)?;
    Ok((access_token, id_token, access))
}

async fn new_refresh_token(
    app: &AppState,
    family_id: &str,
    g: &Grant<'_>,
    expires_at: chrono::NaiveDateTime,
) -> Result<String, ApiError> {
    let token = crate::random::token();
    let row = RefreshTokenRow {
        token_sha256: crate::random::sha256_hex(token.as_bytes()),
        family_id: family_id.to_string(),
        client_id: g.client.client_id.clone(),
        user_id: g.user_id.to_string(),
        scope: g.scope.join(" "),
        auth_time: g.auth_time,
        amr: g.amr.join(" "),
        created_at: Utc::now().naive_utc(),
        expires_at,
        used_at: None,
        revoked_at: None,
    };
    db::run(&app.db, move |conn| db::refresh_tokens::insert(conn, &row)).await?;
    Ok(token)
}

/// What a redeemed code issued, so that a second redemption can revoke it.
#[derive(Serialize, Deserialize)]
struct Redeemed {
    jti: String,
    exp: i64,
    family_id: Option<String>,
}

fn verifier_matches(verifier: &str, challenge: &str) -> bool {
    let valid = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    valid && {
        let computed = URL_SAFE_NO_PAD.encode(openssl::sha::sha256(verifier.as_bytes()));
        openssl::memcmp::eq(computed.as_bytes(), challenge.as_bytes())
    }
}

/// The authorization_code grant.
pub async fn redeem_code(
    app: &AppState,
    client: &Client,
    code: Option<&str>,
    redirect_uri: Option<&str>,
    verifier: Option<&str>,
) -> Result<TokenResponse, ApiError> {
    let code = code
        .filter(|c| !c.is_empty())
        .ok_or_else(|| oauth(400, "invalid_request", "code is required."))?;
    let redirect_uri =
        redirect_uri.ok_or_else(|| oauth(400, "invalid_request", "redirect_uri is required."))?;
    let verifier = verifier
        .ok_or_else(|| oauth(400, "invalid_request", "code_verifier is required (PKCE)."))?;
    let Some(stored) = app.store.take(&store_key("code", code)).await? else {
        code_reused(app, code).await?;
        return Err(invalid_grant(
            "The authorization code is invalid, expired or already used.",
        ));
    };
    let grant: CodeGrant = serde_json::from_str(&stored).map_err(ApiError::internal)?;
    if grant.client_id != client.client_id {
        tracing::warn!(target: "security", event = "code_client_mismatch", client_id = %client.client_id, "code presented by another client");
        return Err(invalid_grant(
            "The authorization code was issued to another client.",
        ));
    }
    if grant.redirect_uri != redirect_uri {
        return Err(invalid_grant(
            "redirect_uri differs from the one in the authorization request.",
        ));
    }
    if !verifier_matches(verifier, &grant.code_challenge) {
        return Err(invalid_grant(
            "The code_verifier does not match the code_challenge.",
        ));
    }
    let g = Grant {
        client,
        user_id: &grant.user_id,
        scope: &grant.scope,
        auth_time: grant.auth_time,
        amr: &grant.amr,
        nonce: grant.nonce.as_deref(),
    };
    let (access_token, id_token, claims) = mint(app, &g)?;
    let mut family_id = None;
    let refresh_token = if grant.scope.iter().any(|s| s == "offline_access") {
        let family = uuid::Uuid::new_v4().to_string();
        let expires_at = (Utc::now()
            + chrono::Duration::from_std(app.settings.refresh_token_lifetime)
                .map_err(ApiError::internal)?)
        .naive_utc();
        let token = new_refresh_token(app, &family, &g, expires_at).await?;
        family_id = Some(family);
        Some(token)
    } else {
        None
    };
    // Remember what this code issued; if a second redemption raced us, revoke it all now.
    let redeemed = Redeemed {
        jti: claims.jti.clone(),
        exp: claims.exp,
        family_id,
    };
    let marker_ttl = app.settings.longest_token_lifetime() + Duration::from_secs(60);
    app.store
        .put(
            &store_key("code-used", code),
            &serde_json::to_string(&redeemed).map_err(ApiError::internal)?,
            marker_ttl,
        )
        .await?;
    if app
        .store
        .get(&store_key("code-reuse", code))
        .await?
        .is_some()
    {
        // Of concurrent redemptions this one won the code, but another arrived before the
        // marker above existed and could not revoke what is issued here: do it now. The
        // response still carries the tokens (one redemption wins); they are dead on arrival.
        tracing::warn!(target: "security", event = "code_reuse", "authorization code reused during redemption; revoking what it issued");
        revoke_redeemed(app, &redeemed).await?;
    }
    tracing::info!(target: "security", event = "tokens_issued", client_id = %client.client_id, user_id = %grant.user_id, grant = "authorization_code", "tokens issued");
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: app.settings.access_token_lifetime.as_secs(),
        id_token,
        refresh_token,
        scope: grant.scope.join(" "),
    })
}

/// A code presented after it was spent: RFC 6749 §4.1.2 — revoke what it issued.
async fn code_reused(app: &AppState, code: &str) -> Result<(), ApiError> {
    app.store
        .put(
            &store_key("code-reuse", code),
            "1",
            app.settings.code_ttl + Duration::from_secs(60),
        )
        .await?;
    if let Some(used) = app.store.get(&store_key("code-used", code)).await? {
        if let Ok(redeemed) = serde_json::from_str::<Redeemed>(&used) {
            tracing::warn!(target: "security", event = "code_reuse", "authorization code reused; revoking what it issued");
            revoke_redeemed(app, &redeemed).await?;
        }
    }
    Ok(())
}

async fn revoke_redeemed(app: &AppState, r: &Redeemed) -> Result<(), ApiError> {
    revoke_jti(app, &r.jti, r.exp).await?;
    if let Some(family) = r.family_id.clone() {
        let now = Utc::now().naive_utc();
        db::run(&app.db, move |conn| {
            db::refresh_tokens::revoke_family(conn, &family, now)
        })
        .await?;
    }
    Ok(())
}

async fn revoke_jti(app: &AppState, jti: &str, exp: i64) -> Result<(), ApiError> {
    let left = (exp - Utc::now().timestamp()).max(0) as u64 + app.settings.clock_skew.as_secs() + 1;
    app.store
        .put(
            &format!("oidc:revoked-jti:{jti}"),
            "1",
            Duration::from_secs(left),
        )
        .await?;
    Ok(())
}

/// The refresh_token grant: rotate within the family; a used token revokes the family.
pub async fn refresh(
    app: &AppState,
    client: &Client,
    token: Option<&str>,
    scope: Option<&str>,
) -> Result<TokenResponse, ApiError> {
    let token = token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| oauth(400, "invalid_request", "refresh_token is required."))?;
    let hash = crate::random::sha256_hex(token.as_bytes());
    let lookup = hash.clone();
    let row = db::run(&app.db, move |conn| db::refresh_tokens::find(conn, &lookup))
        .await?
        .ok_or_else(|| invalid_grant("The refresh token is invalid."))?;
    if row.client_id != client.client_id {
        tracing::warn!(target: "security", event = "refresh_client_mismatch", client_id = %client.client_id, "refresh token presented by another client");
        return Err(invalid_grant(
            "The refresh token was issued to another client.",
        ));
    }
    let now = Utc::now().naive_utc();
    if row.revoked_at.is_some() || row.expires_at <= now {
        return Err(invalid_grant(
            "The refresh token is expired or revoked; sign in again.",
        ));
    }
    let spend = hash.clone();
    let spent = db::run(&app.db, move |conn| {
        db::refresh_tokens::mark_used(conn, &spend, now)
    })
    .await?;
    if !spent {
        // Replay of a rotated token: someone else holds a copy. End the whole family.
        let family = row.family_id.clone();
        let revoked = db::run(&app.db, move |conn| {
            db::refresh_tokens::revoke_family(conn, &family, now)
        })
        .await?;
        tracing::warn!(target: "security", event = "refresh_reuse", client_id = %client.client_id, user_id = %row.user_id, revoked, "used refresh token presented again; family revoked");
        return Err(invalid_grant(
            "The refresh token was already used; this session is revoked, sign in again.",
        ));
    }
    let granted: Vec<String> = row.scope.split_whitespace().map(str::to_string).collect();
    let scope: Vec<String> = match scope {
        None => granted.clone(),
        Some(s) => {
            let asked: Vec<String> = s.split_whitespace().map(str::to_string).collect();
            if asked.iter().any(|a| !granted.contains(a)) {
                return Err(oauth(
                    400,
                    "invalid_scope",
                    "A refresh cannot add scopes that were not granted.",
                ));
            }
            asked
        }
    };
    let amr: Vec<String> = row.amr.split_whitespace().map(str::to_string).collect();
    let g = Grant {
        client,
        user_id: &row.user_id,
        scope: &scope,
        auth_time: row.auth_time,
        amr: &amr,
        nonce: None,
    };
    let (access_token, id_token, _) = mint(app, &g)?;
    let new = new_refresh_token(app, &row.family_id, &g, row.expires_at).await?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: app.settings.access_token_lifetime.as_secs(),
        id_token,
        refresh_token: Some(new),
        scope: scope.join(" "),
    })
}

fn invalid_token(description: &str) -> ApiError {
    oauth(401, "invalid_token", description.to_string())
}

/// Verifies a JWT we issued: one of our algorithms (never `none`, never HMAC), a kid we
/// publish, the key's own algorithm, the expected `typ`, our issuer. Expiry is checked unless
/// `allow_expired` (an id_token_hint may be old).
fn verify<T: serde::de::DeserializeOwned>(
    app: &AppState,
    token: &str,
    typ: &str,
    audience: Option<&[String]>,
    allow_expired: bool,
) -> Result<T, ApiError> {
    let header =
        jsonwebtoken::decode_header(token).map_err(|_| invalid_token("The token is not a JWT."))?;
    let alg = match header.alg {
        Algorithm::ES256 => KeyAlg::ES256,
        Algorithm::RS256 => KeyAlg::RS256,
        Algorithm::EdDSA => KeyAlg::EdDSA,
        _ => return Err(invalid_token("The token's algorithm is not accepted.")),
    };
    if header.typ.as_deref().map(|t| t.to_ascii_lowercase()) != Some(typ.to_ascii_lowercase()) {
        return Err(invalid_token("This kind of token is not accepted here."));
    }
    let kid = header
        .kid
        .ok_or_else(|| invalid_token("The token has no key id."))?;
    let keys = app.keys.current();
    let key = keys
        .published(&kid)
        .filter(|k| k.entry.alg == alg)
        .ok_or_else(|| invalid_token("The token was not signed by a key this server trusts."))?;
    let jwk: jsonwebtoken::jwk::Jwk =
        serde_json::from_value(key.public_jwk.clone()).map_err(ApiError::internal)?;
    let decoding = DecodingKey::from_jwk(&jwk).map_err(ApiError::internal)?;
    let mut validation = Validation::new(alg.jwt_algorithm());
    validation.leeway = app.settings.clock_skew.as_secs();
    validation.set_issuer(&[&app.settings.issuer]);
    validation.validate_exp = !allow_expired;
    match audience {
        Some(aud) => validation.set_audience(aud),
        None => validation.validate_aud = false,
    }
    validation.set_required_spec_claims(&["iss", "sub", "exp", "iat", "aud"]);
    jsonwebtoken::decode::<T>(token, &decoding, &validation)
        .map(|d| d.claims)
        .map_err(|_| invalid_token("The token is invalid or expired."))
}

/// A Bearer access token for `/userinfo`: valid, ours, an access token (not an ID token), and
/// not revoked.
pub async fn verify_access_token(app: &AppState, token: &str) -> Result<AccessClaims, ApiError> {
    let claims: AccessClaims = verify(
        app,
        token,
        "at+jwt",
        Some(std::slice::from_ref(&app.settings.audience)),
        false,
    )?;
    if app
        .store
        .get(&format!("oidc:revoked-jti:{}", claims.jti))
        .await?
        .is_some()
    {
        return Err(invalid_token("The token was revoked."));
    }
    Ok(claims)
}

/// Claims about the user for a verified access token, per its scopes.
pub async fn userinfo(
    app: &AppState,
    claims: &AccessClaims,
) -> Result<serde_json::Value, ApiError> {
    let sub = claims.sub.clone();
    let user = db::run(&app.db, move |conn| db::users::find_by_id(conn, &sub))
        .await?
        .ok_or_else(|| invalid_token("The account no longer exists."))?;
    let scopes: Vec<&str> = claims.scope.split_whitespace().collect();
    let mut out = serde_json::json!({ "sub": user.id });
    if scopes.contains(&"profile") {
        out["preferred_username"] = serde_json::json!(user.username);
        out["name"] = serde_json::json!(user.display_name);
    }
    if scopes.contains(&"email") {
        if let Some(email) = user.email {
            out["email"] = serde_json::json!(email);
            out["email_verified"] = serde_json::json!(false);
        }
    }
    Ok(out)
}

/// RFC 7009: revoke a refresh token (its family) or an access token (until it expires).
/// Unknown tokens, and tokens of other clients, are answered the same way (200).
pub async fn revoke(
    app: &AppState,
    client: &Client,
    token: &str,
    hint: Option<&str>,
) -> Result<(), ApiError> {
    let as_refresh = || async {
        let hash = crate::random::sha256_hex(token.as_bytes());
        let row = db::run(&app.db, move |conn| db::refresh_tokens::find(conn, &hash)).await?;
        if let Some(row) = row.filter(|r| r.client_id == client.client_id) {
            let now = Utc::now().naive_utc();
            let family = row.family_id.clone();
            db::run(&app.db, move |conn| {
                db::refresh_tokens::revoke_family(conn, &family, now)
            })
            .await?;
            tracing::info!(target: "security", event = "token_revoked", kind = "refresh_token", client_id = %client.client_id, "refresh token family revoked");
            return Ok::<bool, ApiError>(true);
        }
        Ok(false)
    };
    let as_access = || async {
        if let Ok(claims) = verify::<AccessClaims>(
            app,
            token,
            "at+jwt",
            Some(std::slice::from_ref(&app.settings.audience)),
            false,
        ) {
            if claims.client_id == client.client_id {
                revoke_jti(app, &claims.jti, claims.exp).await?;
                tracing::info!(target: "security", event = "token_revoked", kind = "access_token", client_id = %client.client_id, "access token revoked");
                return Ok::<bool, ApiError>(true);
            }
        }
        Ok(false)
    };
    if hint == Some("access_token") {
        if !as_access().await? {
            as_refresh().await?;
        }
    } else if !as_refresh().await? {
        as_access().await?;
    }
    Ok(())
}

#[derive(Debug, Default, Deserialize)]
pub struct LogoutParams {
    pub id_token_hint: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    pub client_id: Option<String>,
}

pub enum EndSession {
    /// Signed out; back to the relying service.
    Redirect(String),
    /// Signed out; no (valid) place to return to: show the "signed out" page.
    Page,
    /// No valid id_token_hint: anyone could have sent the person here, so ask before signing
    /// out (RP-Initiated Logout §2; no logout CSRF).
    Confirm,
}

#[derive(Deserialize)]
struct HintClaims {
    aud: serde_json::Value,
}

/// RP-initiated logout. The IdP session ends in any case; the person is sent back only to a
/// post_logout_redirect_uri registered for the client named by a valid id_token_hint (or
/// client_id).
pub async fn end_session(app: &AppState, p: &LogoutParams) -> Result<EndSession, ApiError> {
    let hinted_client = match p.id_token_hint.as_deref() {
        None => return Ok(EndSession::Confirm),
        Some(hint) => {
            // Still accepted when expired or signed by a retiring key: it names, not authorises.
            let Ok(claims) = verify::<HintClaims>(app, hint, "JWT", None, true) else {
                return Ok(EndSession::Confirm);
            };
            match claims.aud {
                serde_json::Value::String(s) => Some(s),
                serde_json::Value::Array(a) => {
                    a.first().and_then(|v| v.as_str()).map(str::to_string)
                }
                _ => None,
            }
        }
    };
    if let (Some(hinted), Some(named)) = (&hinted_client, &p.client_id) {
        if hinted != named {
            return Err(oauth(
                400,
                "invalid_request",
                "client_id does not match the id_token_hint.",
            ));
        }
    }
    let Some(uri) = p.post_logout_redirect_uri.as_deref() else {
        return Ok(EndSession::Page);
    };
    let Some(client_id) = hinted_client.or_else(|| p.client_id.clone()) else {
        return Ok(EndSession::Page);
    };
    let Some(client) = find_client(app, &client_id).await? else {
        return Ok(EndSession::Page);
    };
    if !client.post_logout_redirect_uris.iter().any(|r| r == uri) {
        tracing::warn!(target: "security", event = "logout_redirect_refused", client_id = %client_id, "unregistered post_logout_redirect_uri");
        return Ok(EndSession::Page);
    }
    let mut params = Vec::new();
    if let Some(state) = p.state.as_deref() {
        params.push(("state", state));
    }
    Ok(EndSession::Redirect(super::redirect_with(uri, &params)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_rfc7636_example() {
        // RFC 7636 Appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(verifier_matches(verifier, challenge));
        assert!(!verifier_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK",
            challenge
        ));
        assert!(!verifier_matches("short", challenge));
    }

    #[test]
    fn at_hash_matches_the_oidc_example() {
        // OpenID Connect Core, appendix A.3 (RS256).
        assert_eq!(
            at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y", KeyAlg::RS256),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }
}
