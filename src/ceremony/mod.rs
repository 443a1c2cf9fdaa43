//! Passkey registration and sign-in. No HTTP types here: handlers pass in the parsed request,
//! the ceremony id from the cookie and the raw body, and get back a result or an [`ApiError`].
//!
//! Ceremony state lives only in the challenge store, keyed by a random ceremony id that the
//! browser holds in an HttpOnly cookie; `finish` takes it out atomically, so a ceremony can be
//! finished once, whether the attempt succeeds or fails.

pub mod authentication;
pub mod registration;
mod username;

use actix_web::http::StatusCode;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::DeserializeOwned;
use webauthn_rs_core::error::WebauthnError;

pub use username::Username;

use crate::error::ApiError;
use crate::session::{self, Session};
use crate::state::AppState;
use crate::tokens::{self, AccessClaims};

pub const CEREMONY_COOKIE: &str = "pkidp_ceremony";

/// Which ceremony an error comes from: API.md gives the same codes different statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Register,
    Login,
}

impl Phase {
    fn verification_status(self) -> StatusCode {
        match self {
            Phase::Register => StatusCode::BAD_REQUEST,
            Phase::Login => StatusCode::UNAUTHORIZED,
        }
    }
}

pub fn challenge_expired(phase: Phase) -> ApiError {
    ApiError::new(
        phase.verification_status(),
        "challenge_expired",
        "This passkey request has expired or was already used; start again.",
    )
}

/// Maps webauthn-rs's verdict to the stable codes of API.md.
pub fn map_webauthn_error(e: &WebauthnError, phase: Phase) -> ApiError {
    use WebauthnError as W;
    let status = phase.verification_status();
    let (code, description): (&'static str, &'static str) = match e {
        W::MismatchedChallenge => (
            "challenge_mismatch",
            "The passkey answered a different request than the one in progress; start again.",
        ),
        W::InvalidRPOrigin | W::CredentialCrossOrigin => (
            "origin_mismatch",
            "The passkey was used from a page that is not this site; open this site directly and try again.",
        ),
        W::InvalidRPIDHash => (
            "rp_id_mismatch",
            "The passkey belongs to a different site; use a passkey created for this site.",
        ),
        W::UserNotVerified | W::UserNotPresent => (
            "user_verification_required",
            "Your device did not verify you (PIN, fingerprint or face); try again and complete the check.",
        ),
        W::CredentialNotFound => (
            "unknown_credential",
            "This passkey is not registered here; sign in with another passkey or create an account.",
        ),
        W::CredentialPossibleCompromise => (
            "counter_regression",
            "This passkey reported a usage count that went backwards, which can mean it was copied; use another passkey and check your account.",
        ),
        W::AuthenticationFailure
        | W::SignatureInvalid
        | W::EcdsaPointInvalid
        | W::CertificatePublicKeyInvalid
        | W::RsaParametersInvalid => (
            "invalid_signature",
            "The passkey's signature did not verify; try again, or use another passkey.",
        ),
        W::CredentialExcludedFromRequest | W::CredentialAlreadyExists => {
            return ApiError::conflict(
                "credential_exists",
                "This passkey is already registered; use it to sign in, or create a new one on another device.",
            );
        }
        W::ParseCBORFailure(_)
        | W::ParseJSONFailure(_)
        | W::ParseNOMFailure
        | W::ParseInsufficientBytesAvailable
        | W::InvalidClientDataType
        | W::MissingAttestationCredentialData
        | W::CredentialBackupEligibilityInconsistent
        | W::CredentialMayNotBeHardwareBound => {
            return ApiError::invalid_request(
                "The passkey response is malformed or inconsistent; try again with your browser's passkey prompt.",
            );
        }
        _ if phase == Phase::Register => (
            "invalid_attestation",
            "The new passkey could not be verified; try again or use another authenticator.",
        ),
        _ => (
            "invalid_signature",
            "The passkey's response could not be verified; try again, or use another passkey.",
        ),
    };
    ApiError::new(status, code, description)
}

/// Parses a WebAuthn JSON response and checks what serde cannot: its `type`, and that `id`
/// is the base64url form of `rawId`.
pub(crate) fn parse_response<T: DeserializeOwned>(
    body: &[u8],
    id_and_type: impl Fn(&T) -> (&str, &[u8], &str),
) -> Result<T, ApiError> {
    let parsed: T = serde_json::from_slice(body).map_err(|e| {
        ApiError::invalid_request(format!(
            "The request body is not a valid WebAuthn response ({}); send credential.toJSON() as JSON.",
            first_clause(&e.to_string())
        ))
    })?;
    let (id, raw_id, type_) = id_and_type(&parsed);
    if type_ != "public-key" {
        return Err(ApiError::invalid_request(
            "The credential type must be \"public-key\".",
        ));
    }
    if raw_id.is_empty() || id != URL_SAFE_NO_PAD.encode(raw_id) {
        return Err(ApiError::invalid_request(
            "The credential id does not match rawId; send credential.toJSON() unchanged.",
        ));
    }
    Ok(parsed)
}

/// Serde messages can quote the input; keep only the kind of error and its position.
fn first_clause(message: &str) -> String {
    let cut = message.find(['`', '"']).unwrap_or(message.len());
    message[..cut].trim().trim_end_matches(':').to_string()
}

fn store_key(kind: &str, ceremony_id: &str) -> String {
    format!(
        "ceremony:{kind}:{}",
        crate::random::sha256_hex(ceremony_id.as_bytes())
    )
}

/// Keeps a ceremony's state in the challenge store, for the challenge TTL, under a new random
/// id: the value of the browser's ceremony cookie. The store key is the id's hash.
pub(crate) async fn keep<T: serde::Serialize>(
    app: &AppState,
    kind: &str,
    pending: &T,
) -> Result<String, ApiError> {
    let ceremony_id = crate::random::token();
    let value = serde_json::to_string(pending).map_err(ApiError::internal)?;
    app.store
        .put(
            &store_key(kind, &ceremony_id),
            &value,
            app.settings.challenge_ttl,
        )
        .await?;
    Ok(ceremony_id)
}

/// Takes a ceremony's state out in one atomic step, so a ceremony finishes at most once,
/// whether that finish succeeds or fails. `None` when missing, expired or already used.
pub(crate) async fn take<T: DeserializeOwned>(
    app: &AppState,
    kind: &str,
    ceremony_id: Option<&str>,
) -> Result<Option<T>, ApiError> {
    let Some(id) = ceremony_id else {
        return Ok(None);
    };
    Ok(app
        .store
        .take(&store_key(kind, id))
        .await?
        .and_then(|v| serde_json::from_str(&v).ok()))
}

/// RFC 8176 methods for a passkey sign-in: `hwk` for a device-bound key, `swk` for one that can
/// be synced, `user` for presence, and `mfa` when the device verified the person as well.
pub fn amr(backup_eligible: bool, user_verified: bool) -> Vec<String> {
    let mut amr = vec![
        if backup_eligible { "swk" } else { "hwk" }.to_string(),
        "user".to_string(),
    ];
    if user_verified {
        amr.push("mfa".to_string());
    }
    amr
}

/// What a successful ceremony gives the browser: a new session and an access token.
pub struct SignedIn {
    pub session_id: String,
    pub access_token: String,
    pub expires_in: u64,
}

pub async fn sign_in(
    app: &AppState,
    user_id: &str,
    amr: Vec<String>,
    old_session: Option<&str>,
) -> Result<SignedIn, ApiError> {
    let now = chrono::Utc::now().timestamp();
    let settings = &app.settings;
    let session = Session {
        user_id: user_id.to_string(),
        auth_time: now,
        amr: amr.clone(),
        restricted: false,
    };
    let session_id =
        session::start(&app.store, &session, settings.session_lifetime, old_session).await?;
    let lifetime = settings.access_token_lifetime.as_secs();
    let claims = AccessClaims {
        iss: settings.issuer.clone(),
        sub: user_id.to_string(),
        aud: settings.audience.clone(),
        iat: now,
        exp: now + lifetime as i64,
        jti: crate::random::token(),
        auth_time: now,
        amr,
        client_id: settings.audience.clone(),
        scope: "openid".to_string(),
    };
    let access_token = tokens::sign(
        &app.keys.current(),
        settings.access_token_alg,
        "at+jwt",
        &claims,
    )
    .map_err(ApiError::internal)?;
    Ok(SignedIn {
        session_id,
        access_token,
        expires_in: lifetime,
    })
}

/// Fixed-window rate limit on ceremony starts per client address (hashed: no address is stored).
pub async fn check_rate_limit(app: &AppState, client: &str) -> Result<(), ApiError> {
    let limit = app.settings.ceremonies_per_minute;
    if limit == 0 {
        return Ok(());
    }
    let key = format!(
        "ratelimit:ceremony:{}",
        crate::random::sha256_hex(client.as_bytes())
    );
    let count = app
        .store
        .incr(&key, std::time::Duration::from_secs(60))
        .await?;
    if count > limit {
        tracing::warn!(target: "security", event = "rate_limited", "ceremony start rate limited");
        return Err(ApiError::rate_limited());
    }
    Ok(())
}
