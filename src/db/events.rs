//! The `security_events` table: written by the transactions of the changes they record (see
//! [`record`]) or alone for what changes nothing (a refused sign-in).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::models::{EventRow, NewEvent};
use super::schema::{security_events as events, users};
use super::{AnyConnection, Db, DbError};

/// Writes one event. An event about a user that does not name them gets their username as it
/// is now, so that it still says who they were after they are deleted.
pub fn record(conn: &mut AnyConnection, event: &NewEvent) -> Result<(), DbError> {
    let mut event = event.clone();
    if let (None, Some(user_id)) = (&event.username, &event.user_id) {
        event.username = users::table
            .filter(users::id.eq(user_id))
            .select(users::username)
            .first(conn)
            .optional()?;
    }
    diesel::insert_into(events::table)
        .values(&event)
        .execute(conn)?;
    Ok(())
}

/// Whose events to read.
#[derive(Debug, Clone)]
pub enum Subject {
    /// A user who exists: their events, by id.
    User(String),
    /// A name or id no user has now: the events of a deleted user who had it.
    Former(String),
}

/// Which events to read, newest first: every given condition holds.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub subject: Option<Subject>,
    pub kind: Option<String>,
    pub actor: Option<String>,
    pub since: Option<NaiveDateTime>,
    pub until: Option<NaiveDateTime>,
    /// Only events older than this one (time, id): the cursor of the page before.
    pub before: Option<(NaiveDateTime, i64)>,
    pub limit: i64,
}

pub fn recent(conn: &mut AnyConnection, filter: &Filter) -> Result<Vec<EventRow>, DbError> {
    let mut query = events::table.into_boxed();
    match &filter.subject {
        Some(Subject::User(id)) => query = query.filter(events::user_id.eq(id.clone())),
        Some(Subject::Former(name)) => {
            query = query.filter(
                events::user_id
                    .eq(name.clone())
                    .or(events::username.eq(name.clone())),
            )
        }
        None => {}
    }
    if let Some(kind) = &filter.kind {
        query = query.filter(events::kind.eq(kind.clone()));
    }
    if let Some(actor) = &filter.actor {
        query = query.filter(events::actor.eq(actor.clone()));
    }
    if let Some(since) = filter.since {
        query = query.filter(events::occurred_at.ge(since));
    }
    if let Some(until) = filter.until {
        query = query.filter(events::occurred_at.lt(until));
    }
    if let Some((time, id)) = filter.before {
        query = query.filter(
            events::occurred_at
                .lt(time)
                .or(events::occurred_at.eq(time).and(events::id.lt(id))),
        );
    }
    Ok(query
        .order((events::occurred_at.desc(), events::id.desc()))
        .limit(filter.limit)
        .select(EventRow::as_select())
        .load(conn)?)
}

pub fn delete_before(conn: &mut AnyConnection, cutoff: NaiveDateTime) -> Result<usize, DbError> {
    Ok(diesel::delete(events::table.filter(events::occurred_at.lt(cutoff))).execute(conn)?)
}

/// The `security_events` table, from async code.
pub struct EventRows<'a>(pub(super) &'a Db);

impl EventRows<'_> {
    pub async fn record(&self, event: NewEvent) -> Result<(), DbError> {
        self.0.run(move |c| record(c, &event)).await
    }

    pub async fn recent(&self, filter: Filter) -> Result<Vec<EventRow>, DbError> {
        self.0.run(move |c| recent(c, &filter)).await
    }
}
