//! What operators do to people and access (the `users`, `groups` and `events` commands):
//! domain operations on the configured database, with or without a running server. A change
//! that affects sessions takes effect on every instance at once, because a session is live
//! only while its database record is and its user is active.

pub mod audit;
pub mod clients;
pub mod directory;
mod error;
mod groups;
pub mod keys;
pub mod links;
mod people;
pub mod tokens;

use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;
use serde::Serialize;

pub use error::{AdminError, Refusal};

use crate::db::models::User;
use crate::db::Db;
use crate::events::{rfc3339, Caller, Event, EventView};

pub use crate::ids::is_group_name;

fn group_name(name: &str) -> Result<(), AdminError> {
    if is_group_name(name) {
        Ok(())
    } else {
        Err(AdminError::BadGroupName(name.to_string()))
    }
}

/// One line of `users list`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserSummary {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    /// `active` or `disabled`.
    #[schema(value_type = String, pattern = "^(active|disabled)$")]
    pub status: &'static str,
    pub groups: Vec<String>,
    pub passkeys: i64,
    pub created: String,
    pub last_sign_in: Option<String>,
}

/// `users show`: the summary's fields, with the passkeys and sessions themselves.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserDetail {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    #[schema(value_type = String, pattern = "^(active|disabled)$")]
    pub status: &'static str,
    pub groups: Vec<String>,
    pub created: String,
    pub last_sign_in: Option<String>,
    pub passkeys: Vec<PasskeyDetail>,
    pub sessions: Vec<SessionDetail>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PasskeyDetail {
    pub id: String,
    pub name: String,
    pub created: String,
    pub last_used: Option<String>,
    pub synced: bool,
    pub clone_suspected: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SessionDetail {
    pub created: String,
    pub last_seen: String,
    pub browser: String,
    /// A recovery session (its only power is adding a passkey).
    /// Present (true) only on a recovery session, so other sessions keep their documented
    /// shape.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub recovery: bool,
}

fn status(user: &User) -> &'static str {
    if user.is_active() {
        "active"
    } else {
        "disabled"
    }
}

/// The operator's view of the database.
pub struct Admin {
    pub db: Db,
    /// Where one-time URLs point (`ISSUER/register?invite=…`).
    pub issuer: String,
    pub caller: Caller,
    /// What the caller may do: everything at the command line, a token's scopes over the API.
    pub scopes: tokens::Scopes,
}

impl Admin {
    /// The operator at the command line.
    pub fn new(db: Db, issuer: &str) -> Admin {
        Admin {
            db,
            issuer: issuer.to_string(),
            caller: Caller::command_line(),
            scopes: tokens::Scopes::all(),
        }
    }

    /// A caller of the admin API, with its token's name and scopes.
    pub fn for_token(
        db: Db,
        issuer: &str,
        holder: tokens::TokenHolder,
        request_id: Option<String>,
    ) -> Admin {
        Admin {
            db,
            issuer: issuer.to_string(),
            caller: Caller::token(request_id, &holder.name),
            scopes: holder.scopes,
        }
    }

    /// USER as a username, or else as an id.
    pub async fn user(&self, name_or_id: &str) -> Result<User, AdminError> {
        self.db
            .admin()
            .find_user(name_or_id)
            .await?
            .ok_or_else(|| AdminError::NoSuchUser(name_or_id.to_string()))
    }

    pub async fn list(&self, group: Option<&str>) -> Result<Vec<UserSummary>, AdminError> {
        let members = match group {
            Some(g) => {
                self.group_must_exist(g).await?;
                Some(self.db.groups().members_of(g).await?)
            }
            None => None,
        };
        let users = self.db.admin().list_users().await?;
        let groups = self.db.groups().by_user().await?;
        Ok(users
            .into_iter()
            .filter(|(u, _)| members.as_ref().is_none_or(|m| m.contains(&u.id)))
            .map(|(u, passkeys)| summary(u, passkeys, &groups))
            .collect())
    }

    pub async fn show(&self, name_or_id: &str) -> Result<UserDetail, AdminError> {
        let user = self.user(name_or_id).await?;
        let creds = self.db.credentials().for_user(&user.id).await?;
        let groups = self.db.groups().of_user(&user.id).await?;
        let sessions = self.live_sessions(&user.id).await?;
        Ok(UserDetail {
            status: status(&user),
            created: rfc3339(user.created_at),
            last_sign_in: user.last_sign_in_at.map(rfc3339),
            id: user.id,
            username: user.username,
            email: user.email,
            groups,
            passkeys: creds
                .into_iter()
                .map(|c| PasskeyDetail {
                    id: c.credential_id,
                    name: c.name,
                    created: rfc3339(c.created_at),
                    last_used: c.last_used_at.map(rfc3339),
                    synced: c.backup_eligible,
                    clone_suspected: c.clone_suspected,
                })
                .collect(),
            sessions,
        })
    }

    /// USER's live sessions, as `users show` lists them.
    pub async fn sessions(&self, name_or_id: &str) -> Result<Vec<SessionDetail>, AdminError> {
        let user = self.user(name_or_id).await?;
        self.live_sessions(&user.id).await
    }

    async fn live_sessions(&self, user_id: &str) -> Result<Vec<SessionDetail>, AdminError> {
        let sessions = self
            .db
            .sessions()
            .for_user(user_id, Utc::now().naive_utc())
            .await?;
        Ok(sessions
            .into_iter()
            .map(|s| SessionDetail {
                created: rfc3339(s.created_at),
                last_seen: rfc3339(s.last_seen_at),
                browser: s.browser,
                recovery: s.restricted,
            })
            .collect())
    }

    /// Disables USER; their sessions and refresh tokens end in the same transaction. Returns
    /// false when they were disabled already.
    pub async fn disable(&self, name_or_id: &str) -> Result<(User, bool), AdminError> {
        let user = self.user(name_or_id).await?;
        let event = self
            .caller
            .event(Event::UserDisabled, Some(&user.id), None)
            .change(serde_json::json!({"from": "active", "to": "disabled"}));
        let changed = self.db.admin().disable(&user.id, event.row()).await?;
        if changed {
            event.report();
        }
        Ok((user, changed))
    }

    pub async fn enable(&self, name_or_id: &str) -> Result<(User, bool), AdminError> {
        let user = self.user(name_or_id).await?;
        let event = self
            .caller
            .event(Event::UserEnabled, Some(&user.id), None)
            .change(serde_json::json!({"from": "disabled", "to": "active"}));
        let changed = self.db.admin().enable(&user.id, event.row()).await?;
        if changed {
            event.report();
        }
        Ok((user, changed))
    }

    /// Erases USER and everything that hangs off them, in one transaction.
    pub async fn delete(&self, name_or_id: &str) -> Result<User, AdminError> {
        let user = self.user(name_or_id).await?;
        let event = self
            .caller
            .event(Event::UserDeleted, Some(&user.id), None)
            .username(&user.username);
        if !self.db.admin().delete_user(&user.id, event.row()).await? {
            return Err(AdminError::DeletedMeanwhile(name_or_id.to_string()));
        }
        event.report();
        Ok(user)
    }

    /// Removes one of USER's passkeys, and the sessions it started; a passkey that is not
    /// theirs changes nothing.
    pub async fn passkey_remove(
        &self,
        name_or_id: &str,
        credential_id: &str,
    ) -> Result<(), AdminError> {
        let user = self.user(name_or_id).await?;
        let event = self
            .caller
            .event(Event::PasskeyRemoved, Some(&user.id), Some(credential_id));
        if !self
            .db
            .admin()
            .remove_passkey(&user.id, credential_id, event.row())
            .await?
        {
            return Err(no_such_passkey(name_or_id, credential_id));
        }
        event.report();
        Ok(())
    }

    /// Clears the "possibly cloned" flag of one of USER's passkeys; the event is stored only
    /// when the flag was set.
    pub async fn passkey_unflag(
        &self,
        name_or_id: &str,
        credential_id: &str,
    ) -> Result<(), AdminError> {
        let user = self.user(name_or_id).await?;
        let event = self
            .caller
            .event(Event::PasskeyUnflagged, Some(&user.id), Some(credential_id))
            .change(serde_json::json!({"clone_suspected": {"from": true, "to": false}}));
        match self
            .db
            .admin()
            .unflag_passkey(&user.id, credential_id, event.row())
            .await?
        {
            None => Err(no_such_passkey(name_or_id, credential_id)),
            Some(changed) => {
                if changed {
                    event.report();
                }
                Ok(())
            }
        }
    }

    /// Stored events, newest first: of one user (a username, or the id of a deleted user), and
    /// no older than `since`.
    pub async fn events(
        &self,
        user: Option<&str>,
        since: Option<Duration>,
    ) -> Result<Vec<EventView>, AdminError> {
        let since = since
            .and_then(|d| chrono::Duration::from_std(d).ok())
            .map(|d| (Utc::now() - d).naive_utc());
        let query = audit::EventQuery {
            user: user.map(str::to_string),
            since,
            limit: 10_000,
            ..Default::default()
        };
        Ok(self
            .audit(query)
            .await?
            .into_iter()
            .map(EventView::from)
            .collect())
    }
}

fn no_such_passkey(user: &str, credential_id: &str) -> AdminError {
    AdminError::NoSuchPasskey {
        user: user.to_string(),
        credential_id: credential_id.to_string(),
    }
}

fn summary(user: User, passkeys: i64, groups: &HashMap<String, Vec<String>>) -> UserSummary {
    UserSummary {
        status: status(&user),
        groups: groups.get(&user.id).cloned().unwrap_or_default(),
        passkeys,
        created: rfc3339(user.created_at),
        last_sign_in: user.last_sign_in_at.map(rfc3339),
        id: user.id,
        username: user.username,
        email: user.email,
    }
}
