//! The periodic sweep: what has expired goes, and events older than the retention.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::refresh_tokens;
use super::{events, invites, sessions, AnyConnection, DbError};

/// How many rows one sweep removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub refresh_tokens: usize,
    pub invites_and_links: usize,
    pub sessions: usize,
    pub events: usize,
}

impl Swept {
    pub fn total(&self) -> usize {
        self.refresh_tokens + self.invites_and_links + self.sessions + self.events
    }
}

/// Deletes expired refresh tokens, invites, recovery links and session records, and events
/// older than `events_before`.
pub fn sweep(
    conn: &mut AnyConnection,
    now: NaiveDateTime,
    events_before: NaiveDateTime,
) -> Result<Swept, DbError> {
    Ok(Swept {
        refresh_tokens: diesel::delete(
            refresh_tokens::table.filter(refresh_tokens::expires_at.le(now)),
        )
        .execute(conn)?,
        invites_and_links: invites::delete_expired(conn, now)?,
        sessions: sessions::delete_expired(conn, now)?,
        events: events::delete_before(conn, events_before)?,
    })
}
