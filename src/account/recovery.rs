//! Recovery codes: ten one-time codes, shown once and stored only as argon2id hashes; and
//! recovery itself, which trades a username and one code for a restricted session whose only
//! power is adding a passkey.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::Utc;
use serde::Deserialize;

use super::{AccountError, Accounts};
use crate::ceremony::Username;
use crate::db::invites::LinkUse;
use crate::db::models::NewRecoveryCode;
use crate::events::{Caller, Event};
use crate::fault::Fault;
use crate::ids::{SessionSecret, UserId};
use crate::session::Session;

pub const RECOVERY_CODES: usize = 10;
/// Unambiguous characters only (no 0/o, 1/l/i), so a code read from paper is typed right.
const CODE_ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";
const CODE_LEN: usize = 12;

/// `POST /recover`: a username with one of their codes, or the token of a recovery link an
/// operator issued.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RecoverRequest {
    Link { token: String },
    Code { username: String, code: String },
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

fn hash_code(code: &str) -> Result<String, Fault> {
    let salt = SaltString::encode_b64(&crate::random::bytes(16)).map_err(Fault::internal)?;
    Argon2::default()
        .hash_password(normalise_code(code).as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(Fault::internal)
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

/// Runs CPU-heavy hashing off the async executor.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, Fault> {
    crate::blocking::spawn(f).await.map_err(Fault::internal)
}

impl Accounts {
    /// Issues a fresh set of codes and voids the previous set. The codes are returned once and
    /// stored only as argon2id hashes.
    pub async fn new_recovery_codes(&self, user_id: &UserId) -> Result<Vec<String>, AccountError> {
        let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_code()).collect();
        let now = Utc::now().naive_utc();
        let hashed = {
            let (codes, uid, key) = (
                codes.clone(),
                user_id.to_string(),
                self.recovery_key.clone(),
            );
            blocking(move || {
                codes
                    .iter()
                    .map(|c| {
                        Ok(NewRecoveryCode {
                            id: uuid::Uuid::new_v4().to_string(),
                            user_id: uid.clone(),
                            code_hash: hash_code(c)?,
                            created_at: now,
                            lookup: Some(lookup(&key, &normalise_code(c))),
                        })
                    })
                    .collect::<Result<Vec<_>, Fault>>()
            })
            .await??
        };
        self.db.recovery_codes().replace(user_id, hashed).await?;
        Event::RecoveryCodesIssued.now().user(user_id).report();
        Ok(codes)
    }

    /// Checks a recovery code; on success the code is spent and a restricted session started
    /// (replacing `old_session`), whose id is returned. Attempts are limited per username and
    /// per client address; an unknown username costs the same work.
    pub async fn recover(
        &self,
        req: RecoverRequest,
        client_addr: &str,
        old_session: Option<&SessionSecret>,
        caller: &Caller,
    ) -> Result<SessionSecret, AccountError> {
        let user_id = match req {
            RecoverRequest::Code { username, code } => {
                self.recover_with_code(&username, &code, client_addr, caller)
                    .await?
            }
            RecoverRequest::Link { token } => {
                self.recover_with_link(&token, client_addr, caller).await?
            }
        };
        let recovery = Session::recovery(UserId::from(user_id));
        Ok(self.sessions.start(recovery, old_session, caller).await?)
    }

    /// Spends a recovery link (of two concurrent uses one wins); returns its user. A GET of the
    /// page never gets here: only the page's POST spends it.
    async fn recover_with_link(
        &self,
        token: &str,
        client_addr: &str,
        caller: &Caller,
    ) -> Result<String, AccountError> {
        if !self.limits.allow_recovery_link(client_addr).await? {
            return Err(AccountError::RecoveryRateLimited);
        }
        if token.is_empty() || token.len() > 128 {
            return Err(AccountError::RecoveryLinkRefused);
        }
        let hash = crate::random::sha256_hex(token.as_bytes());
        let used = caller.clone();
        let spent = self
            .db
            .invites()
            .spend_link_of_active_user(&hash, Utc::now().naive_utc(), move |user_id| {
                used.event(Event::RecoveryLinkUsed, Some(user_id), None)
                    .row()
            })
            .await?;
        match spent {
            LinkUse::Spent(user_id) => {
                caller
                    .event(Event::RecoveryLinkUsed, Some(&user_id), None)
                    .report();
                Ok(user_id)
            }
            LinkUse::Refused => Err(AccountError::RecoveryLinkRefused),
            LinkUse::Disabled => Err(AccountError::AccountDisabled),
        }
    }

    /// Checks a username and one of their codes and spends the code; returns the user.
    async fn recover_with_code(
        &self,
        username: &str,
        code: &str,
        client_addr: &str,
        caller: &Caller,
    ) -> Result<String, AccountError> {
        let username = Username::parse(username).map_err(|_| AccountError::RecoveryRefused)?;
        let code = normalise_code(code);
        if !self
            .limits
            .allow_recovery(client_addr, username.as_str())
            .await?
        {
            return Err(AccountError::RecoveryRateLimited);
        }
        if code.len() != CODE_LEN {
            return Err(AccountError::RecoveryRefused);
        }
        self.spend_code(username.as_str(), code, caller).await
    }

    /// Finds the unused code of `username` that matches `code` and spends it (of two
    /// concurrent uses one wins); returns the user's id. Exactly one argon2id verification,
    /// whether the username exists or not and however many codes it has: the code is found
    /// by its keyed hash first. (Codes issued before lookups existed are still tried one by
    /// one until the person makes a new set.)
    async fn spend_code(
        &self,
        username: &str,
        code: String,
        caller: &Caller,
    ) -> Result<String, AccountError> {
        let found = self
            .db
            .recovery_codes()
            .for_recovery(username, &lookup(&self.recovery_key, &code))
            .await?;
        let (user_id, active, candidates) = match found {
            Some(c) => {
                let candidates: Vec<_> = c.matched.into_iter().chain(c.legacy).collect();
                (c.user_id, c.active, candidates)
            }
            None => (String::new(), true, Vec::new()),
        };
        let matched = blocking(move || {
            if candidates.is_empty() {
                // The same slow work as one real comparison, so timing does not tell.
                static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
                let dummy = DUMMY.get_or_init(|| hash_code("no-such-code").unwrap_or_default());
                let _ = code_matches(&code, dummy);
                return None;
            }
            candidates
                .into_iter()
                .find(|c| code_matches(&code, &c.code_hash))
                .map(|c| c.id)
        })
        .await?;
        let Some(code_id) = matched else {
            Event::RecoveryFailure.now().report();
            return Err(AccountError::RecoveryRefused);
        };
        if !active {
            return Err(AccountError::AccountDisabled);
        }
        let event = caller.event(Event::RecoveryUsed, Some(&user_id), None);
        if !self
            .db
            .recovery_codes()
            .spend(&code_id, event.row())
            .await?
        {
            return Err(AccountError::RecoveryRefused);
        }
        event.report();
        Ok(user_id)
    }
}

/// The keyed hash a code is found by (hex HMAC-SHA256 of the normalised code).
fn lookup(key: &[u8], normalised_code: &str) -> String {
    crate::random::hex(&crate::random::hmac_sha256(key, normalised_code.as_bytes()))
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
