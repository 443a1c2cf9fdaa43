//! The `user_sessions` table: the public record of each IdP session, which the session
//! list shows and whose removal ends the session on every instance.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::models::SessionRow;
use super::schema::{refresh_tokens, user_sessions as sessions, users};
use super::{AnyConnection, Db, DbError};

/// How often a session's "last seen" is written at most.
const SEEN_RESOLUTION_SECS: i64 = 60;

pub fn insert(conn: &mut AnyConnection, row: &SessionRow) -> Result<(), DbError> {
    diesel::insert_into(sessions::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// True while the session `sid` is live: its row exists, has not expired, and its user is
/// active. Marks it seen (at most once a minute).
pub fn check(conn: &mut AnyConnection, sid: &str, now: NaiveDateTime) -> Result<bool, DbError> {
    let seen: Option<NaiveDateTime> = sessions::table
        .inner_join(users::table)
        .filter(sessions::sid.eq(sid))
        .filter(sessions::expires_at.gt(now))
        .filter(users::disabled_at.is_null())
        .select(sessions::last_seen_at)
        .first(conn)
        .optional()?;
    let Some(seen) = seen else {
        return Ok(false);
    };
    if (now - seen).num_seconds() >= SEEN_RESOLUTION_SECS {
        diesel::update(sessions::table.filter(sessions::sid.eq(sid)))
            .set(sessions::last_seen_at.eq(now))
            .execute(conn)?;
    }
    Ok(true)
}

pub fn delete(conn: &mut AnyConnection, sid: &str) -> Result<usize, DbError> {
    Ok(diesel::delete(sessions::table.filter(sessions::sid.eq(sid))).execute(conn)?)
}

/// Ends every session of the user, or every one but `keep`; returns how many of those were
/// still live (expired records go too).
pub fn delete_for_user(
    conn: &mut AnyConnection,
    user_id: &str,
    keep: Option<&str>,
) -> Result<usize, DbError> {
    let now = chrono::Utc::now().naive_utc();
    let mine = sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::sid.ne(keep.unwrap_or("")));
    let live = mine
        .filter(sessions::expires_at.gt(now))
        .count()
        .get_result::<i64>(conn)?;
    diesel::delete(mine).execute(conn)?;
    Ok(usize::try_from(live).unwrap_or(0))
}

/// Ends the user's sessions that were started with `credential_id` (every one but `keep`), and
/// revokes the refresh tokens issued in them: a removed passkey leaves nothing it opened.
/// Returns how many sessions ended.
pub fn end_for_credential(
    conn: &mut AnyConnection,
    user_id: &str,
    credential_id: &str,
    keep: Option<&str>,
    now: NaiveDateTime,
) -> Result<usize, DbError> {
    let sids: Vec<String> = sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::credential_id.eq(credential_id))
        .filter(sessions::sid.ne(keep.unwrap_or("")))
        .select(sessions::sid)
        .load(conn)?;
    if sids.is_empty() {
        return Ok(0);
    }
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::sid.eq_any(&sids))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(Some(now)))
    .execute(conn)?;
    diesel::delete(sessions::table.filter(sessions::sid.eq_any(&sids))).execute(conn)?;
    Ok(sids.len())
}

/// The user's live sessions, most recently seen first.
pub fn for_user(
    conn: &mut AnyConnection,
    user_id: &str,
    now: NaiveDateTime,
) -> Result<Vec<SessionRow>, DbError> {
    Ok(sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::expires_at.gt(now))
        .order(sessions::last_seen_at.desc())
        .select(SessionRow::as_select())
        .load(conn)?)
}

pub fn delete_expired(conn: &mut AnyConnection, now: NaiveDateTime) -> Result<usize, DbError> {
    Ok(diesel::delete(sessions::table.filter(sessions::expires_at.le(now))).execute(conn)?)
}

/// The `user_sessions` table, from async code.
pub struct SessionRows<'a>(pub(super) &'a Db);

impl SessionRows<'_> {
    pub async fn insert(&self, row: SessionRow) -> Result<(), DbError> {
        self.0.run(move |c| insert(c, &row)).await
    }

    pub async fn check(&self, sid: &str, now: NaiveDateTime) -> Result<bool, DbError> {
        let sid = sid.to_owned();
        self.0.run(move |c| check(c, &sid, now)).await
    }

    pub async fn delete(&self, sid: &str) -> Result<usize, DbError> {
        let sid = sid.to_owned();
        self.0.run(move |c| delete(c, &sid)).await
    }

    pub async fn delete_for_user(
        &self,
        user_id: &str,
        keep: Option<&str>,
    ) -> Result<usize, DbError> {
        let (user, keep) = (user_id.to_owned(), keep.map(str::to_owned));
        self.0
            .run(move |c| delete_for_user(c, &user, keep.as_deref()))
            .await
    }

    pub async fn for_user(
        &self,
        user_id: &str,
        now: NaiveDateTime,
    ) -> Result<Vec<SessionRow>, DbError> {
        let user = user_id.to_owned();
        self.0.run(move |c| for_user(c, &user, now)).await
    }
}
