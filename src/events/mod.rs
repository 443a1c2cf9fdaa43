//! Security and audit events. [`Event`] names each one once: the `event` field of its log line,
//! the `kind` of its stored row (for the kinds that are stored) and the `event` label of
//! `passkey_idp_security_events_total`. [`Happened::report`] logs and counts one; a stored kind
//! is written as a row in the same transaction as the change it records (or by [`store`] when it
//! records no change of its own), then reported.
//!
//! Stored events are kept for `events.retention_days`. Each names its time, kind, user,
//! credential, client and request id, and never a secret, token, cookie, recovery code or
//! client address.

mod caller;

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{NaiveDateTime, SecondsFormat};
use serde::Serialize;
use tracing::Level;

pub use caller::{browser_family, Actor, BrowserFamily, Caller};

use crate::db::models::{EventRow, NewEvent};
use crate::db::{Db, DbError};

macro_rules! events {
    ($($variant:ident => $name:literal, $stored:literal, $target:literal, $level:ident, $message:literal;)+) => {
        /// Every security and audit event, by its one name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Event {
            $($variant,)+
        }

        impl Event {
            /// Every event, in the order of the enum (the metric's order).
            pub const ALL: &'static [Event] = &[$(Event::$variant,)+];

            /// Its name: the log line's `event`, the stored `kind`, the metric's label.
            pub fn name(self) -> &'static str {
                match self {
                    $(Event::$variant => $name,)+
                }
            }

            /// Whether rows of this kind are kept in `security_events`.
            pub fn stored(self) -> bool {
                match self {
                    $(Event::$variant => $stored,)+
                }
            }

            /// `security` (what happened to people and clients) or `audit` (keys and
            /// clients, changed by operators).
            fn target(self) -> &'static str {
                match self {
                    $(Event::$variant => $target,)+
                }
            }

            fn level(self) -> Level {
                match self {
                    $(Event::$variant => Level::$level,)+
                }
            }

            /// The log line's message.
            fn message(self) -> &'static str {
                match self {
                    $(Event::$variant => $message,)+
                }
            }
        }
    };
}

events! {
    // Stored, and reported once stored.
    SigninSuccess => "signin_success", true, "security", INFO, "signed in with a passkey";
    SigninFailure => "signin_failure", true, "security", INFO, "passkey sign-in refused";
    CounterRegression => "counter_regression", true, "security", WARN, "sign count went backwards; passkey flagged as possibly cloned";
    PasskeyAdded => "passkey_added", true, "security", INFO, "passkey added";
    PasskeyRenamed => "passkey_renamed", true, "security", INFO, "passkey renamed";
    PasskeyRemoved => "passkey_removed", true, "security", INFO, "passkey removed";
    RecoveryUsed => "recovery_used", true, "security", INFO, "recovery code used";
    UserDisabled => "user_disabled", true, "security", INFO, "user disabled";
    UserEnabled => "user_enabled", true, "security", INFO, "user enabled";
    UserDeleted => "user_deleted", true, "security", INFO, "user deleted";
    InviteIssued => "invite_issued", true, "security", INFO, "sign-up invite issued";
    InviteUsed => "invite_used", true, "security", INFO, "sign-up invite used";
    RecoveryLinkIssued => "recovery_link_issued", true, "security", INFO, "recovery link issued";
    RecoveryLinkUsed => "recovery_link_used", true, "security", INFO, "recovery link used";
    KeyChanged => "key_changed", true, "audit", INFO, "key set changed";
    UserUpdated => "user_updated", true, "audit", INFO, "user changed by an operator";
    UserSessionsEnded => "user_sessions_ended", true, "security", INFO, "all of a user's sessions ended by an operator";
    PasskeyUnflagged => "passkey_unflagged", true, "audit", INFO, "possibly-cloned flag cleared";
    ClientAdded => "client_added", true, "audit", INFO, "client registered";
    ClientUpdated => "client_updated", true, "audit", INFO, "client changed";
    ClientSecretRotated => "client_secret_rotated", true, "audit", INFO, "client secret rotated";
    ClientRemoved => "client_removed", true, "audit", INFO, "client removed";
    GroupAdded => "group_added", true, "audit", INFO, "group created";
    GroupRemoved => "group_removed", true, "audit", INFO, "group removed";
    GroupMemberAdded => "group_member_added", true, "audit", INFO, "user added to a group";
    GroupMemberRemoved => "group_member_removed", true, "audit", INFO, "user removed from a group";
    ApiTokenCreated => "api_token_created", true, "audit", INFO, "admin API token created";
    ApiTokenRevoked => "api_token_revoked", true, "audit", INFO, "admin API token revoked";
    SettingChanged => "setting_changed", true, "audit", INFO, "audited setting changed";
    // Logged and counted only.
    RegistrationFailure => "registration_failure", false, "security", INFO, "passkey registration refused";
    RecoveryCodesIssued => "recovery_codes_issued", false, "security", INFO, "new recovery codes issued";
    RecoveryFailure => "recovery_failure", false, "security", INFO, "recovery code refused";
    RateLimited => "rate_limited", false, "security", WARN, "rate limit reached";
    CsrfRefused => "csrf_refused", false, "security", WARN, "cross-site request refused";
    Logout => "logout", false, "security", INFO, "session ended by RP-initiated logout";
    SessionsEnded => "sessions_ended", false, "security", INFO, "signed out everywhere else";
    AuthorizeRefused => "authorize_refused", false, "security", INFO, "authorization request refused";
    RedirectUriMismatch => "redirect_uri_mismatch", false, "security", WARN, "redirect_uri not registered for the client";
    AccessDenied => "access_denied", false, "security", INFO, "signed-in user is in none of the client's allowed groups";
    CodeIssued => "code_issued", false, "security", INFO, "authorization code issued";
    CodeClientMismatch => "code_client_mismatch", false, "security", WARN, "authorization code presented by another client";
    CodeReuse => "code_reuse", false, "security", WARN, "authorization code reused; what it issued is revoked";
    TokensIssued => "tokens_issued", false, "security", INFO, "tokens issued";
    RefreshClientMismatch => "refresh_client_mismatch", false, "security", WARN, "refresh token presented by another client";
    RefreshReuse => "refresh_reuse", false, "security", WARN, "used refresh token presented again; its family is revoked";
    ClientAuthFailed => "client_auth_failed", false, "security", WARN, "client authentication failed";
    TokenRevoked => "token_revoked", false, "security", INFO, "token revoked";
    LogoutRedirectRefused => "logout_redirect_refused", false, "security", WARN, "post_logout_redirect_uri not registered for the client";
    ClonedCredentialRefused => "cloned_credential_refused", false, "security", WARN, "a passkey flagged as possibly cloned tried to sign in";
    DisabledAccountRefused => "disabled_account_refused", false, "security", INFO, "a disabled account tried to sign in";
    KeyRefused => "key_refused", false, "audit", WARN, "key change refused";
    KeyForced => "key_forced", false, "audit", WARN, "key change forced before the rules allow it";
    KeysReloaded => "keys_reloaded", false, "audit", INFO, "key set reloaded";
    KeysReloadFailed => "keys_reload_failed", false, "audit", ERROR, "the stored key set is not usable; still serving the last good set";
    ScheduledRotation => "scheduled_rotation", false, "audit", INFO, "scheduled key rotation step";
    ScheduledRotationFailed => "scheduled_rotation_failed", false, "audit", ERROR, "scheduled key rotation failed";
    AdminRefused => "admin_refused", false, "audit", WARN, "admin API request refused";
}

/// How many of each event this process reported, by [`Event::ALL`]'s order.
static COUNTS: [AtomicU64; Event::ALL.len()] = [const { AtomicU64::new(0) }; Event::ALL.len()];

/// Each event with how many times this process reported it (for `/metrics`).
pub fn counts() -> impl Iterator<Item = (Event, u64)> {
    Event::ALL
        .iter()
        .zip(&COUNTS)
        .map(|(event, count)| (*event, count.load(Ordering::Relaxed)))
}

/// One event that happened: what, when, whom it concerns, and for the log line a detail that
/// is never a secret (a reason code, a grant type, a key id).
#[derive(Debug, Clone)]
pub struct Happened {
    pub kind: Event,
    pub occurred_at: NaiveDateTime,
    pub user_id: Option<String>,
    pub credential_id: Option<String>,
    pub client_id: Option<String>,
    pub request_id: Option<String>,
    /// A refusal's stable error code (`invalid_signature`), logged as `reason`.
    pub reason: Option<&'static str>,
    /// For the log line only: never a secret (a grant type, a key id).
    pub detail: Option<String>,
    /// Who made an administrative change ([`Actor`]'s text); `None`: the person themselves.
    pub actor: Option<String>,
    /// The user's name at the time (filled in from `user_id` when stored, if not given).
    pub username: Option<String>,
    /// What the change was done to: a client id, a group, a kid, a token name.
    pub object: Option<String>,
    /// What changed, as a JSON object (stored as `detail`), e.g. `{"from":"next","to":"active"}`.
    pub change: Option<serde_json::Value>,
}

impl Event {
    /// This event, now, caused by no request (a background task, a refusal before anyone is
    /// known).
    pub fn now(self) -> Happened {
        Caller::default().event(self, None, None)
    }
}

impl Happened {
    pub fn user(mut self, user_id: &str) -> Happened {
        self.user_id = Some(user_id.to_string());
        self
    }

    pub fn client(mut self, client_id: &str) -> Happened {
        self.client_id = Some(client_id.to_string());
        self
    }

    pub fn reason(mut self, code: &'static str) -> Happened {
        self.reason = Some(code);
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Happened {
        self.detail = Some(detail.into());
        self
    }

    /// What the change was done to (a client id, a group, a kid, a token name).
    pub fn object(mut self, object: impl Into<String>) -> Happened {
        self.object = Some(object.into());
        self
    }

    pub fn username(mut self, username: &str) -> Happened {
        self.username = Some(username.to_string());
        self
    }

    /// What changed (a JSON object, stored as the event's `detail`).
    pub fn change(mut self, change: serde_json::Value) -> Happened {
        self.change = Some(change);
        self
    }

    /// Its row in `security_events`.
    pub fn row(&self) -> NewEvent {
        debug_assert!(
            self.kind.stored(),
            "{} is not a stored kind",
            self.kind.name()
        );
        NewEvent {
            occurred_at: self.occurred_at,
            kind: self.kind.name().to_string(),
            user_id: self.user_id.clone(),
            credential_id: self.credential_id.clone(),
            client_id: self.client_id.clone(),
            request_id: self.request_id.clone(),
            actor: self.actor.clone(),
            username: self.username.clone(),
            object: self.object.clone(),
            detail: self.change.as_ref().map(serde_json::Value::to_string),
        }
    }

    /// Logs it (target `security` or `audit`, its name as `event`) and counts it.
    pub fn report(&self) {
        let kind = self.kind;
        if let Some(count) = Event::ALL
            .iter()
            .position(|e| *e == kind)
            .and_then(|i| COUNTS.get(i))
        {
            count.fetch_add(1, Ordering::Relaxed);
        }
        let (user, credential, client, reason, detail) = (
            self.user_id.as_deref(),
            self.credential_id.as_deref(),
            self.client_id.as_deref(),
            self.reason,
            self.detail.as_deref(),
        );
        let (actor, object) = (self.actor.as_deref(), self.object.as_deref());
        macro_rules! log {
            ($target:literal, $level:expr) => {
                tracing::event!(
                    target: $target,
                    $level,
                    event = kind.name(),
                    user_id = user,
                    credential_id = credential,
                    client_id = client,
                    reason,
                    detail,
                    actor,
                    object,
                    "{}",
                    kind.message()
                )
            };
        }
        macro_rules! at_level {
            ($target:literal) => {
                match kind.level() {
                    Level::ERROR => log!($target, Level::ERROR),
                    Level::WARN => log!($target, Level::WARN),
                    _ => log!($target, Level::INFO),
                }
            };
        }
        match kind.target() {
            "audit" => at_level!("audit"),
            _ => at_level!("security"),
        }
    }
}

/// Stores an event that records no change of its own (a refused sign-in, a key change made on
/// the key folder), then reports it.
pub async fn store(db: &Db, event: Happened) -> Result<(), DbError> {
    db.events().record(event.row()).await?;
    event.report();
    Ok(())
}

/// An event as `events --json`, `GET /api/admin/v1/events` and `GET /account/events` show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventView {
    /// When, RFC 3339 UTC.
    pub time: String,
    pub kind: String,
    /// Who made the change: `cli:USER`, `token:NAME`, `instance:ID`; null when the person
    /// acted on their own account or nobody did (a refused sign-in).
    pub actor: Option<String>,
    /// The user's id.
    pub user: Option<String>,
    /// The user's name at the time.
    pub username: Option<String>,
    /// What a change was done to: a client id, a group, a kid, a token name.
    pub object: Option<String>,
    /// What changed, e.g. `{"from":"next","to":"active"}`.
    #[schema(value_type = Option<Object>)]
    pub detail: Option<serde_json::Value>,
    pub credential: Option<String>,
    pub client: Option<String>,
    pub request_id: Option<String>,
}

impl From<EventRow> for EventView {
    fn from(row: EventRow) -> EventView {
        EventView {
            time: rfc3339(row.occurred_at),
            kind: row.kind,
            actor: row.actor,
            user: row.user_id,
            username: row.username,
            object: row.object,
            detail: row.detail.and_then(|d| serde_json::from_str(&d).ok()),
            credential: row.credential_id,
            client: row.client_id,
            request_id: row.request_id,
        }
    }
}

/// A stored (UTC) time as RFC 3339, `2026-11-30T12:00:00Z`.
pub fn rfc3339(t: NaiveDateTime) -> String {
    t.and_utc().to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_one_snake_case_word_used_once() {
        let mut names: Vec<&str> = Event::ALL.iter().map(|e| e.name()).collect();
        assert!(names
            .iter()
            .all(|n| n.chars().all(|c| c.is_ascii_lowercase() || c == '_')));
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(names.len(), before, "a name used twice");
        assert_eq!(Event::ALL.iter().filter(|e| e.stored()).count(), 29);
    }

    #[test]
    fn a_report_is_counted_under_its_name() {
        let before = counts()
            .find(|(e, _)| *e == Event::TokenRevoked)
            .map(|(_, n)| n)
            .unwrap_or(0);
        Event::TokenRevoked.now().client("app").report();
        let after = counts()
            .find(|(e, _)| *e == Event::TokenRevoked)
            .map(|(_, n)| n)
            .unwrap_or(0);
        assert!(after > before);
    }
}
