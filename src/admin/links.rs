//! One-time URLs an operator hands to a person: a recovery link (device lost) and a sign-up
//! invite. The token is 256 random bits, shown once and stored only as its SHA-256.

use std::time::Duration;

use anyhow::bail;
use chrono::{DateTime, NaiveDateTime, Utc};

use super::{check_group_name, Admin};
use crate::ceremony::Username;
use crate::db::models::{InviteRow, NewEvent, RecoveryLinkRow};
use crate::db::{self};
use crate::events::EventKind;

/// The longest a one-time URL may live.
const MAX_TTL: Duration = Duration::from_secs(90 * 86_400);

/// A one-time URL and when it stops working.
pub struct OneTimeUrl {
    pub url: String,
    pub expires: DateTime<Utc>,
    /// Older recovery links of the same person that this one voided (only the newest works).
    pub voided: usize,
}

/// What an invite may preset.
#[derive(Debug, Default)]
pub struct InviteSpec {
    pub username: Option<String>,
    pub email: Option<String>,
    pub groups: Vec<String>,
    pub ttl: Duration,
}

fn expiry(ttl: Duration) -> anyhow::Result<DateTime<Utc>> {
    if ttl.is_zero() || ttl > MAX_TTL {
        bail!("--ttl must be between 1s and 90d");
    }
    Ok(Utc::now() + chrono::Duration::from_std(ttl)?)
}

impl Admin {
    /// `ISSUER/recover?token=T`: the person adds a new passkey with it, once, before it expires.
    /// Their older recovery links, if unused, stop working.
    pub async fn recovery_link(
        &self,
        name_or_id: &str,
        ttl: Duration,
    ) -> anyhow::Result<OneTimeUrl> {
        let user = self.user(name_or_id).await?;
        if !user.is_active() {
            bail!("user '{name_or_id}' is disabled; enable them first (passkey-idp users enable {name_or_id})");
        }
        let event = self
            .caller
            .event(EventKind::RecoveryLinkIssued, Some(&user.id), None);
        self.issue(
            "/recover?token=",
            ttl,
            event,
            move |hash, created_at, expires_at| {
                Stored::Link(RecoveryLinkRow {
                    token_sha256: hash,
                    user_id: user.id,
                    created_at,
                    expires_at,
                    used_at: None,
                })
            },
        )
        .await
    }

    /// `ISSUER/register?invite=T`: one sign-up, with the preset username (pinned), email
    /// (prefilled) and groups (joined on sign-up).
    pub async fn invite(&self, spec: InviteSpec) -> anyhow::Result<OneTimeUrl> {
        let username = match spec.username.as_deref() {
            Some(raw) => Some(
                Username::parse(raw)
                    .map_err(|e| anyhow::anyhow!("--username: {e}"))?
                    .as_str()
                    .to_string(),
            ),
            None => None,
        };
        let email = crate::ceremony::parse_email(spec.email.as_deref())
            .map_err(|e| anyhow::anyhow!("--email: {e}"))?;
        for group in &spec.groups {
            check_group_name(group).map_err(anyhow::Error::msg)?;
            self.group_must_exist(group).await?;
        }
        if let Some(name) = &username {
            if self.db.users().username_exists(name).await? {
                bail!("the username '{name}' is taken");
            }
        }
        let event = self.caller.event(EventKind::InviteIssued, None, None);
        let group_names = serde_json::to_string(&spec.groups)?;
        self.issue(
            "/register?invite=",
            spec.ttl,
            event,
            move |hash, created_at, expires_at| {
                Stored::Invite(InviteRow {
                    token_sha256: hash,
                    username,
                    email,
                    group_names,
                    created_at,
                    expires_at,
                    used_at: None,
                })
            },
        )
        .await
    }

    /// Makes a token, stores the row `make` builds from its hash (with its event, in one
    /// transaction) and returns the URL `ISSUER{path}TOKEN`; the token itself is not stored.
    async fn issue(
        &self,
        path: &str,
        ttl: Duration,
        event: NewEvent,
        make: impl FnOnce(String, NaiveDateTime, NaiveDateTime) -> Stored + Send + 'static,
    ) -> anyhow::Result<OneTimeUrl> {
        let expires = expiry(ttl)?;
        let token = crate::random::token();
        let row = make(
            crate::random::sha256_hex(token.as_bytes()),
            event.occurred_at,
            expires.naive_utc(),
        );
        let voided = self
            .db
            .run(move |c| {
                db::transaction(c, |c| {
                    let voided = match &row {
                        Stored::Link(link) => db::invites::insert_link(c, link)?,
                        Stored::Invite(invite) => {
                            db::invites::insert(c, invite)?;
                            0
                        }
                    };
                    db::events::record(c, &event)?;
                    Ok(voided)
                })
            })
            .await?;
        Ok(OneTimeUrl {
            url: format!("{}{path}{token}", self.issuer),
            expires,
            voided,
        })
    }
}

/// The row behind a one-time URL.
enum Stored {
    Link(RecoveryLinkRow),
    Invite(InviteRow),
}
