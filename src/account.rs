//! What a signed-in person can do with their account: see, rename and delete passkeys, and
//! issue recovery codes; and how a person who lost their passkeys gets back in with one.

use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ceremony::Username;
use crate::db::{self, credentials::Deleted, models::NewRecoveryCode};
use crate::error::ApiError;
use crate::metadata::Authenticator;
use crate::state::AppState;

pub const RECOVERY_CODES: usize = 10;
/// Unambiguous characters only (no 0/o, 1/l/i), so a code read from paper is typed right.
const CODE_ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";
const CODE_LEN: usize = 12;
/// Recovery attempts counted per user and per client address in this window.
const RECOVERY_WINDOW: Duration = Duration::from_secs(15 * 60);
/// A recovery session lasts long enough to create one passkey.
pub const RECOVERY_SESSION: Duration = Duration::from_secs(10 * 60);

#[derive(Debug, Serialize)]
pub struct CredentialView {
    pub id: String,
    pub name: String,
    pub created: NaiveDateTime,
    pub last_used: Option<NaiveDateTime>,
    /// Backup eligible: a synced passkey rather than one bound to a device.
    pub synced: bool,
    pub aaguid: String,
    pub authenticator: Authenticator,
    pub clone_suspected: bool,
}

pub async fn credentials(app: &AppState, user_id: &str) -> Result<Vec<CredentialView>, ApiError> {
    let id = user_id.to_string();
    let rows = db::run(&app.db, move |conn| db::credentials::for_user(conn, &id)).await?;
    Ok(rows
        .into_iter()
        .map(|r| CredentialView {
            authenticator: app.authenticators.lookup(&r.aaguid),
            id: r.credential_id,
            name: r.name,
            created: r.created_at,
            last_used: r.last_used_at,
            synced: r.backup_eligible,
            aaguid: r.aaguid,
            clone_suspected: r.clone_suspected,
        })
        .collect())
}

fn credential_not_found() -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::NOT_FOUND,
        "not_found",
        "There is no such passkey on your account; reload the page.",
    )
}

/// A passkey's name: trimmed, 1 to 64 characters, no control characters.
pub fn parse_credential_name(raw: &str) -> Result<String, ApiError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(ApiError::invalid_request(
            "A passkey name must be 1 to 64 characters, without control characters.",
        ));
    }
    Ok(name.to_string())
}

pub async fn rename(
    app: &AppState,
    user_id: &str,
    credential_id: &str,
    name: &str,
) -> Result<(), ApiError> {
    let name = parse_credential_name(name)?;
    let (uid, cid) = (user_id.to_string(), credential_id.to_string());
    if db::run(&app.db, move |conn| {
        db::credentials::rename(conn, &uid, &cid, &name)
    })
    .await?
    {
        Ok(())
    } else {
        Err(credential_not_found())
    }
}

pub async fn delete(app: &AppState, user_id: &str, credential_id: &str) -> Result<(), ApiError> {
    let (uid, cid) = (user_id.to_string(), credential_id.to_string());
    match db::run(&app.db, move |conn| {
        db::credentials::delete_unless_last(conn, &uid, &cid)
    })
    .await?
    {
        Deleted::Yes => {
            tracing::info!(target: "security", event = "passkey_deleted", user_id = %user_id, credential_id = %credential_id, "passkey deleted");
            Ok(())
        }
        Deleted::NotFound => Err(credential_not_found()),
        Deleted::LastCredential => Err(ApiError::conflict(
            "last_credential",
            "This is your only passkey, so it cannot be deleted; add another passkey first.",
        )),
    }
}

fn new_code() -> String {
    let bytes = crate::random::bytes(CODE_LEN);
    let chars: String = bytes
        .iter()
        .map(|b| CODE_ALPHABET[*b as usize % CODE_ALPHABET.len()] as char)
        .collect();
    format!("{}-{}-{}", &chars[0..4], &chars[4..8], &chars[8..12])
}

/// Lowercase, without spaces or dashes: how a code is compared, however it was typed.
fn normalise_code(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn hash_code(code: &str) -> Result<String, ApiError> {
    let salt = SaltString::encode_b64(&crate::random::bytes(16)).map_err(ApiError::internal)?;
    Argon2::default()
        .hash_password(normalise_code(code).as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(ApiError::internal)
}

fn code_matches(code: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|h| {
            Argon2::default()
                .verify_password(code.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Issues a fresh set of codes and voids the previous set. The codes are returned once and
/// stored only as argon2id hashes.
pub async fn new_recovery_codes(app: &AppState, user_id: &str) -> Result<Vec<String>, ApiError> {
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_code()).collect();
    let now = Utc::now().naive_utc();
    let hashed = {
        let codes = codes.clone();
        let uid = user_id.to_string();
        actix_web::web::block(move || {
            codes
                .iter()
                .map(|c| {
                    Ok(NewRecoveryCode {
                        id: uuid::Uuid::new_v4().to_string(),
                        user_id: uid.clone(),
                        code_hash: hash_code(c)?,
                        created_at: now,
                    })
                })
                .collect::<Result<Vec<_>, ApiError>>()
        })
        .await
        .map_err(ApiError::internal)??
    };
    let uid = user_id.to_string();
    db::run(&app.db, move |conn| {
        db::recovery_codes::replace(conn, &uid, &hashed)
    })
    .await?;
    tracing::info!(target: "security", event = "recovery_codes_issued", user_id = %user_id, "new recovery codes issued");
    Ok(codes)
}

pub async fn unused_recovery_codes(app: &AppState, user_id: &str) -> Result<i64, ApiError> {
    let uid = user_id.to_string();
    Ok(db::run(&app.db, move |conn| {
        db::recovery_codes::count_unused(conn, &uid)
    })
    .await?)
}

#[derive(Debug, Deserialize)]
pub struct RecoverRequest {
    pub username: String,
    pub code: String,
}

fn recovery_refused() -> ApiError {
    ApiError::unauthorized(
        "invalid_recovery_code",
        "That username and recovery code do not match, or the code was already used; check both and try again.",
    )
}

async fn count_attempt(app: &AppState, key: String, limit: u64) -> Result<(), ApiError> {
    if app.store.incr(&key, RECOVERY_WINDOW).await? > limit {
        tracing::warn!(target: "security", event = "rate_limited", "recovery attempts rate limited");
        return Err(ApiError::new(
            actix_web::http::StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "Too many recovery attempts; wait 15 minutes and try again.",
        ));
    }
    Ok(())
}

/// Checks a recovery code; on success the code is spent and the user's id returned. Attempts
/// are limited per username and per client address; an unknown username costs the same work.
pub async fn recover(
    app: &AppState,
    req: RecoverRequest,
    client: &str,
) -> Result<String, ApiError> {
    let username = Username::parse(&req.username).map_err(|_| recovery_refused())?;
    let code = normalise_code(&req.code);
    let settings = &app.settings;
    count_attempt(
        app,
        format!(
            "ratelimit:recover:addr:{}",
            crate::random::sha256_hex(client.as_bytes())
        ),
        settings.recovery_per_address,
    )
    .await?;
    count_attempt(
        app,
        format!(
            "ratelimit:recover:user:{}",
            crate::random::sha256_hex(username.as_str().as_bytes())
        ),
        settings.recovery_per_user,
    )
    .await?;
    if code.len() != CODE_LEN {
        return Err(recovery_refused());
    }

    let name = username.as_str().to_string();
    let found = db::run(&app.db, move |conn| {
        let Some(user) = db::users::find_by_username(conn, &name)? else {
            return Ok(None);
        };
        let codes = db::recovery_codes::unused(conn, &user.id)?;
        Ok(Some((user.id, codes)))
    })
    .await?;
    let (user_id, stored) = found.unwrap_or_default();
    let matched = actix_web::web::block(move || {
        if stored.is_empty() {
            // The same slow work as one real comparison, so timing does not tell.
            static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
            let dummy = DUMMY.get_or_init(|| hash_code("no-such-code").unwrap_or_default());
            let _ = code_matches(&code, dummy);
            return None;
        }
        stored
            .into_iter()
            .find(|c| code_matches(&code, &c.code_hash))
            .map(|c| c.id)
    })
    .await
    .map_err(ApiError::internal)?;
    let Some(code_id) = matched else {
        tracing::info!(target: "security", event = "recovery_failure", "recovery code refused");
        return Err(recovery_refused());
    };
    let now = Utc::now().naive_utc();
    let spent = db::run(&app.db, move |conn| {
        db::recovery_codes::mark_used(conn, &code_id, now)
    })
    .await?;
    if !spent {
        return Err(recovery_refused());
    }
    tracing::info!(target: "security", event = "recovery_success", user_id = %user_id, "recovery code used");
    Ok(user_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unambiguous_and_verify_however_typed() {
        let code = new_code();
        assert_eq!(code.len(), 14);
        assert!(code
            .chars()
            .all(|c| c == '-' || CODE_ALPHABET.contains(&(c as u8))));
        let stored = hash_code(&code).expect("hash");
        assert!(stored.starts_with("$argon2id$"));
        assert!(code_matches(
            &normalise_code(&code.to_uppercase().replace('-', " ")),
            &stored
        ));
        assert!(!code_matches(&normalise_code(&new_code()), &stored));
        assert_ne!(hash_code(&code).expect("hash"), stored, "salted");
    }
}
