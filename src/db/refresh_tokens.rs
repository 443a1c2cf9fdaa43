use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::models::RefreshTokenRow;
use super::schema::refresh_tokens as tokens;
use super::{AnyConnection, Db, DbError};

pub fn find(
    conn: &mut AnyConnection,
    token_sha256: &str,
) -> Result<Option<RefreshTokenRow>, DbError> {
    Ok(tokens::table
        .filter(tokens::token_sha256.eq(token_sha256))
        .select(RefreshTokenRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn insert(conn: &mut AnyConnection, row: &RefreshTokenRow) -> Result<(), DbError> {
    diesel::insert_into(tokens::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Spends a token: true only for the one caller that found it unused and unrevoked.
pub fn mark_used(
    conn: &mut AnyConnection,
    token_sha256: &str,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let updated = diesel::update(tokens::table)
        .filter(tokens::token_sha256.eq(token_sha256))
        .filter(tokens::used_at.is_null())
        .filter(tokens::revoked_at.is_null())
        .set(tokens::used_at.eq(Some(now)))
        .execute(conn)?;
    Ok(updated == 1)
}

pub fn revoke_family(
    conn: &mut AnyConnection,
    family_id: &str,
    now: NaiveDateTime,
) -> Result<usize, DbError> {
    Ok(diesel::update(tokens::table)
        .filter(tokens::family_id.eq(family_id))
        .filter(tokens::revoked_at.is_null())
        .set(tokens::revoked_at.eq(Some(now)))
        .execute(conn)?)
}

/// Spends `token_sha256` and stores its successor in one transaction; false (and nothing
/// stored) when the token was already spent or revoked.
pub fn rotate(
    conn: &mut AnyConnection,
    token_sha256: &str,
    successor: &RefreshTokenRow,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    super::transaction(conn, |conn| {
        if !mark_used(conn, token_sha256, now)? {
            return Ok(false);
        }
        insert(conn, successor)?;
        Ok(true)
    })
}

/// The `refresh_tokens` table, from async code. Tokens are known only by their SHA-256.
pub struct RefreshTokenRows<'a>(pub(super) &'a Db);

impl RefreshTokenRows<'_> {
    pub async fn find(&self, token_sha256: &str) -> Result<Option<RefreshTokenRow>, DbError> {
        let hash = token_sha256.to_owned();
        self.0.run(move |c| find(c, &hash)).await
    }

    pub async fn insert(&self, row: RefreshTokenRow) -> Result<(), DbError> {
        self.0.run(move |c| insert(c, &row)).await
    }

    pub async fn rotate(
        &self,
        token_sha256: &str,
        successor: RefreshTokenRow,
        now: NaiveDateTime,
    ) -> Result<bool, DbError> {
        let hash = token_sha256.to_owned();
        self.0.run(move |c| rotate(c, &hash, &successor, now)).await
    }

    pub async fn revoke_family(
        &self,
        family_id: &str,
        now: NaiveDateTime,
    ) -> Result<usize, DbError> {
        let family = family_id.to_owned();
        self.0.run(move |c| revoke_family(c, &family, now)).await
    }
}
