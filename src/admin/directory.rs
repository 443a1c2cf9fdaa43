//! The people directory: users found by part of their name or address, status and group, a
//! page at a time.

use super::{status, Admin, AdminError, UserSummary};
use crate::db::directory::Search;
use crate::events::rfc3339;

/// Which users to list (`GET /users`).
#[derive(Debug, Clone, Default)]
pub struct Wanted {
    pub query: Option<String>,
    pub group: Option<String>,
    /// `Some(true)`: active only; `Some(false)`: disabled only.
    pub active: Option<bool>,
    /// Only usernames after this one.
    pub after: Option<String>,
    pub limit: i64,
}

impl Admin {
    /// Up to `limit` users in username order; a group that does not exist is not found.
    pub async fn find_users(&self, wanted: Wanted) -> Result<Vec<UserSummary>, AdminError> {
        if let Some(group) = &wanted.group {
            self.group_must_exist(group).await?;
        }
        let found = self
            .db
            .directory()
            .search(Search {
                query: wanted.query.filter(|q| !q.is_empty()),
                group: wanted.group,
                active: wanted.active,
                after: wanted.after,
                limit: wanted.limit,
            })
            .await?;
        Ok(found
            .into_iter()
            .map(|(user, passkeys, groups)| UserSummary {
                status: status(&user),
                groups,
                passkeys,
                created: rfc3339(user.created_at),
                last_sign_in: user.last_sign_in_at.map(rfc3339),
                id: user.id,
                username: user.username,
                email: user.email,
            })
            .collect())
    }
}
