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
use crate::ids::{CredentialId, SessionSecret, Sid, UserId};

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

/// An IdP session, built whole by [`Session::signed_in`] or [`Session::recovery`]: it has its
/// public name from the start.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub user_id: UserId,
    /// When the person last proved possession of a passkey (seconds since the epoch).
    pub auth_time: i64,
    pub amr: Vec<String>,
    /// A recovery session: its only power is adding a passkey.
    #[serde(default)]
    pub restricted: bool,
    /// This session's public name (not its secret id): the `sid` of the ID tokens issued in
    /// it, which RP-initiated logout compares.
    pub sid: Sid,
    /// The passkey this session was started with (none for a recovery session): removing the
    /// passkey ends it.
    #[serde(default)]
    pub credential_id: Option<CredentialId>,
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
    /// A session of a person who just proved possession of `credential`, now.
    pub fn signed_in(user_id: UserId, credential: CredentialId, amr: Vec<String>) -> Session {
        Session {
            user_id,
            auth_time: Utc::now().timestamp(),
            amr,
            restricted: false,
            sid: Sid::new(),
            credential_id: Some(credential),
        }
    }

    /// A recovery session (a recovery code or link): its only power is adding a passkey.
    pub fn recovery(user_id: UserId) -> Session {
        Session {
            user_id,
            auth_time: Utc::now().timestamp(),
            amr: vec!["otp".to_string()],
            restricted: true,
            sid: Sid::new(),
            credential_id: None,
        }
    }

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
    secret: SessionSecret,
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

    /// Starts a session and returns its secret id. An `old` session presented with the
    /// request is ended first, so every sign-in gets a new id (no session fixation). A
    /// restricted (recovery) session lives [`RECOVERY_LIFETIME`].
    pub async fn start(
        &self,
        session: Session,
        old: Option<&SessionSecret>,
        caller: &Caller,
    ) -> Result<SessionSecret, Fault> {
        let prepared = self.record(session, caller).await?;
        self.activate(prepared, old).await
    }

    /// A new session with its record written, not yet active: the record comes first, so a
    /// session never exists without the row that can end it.
    pub async fn record(&self, session: Session, caller: &Caller) -> Result<Prepared, Fault> {
        let prepared = self.prepare(session, caller)?;
        self.db.sessions().insert(prepared.row.clone()).await?;
        Ok(prepared)
    }

    /// A session's secret id and its record, neither saved yet: a sign-in writes the record in
    /// the transaction that records the passkey's use, then [`Sessions::activate`]s it.
    pub fn prepare(&self, session: Session, caller: &Caller) -> Result<Prepared, Fault> {
        let ttl = if session.restricted {
            RECOVERY_LIFETIME
        } else {
            self.lifetime
        };
        let now = Utc::now().naive_utc();
        let row = SessionRow {
            sid: session.sid.to_string(),
            user_id: session.user_id.to_string(),
            created_at: now,
            last_seen_at: now,
            expires_at: now + chrono::Duration::from_std(ttl).map_err(Fault::internal)?,
            browser: caller.browser.to_string(),
            restricted: session.restricted,
            credential_id: session.credential_id.as_ref().map(CredentialId::to_string),
        };
        Ok(Prepared {
            secret: SessionSecret::new(),
            session,
            row,
            ttl,
        })
    }

    /// Puts a prepared session, whose record is written, in the store; an `old` session
    /// presented with the request is ended, so every sign-in gets a new id (no session
    /// fixation). Returns the secret id.
    pub async fn activate(
        &self,
        prepared: Prepared,
        old: Option<&SessionSecret>,
    ) -> Result<SessionSecret, Fault> {
        if let Some(old) = old {
            self.end(old).await?;
        }
        self.store
            .put_json(
                Key::Session(prepared.secret.expose()),
                &prepared.session,
                prepared.ttl,
            )
            .await?;
        Ok(prepared.secret)
    }

    /// The live session behind `secret`: in the store, with its record, and its user active.
    pub async fn get(&self, secret: &SessionSecret) -> Result<Option<Session>, Fault> {
        let key = Key::Session(secret.expose());
        let Some(session) = self.store.get_json::<Session>(key).await? else {
            return Ok(None);
        };
        if self
            .db
            .sessions()
            .check(&session.sid, Utc::now().naive_utc())
            .await?
        {
            return Ok(Some(session));
        }
        // Ended elsewhere (sign out everywhere, an operator): forget it here too.
        self.store.delete(key).await?;
        Ok(None)
    }

    /// Ends the session behind `secret`, here and in its record.
    pub async fn end(&self, secret: &SessionSecret) -> Result<(), Fault> {
        let key = Key::Session(secret.expose());
        if let Some(session) = self.store.take_json::<Session>(key).await? {
            self.db.sessions().delete(&session.sid).await?;
        }
        Ok(())
    }

    /// The user's live sessions, `current` marking the one whose sid is given.
    pub async fn list(&self, user_id: &UserId, current: &Sid) -> Result<Vec<SessionView>, Fault> {
        let rows = self
            .db
            .sessions()
            .for_user(user_id, Utc::now().naive_utc())
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| SessionView {
                current: r.sid == current.as_str(),
                id: r.sid,
                created: rfc3339(r.created_at),
                last_seen: rfc3339(r.last_seen_at),
                browser: r.browser,
                recovery: r.restricted,
            })
            .collect())
    }

    /// Ends every session of the user except `keep`; returns how many ended.
    pub async fn end_others(&self, user_id: &UserId, keep: &Sid) -> Result<usize, Fault> {
        Ok(self
            .db
            .sessions()
            .delete_for_user(user_id, Some(keep))
            .await?)
    }
}
