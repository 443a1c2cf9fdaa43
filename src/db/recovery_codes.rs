use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::models::{NewRecoveryCode, RecoveryCode};
use super::schema::recovery_codes as codes;
use super::{AnyConnection, DbError};

/// Replaces the user's codes with a new set, in one transaction: the old set is void at once.
pub fn replace(
    conn: &mut AnyConnection,
    user_id: &str,
    new: &[NewRecoveryCode],
) -> Result<(), DbError> {
    conn.transaction::<_, DbError, _>(|conn| {
        diesel::delete(codes::table.filter(codes::user_id.eq(user_id))).execute(conn)?;
        for code in new {
            diesel::insert_into(codes::table)
                .values(code)
                .execute(conn)?;
        }
        Ok(())
    })
}

pub fn unused(conn: &mut AnyConnection, user_id: &str) -> Result<Vec<RecoveryCode>, DbError> {
    Ok(codes::table
        .filter(codes::user_id.eq(user_id))
        .filter(codes::used_at.is_null())
        .select(RecoveryCode::as_select())
        .load(conn)?)
}

pub fn count_unused(conn: &mut AnyConnection, user_id: &str) -> Result<i64, DbError> {
    Ok(codes::table
        .filter(codes::user_id.eq(user_id))
        .filter(codes::used_at.is_null())
        .count()
        .get_result(conn)?)
}

/// Marks a code used, only if it still is unused: of two concurrent uses, one wins.
pub fn mark_used(conn: &mut AnyConnection, id: &str, now: NaiveDateTime) -> Result<bool, DbError> {
    let updated = diesel::update(codes::table)
        .filter(codes::id.eq(id))
        .filter(codes::used_at.is_null())
        .set(codes::used_at.eq(Some(now)))
        .execute(conn)?;
    Ok(updated == 1)
}
