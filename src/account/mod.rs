//! What a signed-in person can do with their account: see, rename and delete passkeys, and
//! issue recovery codes; and how a person who lost their passkeys gets back in with one
//! ([`recovery`]).

mod error;
pub mod recovery;

use chrono::NaiveDateTime;
use serde::Serialize;

pub use error::AccountError;

use crate::db::credentials::Deleted;
use crate::db::Db;
use crate::events::{Caller, Event, EventView};
use crate::ids::{CredentialId, Sid, UserId};
use crate::metadata::{Authenticator, AuthenticatorNames};
use crate::rate_limit::RateLimits;
use crate::session::Sessions;

#[derive(Clone)]
pub struct Accounts {
    pub db: Db,
    pub sessions: Sessions,
    pub limits: RateLimits,
    pub authenticators: AuthenticatorNames,
    /// Keys the lookup hash of recovery codes (`keys/recovery.secret`).
    pub recovery_key: std::sync::Arc<Vec<u8>>,
}

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
    /// The user handle this passkey was created with (for the Signal API on the account page).
    #[serde(skip)]
    pub user_handle: Option<Vec<u8>>,
}

/// Everything the account page shows.
pub struct Overview {
    pub username: String,
    pub user_handle: Vec<u8>,
    pub display_name: String,
    pub credentials: Vec<CredentialView>,
    pub unused_recovery_codes: i64,
    /// When the account (and its first passkey) was made.
    pub created_at: chrono::NaiveDateTime,
}

/// A passkey's name: trimmed, 1 to 64 characters, no control characters.
pub fn parse_credential_name(raw: &str) -> Result<String, AccountError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(AccountError::InvalidPasskeyName);
    }
    Ok(name.to_string())
}

impl Accounts {
    pub async fn credentials(&self, user_id: &UserId) -> Result<Vec<CredentialView>, AccountError> {
        let rows = self.db.credentials().for_user(user_id).await?;
        Ok(rows
            .into_iter()
            .map(|r| CredentialView {
                authenticator: self.authenticators.lookup(&r.aaguid),
                id: r.credential_id,
                name: r.name,
                created: r.created_at,
                last_used: r.last_used_at,
                synced: r.backup_eligible,
                aaguid: r.aaguid,
                clone_suspected: r.clone_suspected,
                user_handle: r.user_handle,
            })
            .collect())
    }

    pub async fn overview(&self, user_id: &UserId) -> Result<Overview, AccountError> {
        let user = self
            .db
            .users()
            .find_by_id(user_id)
            .await?
            .ok_or(AccountError::AccountGone)?;
        Ok(Overview {
            created_at: user.created_at,
            username: user.username,
            user_handle: user.user_handle,
            display_name: user.display_name,
            credentials: self.credentials(user_id).await?,
            unused_recovery_codes: self.db.recovery_codes().count_unused(user_id).await?,
        })
    }

    /// The name a page calls the person by: the display name, else the username; `None` when
    /// the account is gone.
    pub async fn display_name(&self, user_id: &str) -> Result<Option<String>, AccountError> {
        let user = self.db.users().find_by_id(user_id).await?;
        Ok(user.map(|u| {
            if u.display_name.trim().is_empty() {
                u.username
            } else {
                u.display_name
            }
        }))
    }

    /// Renames one of the user's passkeys; returns the name as stored.
    pub async fn rename(
        &self,
        user_id: &UserId,
        credential_id: &CredentialId,
        name: &str,
        caller: &Caller,
    ) -> Result<String, AccountError> {
        let name = parse_credential_name(name)?;
        let event = caller.event(Event::PasskeyRenamed, Some(user_id), Some(credential_id));
        if self
            .db
            .credentials()
            .rename(user_id, credential_id, &name, event.row())
            .await?
        {
            event.report();
            Ok(name)
        } else {
            Err(AccountError::PasskeyNotFound)
        }
    }

    /// Deletes one of the user's passkeys, and ends the other sessions it started (with their
    /// refresh tokens); `current` (a sid) is the session asking, which stays.
    pub async fn delete(
        &self,
        user_id: &UserId,
        credential_id: &CredentialId,
        current: &Sid,
        caller: &Caller,
    ) -> Result<(), AccountError> {
        let event = caller.event(Event::PasskeyRemoved, Some(user_id), Some(credential_id));
        match self
            .db
            .credentials()
            .delete_unless_last(user_id, credential_id, current, event.row())
            .await?
        {
            Deleted::Yes => {
                event.report();
                Ok(())
            }
            Deleted::NotFound => Err(AccountError::PasskeyNotFound),
            Deleted::LastCredential => Err(AccountError::LastPasskey),
        }
    }

    /// The user's newest 50 events.
    pub async fn events(&self, user_id: &UserId) -> Result<Vec<EventView>, AccountError> {
        let filter = crate::db::events::Filter {
            subject: Some(crate::db::events::Subject::User(user_id.to_string())),
            limit: 50,
            ..Default::default()
        };
        let rows = self.db.events().recent(filter).await?;
        Ok(rows.into_iter().map(EventView::from).collect())
    }

    /// The person deletes their account: everything goes in one transaction (the event that
    /// records it keeps only the user id), and with the session records every session ends.
    pub async fn delete_account(
        &self,
        user_id: &UserId,
        caller: &Caller,
    ) -> Result<(), AccountError> {
        let event = caller
            .event(Event::UserDeleted, Some(user_id), None)
            .detail("by its owner");
        if !self.db.admin().delete_user(user_id, event.row()).await? {
            return Err(AccountError::AccountGone);
        }
        event.report();
        Ok(())
    }
}
