//! Admin API tokens (`api_tokens`): only the SHA-256 of a token is stored. Creating and revoking
//! one writes its event in the same transaction.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::models::{ApiTokenRow, NewEvent};
use super::schema::api_tokens as tokens;
use super::{events, AnyConnection, Db, DbError};

/// Stores a new token and its event; false when a token of that name exists.
pub fn insert(
    conn: &mut AnyConnection,
    row: &ApiTokenRow,
    event: &NewEvent,
) -> Result<bool, DbError> {
    super::transaction(conn, |conn| {
        let taken = tokens::table
            .filter(tokens::name.eq(&row.name))
            .count()
            .get_result::<i64>(conn)?
            > 0;
        if taken {
            return Ok(false);
        }
        diesel::insert_into(tokens::table)
            .values(row)
            .execute(conn)?;
        events::record(conn, event)?;
        Ok(true)
    })
}

/// Every token, by name.
pub fn all(conn: &mut AnyConnection) -> Result<Vec<ApiTokenRow>, DbError> {
    Ok(tokens::table
        .order(tokens::name.asc())
        .select(ApiTokenRow::as_select())
        .load(conn)?)
}

/// The token whose hash this is, if any (expired ones too: the caller decides).
pub fn by_hash(conn: &mut AnyConnection, sha256: &str) -> Result<Option<ApiTokenRow>, DbError> {
    Ok(tokens::table
        .filter(tokens::token_sha256.eq(sha256))
        .select(ApiTokenRow::as_select())
        .first(conn)
        .optional()?)
}

/// Deletes the token and writes its event; false when there is none of that name.
pub fn revoke(conn: &mut AnyConnection, name: &str, event: &NewEvent) -> Result<bool, DbError> {
    super::transaction(conn, |conn| {
        let gone = diesel::delete(tokens::table.filter(tokens::name.eq(name))).execute(conn)? == 1;
        if gone {
            events::record(conn, event)?;
        }
        Ok(gone)
    })
}

/// Notes a use unless one was noted since `stale_before` (a write a minute, not per request).
pub fn touch(
    conn: &mut AnyConnection,
    name: &str,
    now: NaiveDateTime,
    stale_before: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::update(
        tokens::table.filter(tokens::name.eq(name)).filter(
            tokens::last_used_at
                .is_null()
                .or(tokens::last_used_at.lt(stale_before)),
        ),
    )
    .set(tokens::last_used_at.eq(Some(now)))
    .execute(conn)?;
    Ok(())
}

/// The `api_tokens` table, from async code.
pub struct ApiTokenRows<'a>(pub(super) &'a Db);

impl ApiTokenRows<'_> {
    pub async fn insert(&self, row: ApiTokenRow, event: NewEvent) -> Result<bool, DbError> {
        self.0.run(move |c| insert(c, &row, &event)).await
    }

    pub async fn all(&self) -> Result<Vec<ApiTokenRow>, DbError> {
        self.0.run(all).await
    }

    pub async fn by_hash(&self, sha256: String) -> Result<Option<ApiTokenRow>, DbError> {
        self.0.run(move |c| by_hash(c, &sha256)).await
    }

    pub async fn revoke(&self, name: String, event: NewEvent) -> Result<bool, DbError> {
        self.0.run(move |c| revoke(c, &name, &event)).await
    }

    pub async fn touch(
        &self,
        name: String,
        now: NaiveDateTime,
        stale_before: NaiveDateTime,
    ) -> Result<(), DbError> {
        self.0
            .run(move |c| touch(c, &name, now, stale_before))
            .await
    }
}
