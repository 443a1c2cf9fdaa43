//! IdP sessions: an opaque 256-bit id held by the browser; the ephemeral store keeps only the
//! SHA-256 of the id, with a TTL, so a leaked store dump cannot be replayed as cookies. The
//! database keeps each session's public record, which lists and ends it.

use std::time::Duration;

use chrono::Utc;
use serde::{Deserialize, Serialize};

use crate::config::{secs, Section, SettingsError};
use crate::db::models::SessionRow;
use crate::db::Db;
use crate::ephemeral::{Ephemeral, Key};
use crate::events::{rfc3339, Caller};
use crate::fault::Fault;
use crate::random;

/// A recovery session lasts long enough to create one passkey.
pub const RECOVERY_LIFETIME: Duration = Duration::from_secs(10 * 60);

/// `[session]`.
#[derive(Debug, Clone, Copy)]
pub struct SessionSettings {
    pub lifetime: Duration,
    /// How recent a sign-in sensitive account actions need.
    pub reauth_max_age: Duration,
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionRaw {
    lifetime_secs: u64,
    reauth_max_age_secs: u64,
}

impl Default for SessionRaw {
    fn default() -> Self {
        SessionRaw {
            lifetime_secs: 43_200,
            reauth_max_age_secs: 300,
        }
    }
}

impl Section for SessionSettings {
    const NAME: &'static str = "session";
    type Raw = SessionRaw;

    fn check(raw: SessionRaw) -> Result<SessionSettings, SettingsError> {
        Ok(SessionSettings {
            lifetime: secs("session.lifetime_secs", raw.lifetime_secs, 60, 90 * 86400)?,
            reauth_max_age: secs(
                "session.reauth_max_age_secs",
                raw.reauth_max_age_secs,
                10,
                86400,
            )?,
        })
    }
}

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
    /// The passkey this session was started with (none for a recovery session): removing the
    /// passkey ends it.
    #[serde(default)]
    pub credential_id: Option<String>,
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

/// A session made by [`Sessions::prepare`], not yet in the store.
pub struct Prepared {
    id: String,
    pub session: Session,
    pub row: SessionRow,
    ttl: Duration,
}

/// A session as its owner sees it in the list (`GET /account/sessions`).
#[derive(Debug, Clone, Serialize)]
pub struct SessionView {
    /// The session's public name (its `sid`), never its secret id.
    pub id: String,
    pub created: String,
    pub last_seen: String,
    pub browser: String,
    pub current: bool,
    /// A recovery session (a recovery code or link; its only power is adding a passkey).
    /// Present (true) only on a recovery session, so other sessions keep their documented
    /// shape.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub recovery: bool,
}

/// IdP sessions: the secret id maps to the [`Session`] in the ephemeral store; the public
/// record (sid, user, times, browser family) is a database row, which is what the person and
/// the operator list, and what ending a session removes. A session is live only while both
/// exist and its user is active, so a session ended from the command line or another instance
/// is over everywhere at once.
#[derive(Clone)]
pub struct Sessions {
    store: Ephemeral,
    db: Db,
    lifetime: Duration,
}

impl Sessions {
    pub fn new(store: Ephemeral, db: Db, lifetime: Duration) -> Sessions {
        Sessions {
            store,
            db,
            lifetime,
        }
    }

    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// Starts a session and returns its id. An `old` session presented with the request is
    /// ended first, so every sign-in gets a new id (no session fixation). A restricted
    /// (recovery) session lives [`RECOVERY_LIFETIME`].
    pub async fn start(
        &self,
        session: &Session,
        old: Option<&str>,
        caller: &Caller,
    ) -> Result<String, Fault> {
        let prepared = self.record(session, caller).await?;
        self.activate(prepared, old).await
    }

    /// A new session with its record written, not yet active: the record comes first, so a
    /// session never exists without the row that can end it.
    pub async fn record(&self, session: &Session, caller: &Caller) -> Result<Prepared, Fault> {
        let prepared = self.prepare(session, caller)?;
        self.db.sessions().insert(prepared.row.clone()).await?;
        Ok(prepared)
    }

    /// A new session (its secret id, a new sid) and its record, neither saved yet: a sign-in
    /// writes the record in the transaction that records the passkey's use, then
    /// [`Sessions::activate`]s it.
    pub fn prepare(&self, session: &Session, caller: &Caller) -> Result<Prepared, Fault> {
        let ttl = if session.restricted {
            RECOVERY_LIFETIME
        } else {
            self.lifetime
        };
        let session = Session {
            sid: random::token()[..22].to_string(),
            ..session.clone()
        };
        let now = Utc::now().naive_utc();
        let row = SessionRow {
            sid: session.sid.clone(),
            user_id: session.user_id.clone(),
            created_at: now,
            last_seen_at: now,
            expires_at: now + chrono::Duration::from_std(ttl).map_err(Fault::internal)?,
            browser: caller.browser.to_string(),
            restricted: session.restricted,
            credential_id: session.credential_id.clone(),
        };
        Ok(Prepared {
            id: random::token(),
            session,
            row,
            ttl,
        })
    }

    /// Puts a prepared session, whose record is written, in the store; an `old` session
    /// presented with the request is ended, so every sign-in gets a new id (no session
    /// fixation). Returns the secret id.
    pub async fn activate(&self, prepared: Prepared, old: Option<&str>) -> Result<String, Fault> {
        if let Some(old) = old {
            self.end(old).await?;
        }
        self.store
            .put_json(Key::Session(&prepared.id), &prepared.session, prepared.ttl)
            .await?;
        Ok(prepared.id)
    }

    /// The live session behind `id`: in the store, with its record, and its user active.
    pub async fn get(&self, id: &str) -> Result<Option<Session>, Fault> {
        let Some(session) = self.store.get_json::<Session>(Key::Session(id)).await? else {
            return Ok(None);
        };
        if !session.sid.is_empty()
            && self
                .db
                .sessions()
                .check(&session.sid, Utc::now().naive_utc())
                .await?
        {
            return Ok(Some(session));
        }
        // Ended elsewhere (sign out everywhere, an operator): forget it here too.
        self.store.delete(Key::Session(id)).await?;
        Ok(None)
    }

    /// Ends the session behind `id`, here and in its record.
    pub async fn end(&self, id: &str) -> Result<(), Fault> {
        if let Some(session) = self.store.take_json::<Session>(Key::Session(id)).await? {
            self.db.sessions().delete(&session.sid).await?;
        }
        Ok(())
    }

    /// The user's live sessions, `current` marking the one whose sid is given.
    pub async fn list(&self, user_id: &str, current: &str) -> Result<Vec<SessionView>, Fault> {
        let rows = self
            .db
            .sessions()
            .for_user(user_id, Utc::now().naive_utc())
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| SessionView {
                current: r.sid == current,
                id: r.sid,
                created: rfc3339(r.created_at),
                last_seen: rfc3339(r.last_seen_at),
                browser: r.browser,
                recovery: r.restricted,
            })
            .collect())
    }

    /// Ends every session of the user except `keep` (a sid); returns how many ended.
    pub async fn end_others(&self, user_id: &str, keep: &str) -> Result<usize, Fault> {
        Ok(self
            .db
            .sessions()
            .delete_for_user(user_id, Some(keep))
            .await?)
    }
}
