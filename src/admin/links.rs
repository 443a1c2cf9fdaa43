//! One-time URLs an operator hands to a person: a recovery link (device lost) and a sign-up
//! invite. The token is 256 random bits, shown once and stored only as its SHA-256.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{group_name, Admin, AdminError};
use crate::ceremony::Username;
use crate::db::models::{InviteRow, RecoveryLinkRow};
use crate::events::{rfc3339, Event};

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

fn expiry(ttl: Duration) -> Result<DateTime<Utc>, AdminError> {
    if ttl.is_zero() || ttl > MAX_TTL {
        return Err(AdminError::BadTtl);
    }
    let ttl = chrono::Duration::from_std(ttl).map_err(|_| AdminError::BadTtl)?;
    Ok(Utc::now() + ttl)
}

impl Admin {
    /// `ISSUER/recover?token=T`: the person adds a new passkey with it, once, before it expires.
    /// Their older recovery links, if unused, stop working.
    pub async fn recovery_link(
        &self,
        name_or_id: &str,
        ttl: Duration,
    ) -> Result<OneTimeUrl, AdminError> {
        let user = self.user(name_or_id).await?;
        if !user.is_active() {
            return Err(AdminError::Disabled(name_or_id.to_string()));
        }
        let (token, url, expires) = self.one_time_url("/recover?token=", ttl)?;
        let event = self
            .caller
            .event(Event::RecoveryLinkIssued, Some(&user.id), None)
            .change(serde_json::json!({ "expires": rfc3339(expires.naive_utc()) }));
        let row = RecoveryLinkRow {
            token_sha256: token,
            user_id: user.id,
            created_at: event.occurred_at,
            expires_at: expires.naive_utc(),
            used_at: None,
        };
        let voided = self.db.invites().issue_link(row, event.row()).await?;
        event.report();
        Ok(OneTimeUrl {
            url,
            expires,
            voided,
        })
    }

    /// `ISSUER/register?invite=T`: one sign-up, with the preset username (pinned), email
    /// (prefilled) and groups (joined on sign-up).
    pub async fn invite(&self, spec: InviteSpec) -> Result<OneTimeUrl, AdminError> {
        let username = match spec.username.as_deref() {
            Some(raw) => Some(
                Username::parse(raw)
                    .map_err(AdminError::BadUsername)?
                    .as_str()
                    .to_string(),
            ),
            None => None,
        };
        let email =
            crate::ceremony::parse_email(spec.email.as_deref()).map_err(AdminError::BadEmail)?;
        for group in &spec.groups {
            group_name(group)?;
            self.group_must_exist(group).await?;
        }
        if let Some(name) = &username {
            if self.db.users().username_exists(name).await? {
                return Err(AdminError::UsernameTaken(name.clone()));
            }
        }
        let (token, url, expires) = self.one_time_url("/register?invite=", spec.ttl)?;
        // What the invite presets, but never the email address.
        let event = self
            .caller
            .event(Event::InviteIssued, None, None)
            .change(serde_json::json!({
                "username": username,
                "groups": spec.groups,
                "expires": rfc3339(expires.naive_utc()),
            }));
        let row = InviteRow {
            token_sha256: token,
            username,
            email,
            group_names: serde_json::to_string(&spec.groups)
                .map_err(crate::fault::Fault::internal)?,
            created_at: event.occurred_at,
            expires_at: expires.naive_utc(),
            used_at: None,
        };
        self.db.invites().issue(row, event.row()).await?;
        event.report();
        Ok(OneTimeUrl {
            url,
            expires,
            voided: 0,
        })
    }

    /// A new token for `ISSUER{path}TOKEN`: its SHA-256 (what is stored; the token itself is
    /// not), the URL, and when it expires.
    fn one_time_url(
        &self,
        path: &str,
        ttl: Duration,
    ) -> Result<(String, String, DateTime<Utc>), AdminError> {
        let expires = expiry(ttl)?;
        let token = crate::random::token();
        let hash = crate::random::sha256_hex(token.as_bytes());
        Ok((hash, format!("{}{path}{token}", self.issuer), expires))
    }
}
