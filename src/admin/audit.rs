//! The audit trail as the admin API reads it: stored events by person, kind, actor and time,
//! newest first, a page at a time.

use chrono::NaiveDateTime;

use super::{Admin, AdminError};
use crate::db::events::{Filter, Subject};
use crate::db::models::EventRow;
use crate::events::Event;

/// Which events to read (`GET /events`); every given condition holds.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    /// A username or id; a name no user has now finds the events of a deleted user who had it.
    pub user: Option<String>,
    /// A stored kind (`user_disabled`).
    pub kind: Option<String>,
    /// `cli:USER`, `token:NAME`, `instance:ID`.
    pub actor: Option<String>,
    /// At or after this time.
    pub since: Option<NaiveDateTime>,
    /// Before this time.
    pub until: Option<NaiveDateTime>,
    /// Older than this event (time, id): where the page before ended.
    pub before: Option<(NaiveDateTime, i64)>,
    pub limit: i64,
}

impl Admin {
    /// Whose events a USER filter means: a user who exists now, by id, or else a former one.
    async fn subject(&self, name_or_id: &str) -> Result<Subject, AdminError> {
        match self.user(name_or_id).await {
            Ok(found) => Ok(Subject::User(found.id)),
            // A deleted user's events keep their id and the name they had.
            Err(AdminError::NoSuchUser(_)) => Ok(Subject::Former(name_or_id.to_string())),
            Err(e) => Err(e),
        }
    }

    /// Up to `limit` stored events, newest first; a kind that is never stored is refused.
    pub async fn audit(&self, query: EventQuery) -> Result<Vec<EventRow>, AdminError> {
        if let Some(kind) = &query.kind {
            if !Event::ALL.iter().any(|e| e.stored() && e.name() == kind) {
                return Err(AdminError::BadEventKind(kind.clone()));
            }
        }
        let subject = match &query.user {
            Some(u) => Some(self.subject(u).await?),
            None => None,
        };
        let filter = Filter {
            subject,
            kind: query.kind,
            actor: query.actor,
            since: query.since,
            until: query.until,
            before: query.before,
            limit: query.limit,
        };
        Ok(self.db.events().recent(filter).await?)
    }
}
