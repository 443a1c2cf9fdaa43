use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::models::RefreshTokenRow;
use super::schema::refresh_tokens as tokens;
use super::{AnyConnection, DbError};

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
