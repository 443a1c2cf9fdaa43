//! One-time sign-up invitations (`invites`) and recovery links (`recovery_links`), both known
//! only by the SHA-256 of their token and spent by one conditional UPDATE, so of two
//! concurrent uses exactly one wins.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::models::{InviteRow, RecoveryLinkRow};
use super::schema::{invites, recovery_links as links};
use super::{AnyConnection, Db, DbError};

pub fn insert(conn: &mut AnyConnection, row: &InviteRow) -> Result<(), DbError> {
    diesel::insert_into(invites::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// The invite, while it is unused and unexpired.
pub fn usable(
    conn: &mut AnyConnection,
    token_sha256: &str,
    now: NaiveDateTime,
) -> Result<Option<InviteRow>, DbError> {
    Ok(invites::table
        .filter(invites::token_sha256.eq(token_sha256))
        .filter(invites::used_at.is_null())
        .filter(invites::expires_at.gt(now))
        .select(InviteRow::as_select())
        .first(conn)
        .optional()?)
}

/// Spends the invite; its row when this caller won it, `None` when it was spent, expired or
/// unknown.
pub fn spend(
    conn: &mut AnyConnection,
    token_sha256: &str,
    now: NaiveDateTime,
) -> Result<Option<InviteRow>, DbError> {
    let updated = diesel::update(invites::table)
        .filter(invites::token_sha256.eq(token_sha256))
        .filter(invites::used_at.is_null())
        .filter(invites::expires_at.gt(now))
        .set(invites::used_at.eq(Some(now)))
        .execute(conn)?;
    if updated != 1 {
        return Ok(None);
    }
    Ok(invites::table
        .filter(invites::token_sha256.eq(token_sha256))
        .select(InviteRow::as_select())
        .first(conn)
        .optional()?)
}

/// Stores a new recovery link and voids the user's older ones that were still unused: only the
/// newest link works. Returns how many were voided.
pub fn insert_link(conn: &mut AnyConnection, row: &RecoveryLinkRow) -> Result<usize, DbError> {
    let voided = diesel::delete(
        links::table
            .filter(links::user_id.eq(&row.user_id))
            .filter(links::used_at.is_null()),
    )
    .execute(conn)?;
    diesel::insert_into(links::table)
        .values(row)
        .execute(conn)?;
    Ok(voided)
}

/// The user of a recovery link that is still unused and unexpired.
pub fn link_user(
    conn: &mut AnyConnection,
    token_sha256: &str,
    now: NaiveDateTime,
) -> Result<Option<super::models::User>, DbError> {
    use super::schema::users;
    Ok(links::table
        .inner_join(users::table)
        .filter(links::token_sha256.eq(token_sha256))
        .filter(links::used_at.is_null())
        .filter(links::expires_at.gt(now))
        .select(super::models::User::as_select())
        .first(conn)
        .optional()?)
}

/// Spends a recovery link; the user it was issued for when this caller won it.
pub fn spend_link(
    conn: &mut AnyConnection,
    token_sha256: &str,
    now: NaiveDateTime,
) -> Result<Option<String>, DbError> {
    let updated = diesel::update(links::table)
        .filter(links::token_sha256.eq(token_sha256))
        .filter(links::used_at.is_null())
        .filter(links::expires_at.gt(now))
        .set(links::used_at.eq(Some(now)))
        .execute(conn)?;
    if updated != 1 {
        return Ok(None);
    }
    Ok(links::table
        .filter(links::token_sha256.eq(token_sha256))
        .select(links::user_id)
        .first(conn)
        .optional()?)
}

/// Expired invites and links (used ones too, once expired).
pub fn delete_expired(conn: &mut AnyConnection, now: NaiveDateTime) -> Result<usize, DbError> {
    Ok(
        diesel::delete(invites::table.filter(invites::expires_at.le(now))).execute(conn)?
            + diesel::delete(links::table.filter(links::expires_at.le(now))).execute(conn)?,
    )
}

/// Invites and recovery links, from async code.
pub struct Invites<'a>(pub(super) &'a Db);

impl Invites<'_> {
    pub async fn usable(
        &self,
        token_sha256: &str,
        now: NaiveDateTime,
    ) -> Result<Option<InviteRow>, DbError> {
        let hash = token_sha256.to_owned();
        self.0.run(move |c| usable(c, &hash, now)).await
    }
}
