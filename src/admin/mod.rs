//! What operators do to people and access (the `users`, `groups` and `events` commands):
//! domain operations on the configured database, with or without a running server. A change
//! that affects sessions takes effect on every instance at once, because a session is live
//! only while its database record is and its user is active.

pub mod links;

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{bail, Context};
use chrono::Utc;
use serde::Serialize;

use crate::db::models::User;
use crate::db::{self, Db};
use crate::events::{rfc3339, Caller, EventKind, EventView};

/// A group name: 1 to 64 letters, digits and `. _ - : @ /` (what Kubernetes, Grafana and
/// oauth2-proxy accept).
pub fn check_group_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-:@/".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "'{name}' is not a group name: 1 to 64 letters, digits and . _ - : @ /"
        ))
    }
}

/// One line of `users list`.
#[derive(Debug, Clone, Serialize)]
pub struct UserSummary {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    pub status: &'static str,
    pub groups: Vec<String>,
    pub passkeys: i64,
    pub created: String,
    pub last_sign_in: Option<String>,
}

/// `users show`: the summary's fields, with the passkeys and sessions themselves.
#[derive(Debug, Clone, Serialize)]
pub struct UserDetail {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    pub status: &'static str,
    pub groups: Vec<String>,
    pub created: String,
    pub last_sign_in: Option<String>,
    pub passkeys: Vec<PasskeyDetail>,
    pub sessions: Vec<SessionDetail>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PasskeyDetail {
    pub id: String,
    pub name: String,
    pub created: String,
    pub last_used: Option<String>,
    pub synced: bool,
    pub clone_suspected: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct SessionDetail {
    pub created: String,
    pub last_seen: String,
    pub browser: String,
    /// A recovery session (its only power is adding a passkey).
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
}

impl Admin {
    pub fn new(db: Db, issuer: &str) -> Admin {
        Admin {
            db,
            issuer: issuer.to_string(),
            caller: Caller::command_line(),
        }
    }

    /// USER as a username, or else as an id.
    pub async fn user(&self, name_or_id: &str) -> anyhow::Result<User> {
        let key = name_or_id.to_owned();
        self.db
            .run(move |c| db::admin::find_user(c, &key))
            .await?
            .with_context(|| format!("there is no user '{name_or_id}' (give a username or an id)"))
    }

    pub async fn list(&self, group: Option<&str>) -> anyhow::Result<Vec<UserSummary>> {
        if let Some(g) = group {
            self.group_must_exist(g).await?;
        }
        let group = group.map(str::to_owned);
        let (users, groups, members) = self
            .db
            .run(move |c| {
                let members = match &group {
                    Some(g) => Some(db::groups::members_of(c, g)?),
                    None => None,
                };
                Ok((db::admin::list_users(c)?, db::groups::by_user(c)?, members))
            })
            .await?;
        Ok(users
            .into_iter()
            .filter(|(u, _)| members.as_ref().is_none_or(|m| m.contains(&u.id)))
            .map(|(u, passkeys)| summary(u, passkeys, &groups))
            .collect())
    }

    pub async fn show(&self, name_or_id: &str) -> anyhow::Result<UserDetail> {
        let user = self.user(name_or_id).await?;
        let id = user.id.clone();
        let now = Utc::now().naive_utc();
        let (creds, groups, sessions) = self
            .db
            .run(move |c| {
                Ok((
                    db::credentials::for_user(c, &id)?,
                    db::groups::of_user(c, &id)?,
                    db::sessions::for_user(c, &id, now)?,
                ))
            })
            .await?;
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
            sessions: sessions
                .into_iter()
                .map(|s| SessionDetail {
                    created: rfc3339(s.created_at),
                    last_seen: rfc3339(s.last_seen_at),
                    browser: s.browser,
                    recovery: s.restricted,
                })
                .collect(),
        })
    }

    /// Disables USER; their sessions and refresh tokens end in the same transaction. Returns
    /// false when they were disabled already.
    pub async fn disable(&self, name_or_id: &str) -> anyhow::Result<(User, bool)> {
        let user = self.user(name_or_id).await?;
        let event = self
            .caller
            .event(EventKind::UserDisabled, Some(&user.id), None);
        let id = user.id.clone();
        let changed = self
            .db
            .run(move |c| db::admin::disable(c, &id, &event))
            .await?;
        Ok((user, changed))
    }

    pub async fn enable(&self, name_or_id: &str) -> anyhow::Result<(User, bool)> {
        let user = self.user(name_or_id).await?;
        let event = self
            .caller
            .event(EventKind::UserEnabled, Some(&user.id), None);
        let id = user.id.clone();
        let changed = self
            .db
            .run(move |c| db::admin::enable(c, &id, &event))
            .await?;
        Ok((user, changed))
    }

    /// Erases USER and everything that hangs off them, in one transaction.
    pub async fn delete(&self, name_or_id: &str) -> anyhow::Result<User> {
        let user = self.user(name_or_id).await?;
        let event = self
            .caller
            .event(EventKind::UserDeleted, Some(&user.id), None);
        if !self.db.admin().delete_user(&user.id, event).await? {
            bail!("user '{name_or_id}' was deleted meanwhile");
        }
        Ok(user)
    }

    /// Removes one of USER's passkeys; a passkey that is not theirs changes nothing.
    pub async fn passkey_remove(
        &self,
        name_or_id: &str,
        credential_id: &str,
    ) -> anyhow::Result<()> {
        let user = self.user(name_or_id).await?;
        let event = self.caller.event(
            EventKind::PasskeyRemoved,
            Some(&user.id),
            Some(credential_id),
        );
        let (id, cred) = (user.id.clone(), credential_id.to_owned());
        if !self
            .db
            .run(move |c| db::admin::remove_passkey(c, &id, &cred, &event))
            .await?
        {
            bail!("user '{name_or_id}' has no passkey {credential_id}");
        }
        Ok(())
    }

    /// Clears the "possibly cloned" flag of one of USER's passkeys.
    pub async fn passkey_unflag(
        &self,
        name_or_id: &str,
        credential_id: &str,
    ) -> anyhow::Result<()> {
        let user = self.user(name_or_id).await?;
        let (id, cred) = (user.id.clone(), credential_id.to_owned());
        if !self
            .db
            .run(move |c| db::admin::unflag_passkey(c, &id, &cred))
            .await?
        {
            bail!("user '{name_or_id}' has no passkey {credential_id}");
        }
        Ok(())
    }

    pub async fn add_to_group(&self, name_or_id: &str, group: &str) -> anyhow::Result<bool> {
        let user = self.user(name_or_id).await?;
        self.group_must_exist(group).await?;
        let (id, g) = (user.id, group.to_owned());
        Ok(self
            .db
            .run(move |c| db::groups::add_member(c, &g, &id, Utc::now().naive_utc()))
            .await?)
    }

    pub async fn remove_from_group(&self, name_or_id: &str, group: &str) -> anyhow::Result<()> {
        let user = self.user(name_or_id).await?;
        self.group_must_exist(group).await?;
        let (id, g) = (user.id, group.to_owned());
        if !self
            .db
            .run(move |c| db::groups::remove_member(c, &g, &id))
            .await?
        {
            bail!("user '{name_or_id}' is not in group '{group}'");
        }
        Ok(())
    }

    /// Every group with its number of members.
    pub async fn groups(&self) -> anyhow::Result<Vec<(String, i64)>> {
        Ok(self.db.run(db::groups::all).await?)
    }

    pub async fn group_add(&self, name: &str) -> anyhow::Result<()> {
        check_group_name(name).map_err(anyhow::Error::msg)?;
        let n = name.to_owned();
        let created = self
            .db
            .run(move |c| db::groups::create(c, &n, Utc::now().naive_utc()))
            .await;
        match created {
            Ok(true) => Ok(()),
            Ok(false) => bail!("group '{name}' exists already"),
            Err(e) if e.is_unique_violation() => bail!("group '{name}' exists already"),
            Err(e) => Err(e.into()),
        }
    }

    /// Removes a group and its memberships.
    pub async fn group_remove(&self, name: &str) -> anyhow::Result<()> {
        let n = name.to_owned();
        if !self.db.run(move |c| db::groups::remove(c, &n)).await? {
            bail!("there is no group '{name}'");
        }
        Ok(())
    }

    async fn group_must_exist(&self, group: &str) -> anyhow::Result<()> {
        let g = group.to_owned();
        if !self.db.run(move |c| db::groups::exists(c, &g)).await? {
            bail!("there is no group '{group}' (create it with: passkey-idp groups add {group})");
        }
        Ok(())
    }

    /// Stored events, newest first: of one user (a username, or the id of a deleted user), and
    /// no older than `since`.
    pub async fn events(
        &self,
        user: Option<&str>,
        since: Option<Duration>,
    ) -> anyhow::Result<Vec<EventView>> {
        let user_id = match user {
            None => None,
            Some(u) => Some(match self.user(u).await {
                Ok(found) => found.id,
                // A deleted user's events keep their id.
                Err(_) => u.to_string(),
            }),
        };
        let since = match since {
            Some(d) => Some((Utc::now() - chrono::Duration::from_std(d)?).naive_utc()),
            None => None,
        };
        let filter = db::events::Filter {
            user_id,
            since,
            limit: 10_000,
        };
        Ok(self
            .db
            .events()
            .recent(filter)
            .await?
            .into_iter()
            .map(EventView::from)
            .collect())
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
