//! OIDC-lite: the authorization code flow with PKCE (S256 only), strict enough for certified
//! relying-party libraries and closed to the classic OAuth attacks. No HTTP types here; the
//! handlers live in `routes/oidc.rs`.
//!
//! - [`authorize`]: `/authorize`, and the return from the sign-in page;
//! - [`grants`]: `/token` (authorization code and refresh token grants) and client
//!   authentication;
//! - [`bearer`]: access tokens presented back to us (`/userinfo`, `/revoke`);
//! - [`logout`]: RP-initiated logout.

pub mod authorize;
pub mod bearer;
pub mod client_auth;
pub mod clients;
mod error;
pub mod grants;
pub mod logout;
mod request;
mod settings;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use self::authorize::{Outcome, Refused};
pub use self::client_auth::ClientCredentials;
pub use self::clients::{Client, Clients};
pub use self::error::{AuthorizeError, OAuthError};
pub use self::grants::TokenResponse;
pub use self::logout::{EndSession, LogoutParams};
pub use self::request::AuthorizeParams;
pub use self::settings::OidcSettings;

use crate::db::Db;
use crate::ephemeral::Ephemeral;
use crate::ids::{Sid, UserId};
use crate::rate_limit::RateLimits;
use crate::signed::Signer;
use crate::signing::TokenIssuer;

/// What the signature of an authorization code is for.
const CODE: &str = "authorization-code";

/// Everything the OAuth endpoints need, and nothing else.
#[derive(Clone)]
pub struct Provider {
    /// `[oidc]`.
    pub settings: Arc<OidcSettings>,
    /// The issuer (`iss`, and where every URL built here starts).
    pub issuer: String,
    pub clients: Clients,
    pub db: Db,
    pub store: Ephemeral,
    pub tokens: TokenIssuer,
    pub limits: RateLimits,
    /// Seals waiting authorization requests and signs codes.
    pub signer: Signer,
}

impl Provider {
    /// Counts a request from `client_addr` to an OAuth endpoint.
    pub async fn admit(&self, client_addr: &str) -> Result<(), OAuthError> {
        if self.limits.allow_oauth_request(client_addr).await? {
            Ok(())
        } else {
            Err(OAuthError::RateLimited)
        }
    }
}

/// What the store keeps for an authorization code (single use, 60 s).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CodeGrant {
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub nonce: Option<String>,
    pub scope: Vec<String>,
    pub user_id: UserId,
    pub auth_time: i64,
    pub amr: Vec<String>,
    /// The session it was issued in.
    #[serde(default)]
    pub sid: Option<Sid>,
    /// When it was issued (UTC): a client removed and added again under the same id since
    /// then does not get it.
    #[serde(default)]
    pub issued_at: Option<chrono::NaiveDateTime>,
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

/// The discovery document (OpenID Connect Discovery 1.0 / RFC 8414).
#[derive(Debug, Serialize)]
pub struct Discovery<'a> {
    pub issuer: &'a str,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub userinfo_endpoint: String,
    pub jwks_uri: String,
    pub end_session_endpoint: String,
    pub revocation_endpoint: String,
    pub response_types_supported: &'static [&'static str],
    pub response_modes_supported: &'static [&'static str],
    pub grant_types_supported: &'static [&'static str],
    pub subject_types_supported: &'static [&'static str],
    pub id_token_signing_alg_values_supported: &'a [&'a str],
    pub token_endpoint_auth_methods_supported: &'static [&'static str],
    pub revocation_endpoint_auth_methods_supported: &'static [&'static str],
    pub code_challenge_methods_supported: &'static [&'static str],
    pub scopes_supported: &'static [&'static str],
    pub claims_supported: &'static [&'static str],
    pub prompt_values_supported: &'static [&'static str],
    pub authorization_response_iss_parameter_supported: bool,
    pub request_parameter_supported: bool,
    pub request_uri_parameter_supported: bool,
    pub claims_parameter_supported: bool,
}

/// The discovery document. `signing_algs` are the ID token algorithms the key set can sign
/// with now (an algorithm with no active key is not offered).
pub fn discovery<'a>(issuer: &'a str, signing_algs: &'a [&'a str]) -> Discovery<'a> {
    const CLIENT_AUTH: &[&str] = &["client_secret_basic", "client_secret_post", "none"];
    Discovery {
        issuer,
        authorization_endpoint: format!("{issuer}/authorize"),
        token_endpoint: format!("{issuer}/token"),
        userinfo_endpoint: format!("{issuer}/userinfo"),
        jwks_uri: format!("{issuer}/.well-known/jwks.json"),
        end_session_endpoint: format!("{issuer}/logout"),
        revocation_endpoint: format!("{issuer}/revoke"),
        response_types_supported: &["code"],
        response_modes_supported: &["query", "form_post"],
        grant_types_supported: &["authorization_code", "refresh_token"],
        subject_types_supported: &["public"],
        id_token_signing_alg_values_supported: signing_algs,
        token_endpoint_auth_methods_supported: CLIENT_AUTH,
        revocation_endpoint_auth_methods_supported: CLIENT_AUTH,
        code_challenge_methods_supported: &["S256"],
        scopes_supported: clients::SCOPES,
        claims_supported: &[
            "iss",
            "sub",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "amr",
            "at_hash",
            "azp",
            "preferred_username",
            "name",
            "email",
            "email_verified",
            "groups",
        ],
        prompt_values_supported: &["none", "login"],
        authorization_response_iss_parameter_supported: true,
        request_parameter_supported: false,
        request_uri_parameter_supported: false,
        claims_parameter_supported: false,
    }
}
