//! IdP sessions: an opaque 256-bit id in an HttpOnly cookie; the store keeps only the SHA-256
//! of the id, with a TTL, so a leaked store dump cannot be replayed as cookies.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::random;
use crate::store::{ChallengeStore, StoreError};

pub const COOKIE: &str = "pkidp_session";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub user_id: String,
    /// When the person last proved possession of a passkey (seconds since the epoch).
    pub auth_time: i64,
    pub amr: Vec<String>,
    /// A recovery session: its only power is adding a passkey.
    #[serde(default)]
    pub restricted: bool,
}

fn key(id: &str) -> String {
    format!("session:{}", random::sha256_hex(id.as_bytes()))
}

/// Starts a session and returns its id. An `old` session presented with the request is
/// ended first, so every sign-in gets a new id (no session fixation).
pub async fn start(
    store: &ChallengeStore,
    session: &Session,
    ttl: Duration,
    old: Option<&str>,
) -> Result<String, StoreError> {
    if let Some(old) = old {
        store.delete(&key(old)).await?;
    }
    let id = random::token();
    let value = serde_json::to_string(session).unwrap_or_default();
    store.put(&key(&id), &value, ttl).await?;
    Ok(id)
}

pub async fn get(store: &ChallengeStore, id: &str) -> Result<Option<Session>, StoreError> {
    Ok(store
        .get(&key(id))
        .await?
        .and_then(|v| serde_json::from_str(&v).ok()))
}

pub async fn end(store: &ChallengeStore, id: &str) -> Result<(), StoreError> {
    store.delete(&key(id)).await
}
