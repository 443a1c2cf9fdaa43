//! IdP sessions: an opaque 256-bit id held by the browser; the ephemeral store keeps only the
//! SHA-256 of the id, with a TTL, so a leaked store dump cannot be replayed as cookies.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::ephemeral::{Ephemeral, Key, StoreError};
use crate::random;

/// A recovery session lasts long enough to create one passkey.
pub const RECOVERY_LIFETIME: Duration = Duration::from_secs(10 * 60);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub user_id: String,
    /// When the person last proved possession of a passkey (seconds since the epoch).
    pub auth_time: i64,
    pub amr: Vec<String>,
    /// A recovery session: its only power is adding a passkey.
    #[serde(default)]
    pub restricted: bool,
    /// A public name of this session (not its secret id): the `sid` of the ID tokens issued
    /// in it, which RP-initiated logout compares. Set by [`Sessions::start`].
    #[serde(default)]
    pub sid: String,
}

/// Why a request that needs a session is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("not signed in, or the session ended")]
    NotSignedIn,
    #[error("a recovery session can only add a passkey")]
    RecoveryOnly,
    #[error("the sign-in is too old for this action")]
    ReauthenticationRequired,
}

/// What a request may do with the session it presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// A session from a passkey sign-in.
    Full,
    /// A passkey sign-in no older than the given seconds (sensitive account actions).
    Recent(u64),
    /// A recent passkey sign-in, or a recovery session (which may only add a passkey, and
    /// lives only minutes).
    RecentOrRecovery(u64),
}

impl Session {
    /// Checks that this session may do what `need` asks, at `now` (seconds since the epoch).
    pub fn allows(&self, need: Need, now: i64) -> Result<(), Denied> {
        let recent = |max_age: u64| {
            if now.saturating_sub(self.auth_time) <= max_age as i64 {
                Ok(())
            } else {
                Err(Denied::ReauthenticationRequired)
            }
        };
        match need {
            Need::RecentOrRecovery(_) if self.restricted => Ok(()),
            _ if self.restricted => Err(Denied::RecoveryOnly),
            Need::Full => Ok(()),
            Need::Recent(max_age) | Need::RecentOrRecovery(max_age) => recent(max_age),
        }
    }
}

#[derive(Clone)]
pub struct Sessions {
    store: Ephemeral,
    lifetime: Duration,
}

impl Sessions {
    pub fn new(store: Ephemeral, lifetime: Duration) -> Sessions {
        Sessions { store, lifetime }
    }

    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// Starts a session and returns its id. An `old` session presented with the request is
    /// ended first, so every sign-in gets a new id (no session fixation). A restricted
    /// (recovery) session lives [`RECOVERY_LIFETIME`].
    pub async fn start(&self, session: &Session, old: Option<&str>) -> Result<String, StoreError> {
        if let Some(old) = old {
            self.end(old).await?;
        }
        let ttl = if session.restricted {
            RECOVERY_LIFETIME
        } else {
            self.lifetime
        };
        let id = random::token();
        let session = Session {
            sid: random::token()[..22].to_string(),
            ..session.clone()
        };
        self.store
            .put_json(Key::Session(&id), &session, ttl)
            .await?;
        Ok(id)
    }

    pub async fn get(&self, id: &str) -> Result<Option<Session>, StoreError> {
        self.store.get_json(Key::Session(id)).await
    }

    pub async fn end(&self, id: &str) -> Result<(), StoreError> {
        self.store.delete(Key::Session(id)).await
    }
}
