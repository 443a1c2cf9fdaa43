//! The `security_events` table: written by the transactions of the changes they record (see
//! [`record`]) or alone for what changes nothing (a refused sign-in).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::models::{EventRow, NewEvent};
use super::schema::security_events as events;
use super::{AnyConnection, Db, DbError};

pub fn record(conn: &mut AnyConnection, event: &NewEvent) -> Result<(), DbError> {
    diesel::insert_into(events::table)
        .values(event)
        .execute(conn)?;
    Ok(())
}

/// Which events to read, newest first.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub user_id: Option<String>,
    pub since: Option<NaiveDateTime>,
    pub limit: i64,
}

pub fn recent(conn: &mut AnyConnection, filter: &Filter) -> Result<Vec<EventRow>, DbError> {
    let mut query = events::table.into_boxed();
    if let Some(user) = &filter.user_id {
        query = query.filter(events::user_id.eq(user.clone()));
    }
    if let Some(since) = filter.since {
        query = query.filter(events::occurred_at.ge(since));
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
