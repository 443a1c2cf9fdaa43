//! One-time sign-up invitations (`invites`) and recovery links (`recovery_links`), both known
//! only by the SHA-256 of their token and spent by one conditional UPDATE, so of two
//! concurrent uses exactly one wins.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::models::{InviteRow, NewEvent, RecoveryLinkRow};
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

/// How spending a recovery link ended.
pub enum LinkUse {
    /// Spent now, by this caller: the user's id.
    Spent(String),
    /// Spent, expired or unknown (or spent by a concurrent use).
    Refused,
    /// A valid link of a disabled user (not spent).
    Disabled,
}

/// Invites and recovery links, from async code.
pub struct InviteRows<'a>(pub(super) &'a Db);

impl InviteRows<'_> {
    /// Spends a recovery link of an active user (of two concurrent uses one wins), with the
    /// event `event_for(user_id)` makes, in one transaction.
    pub async fn spend_link_of_active_user(
        &self,
        token_sha256: &str,
        now: NaiveDateTime,
        event_for: impl FnOnce(&str) -> NewEvent + Send + 'static,
    ) -> Result<LinkUse, DbError> {
        let hash = token_sha256.to_owned();
        self.0
            .run(move |c| {
                super::transaction(c, |c| {
                    let Some(user) = link_user(c, &hash, now)? else {
                        return Ok(LinkUse::Refused);
                    };
                    if !user.is_active() {
                        return Ok(LinkUse::Disabled);
                    }
                    let event = event_for(&user.id);
                    match spend_link(c, &hash, event.occurred_at)? {
                        Some(_) => {
                            super::events::record(c, &event)?;
                            Ok(LinkUse::Spent(user.id))
                        }
                        None => Ok(LinkUse::Refused),
                    }
                })
            })
            .await
    }

    /// Stores an invite with the event that records it, in one transaction.
    pub async fn issue(&self, row: InviteRow, event: NewEvent) -> Result<(), DbError> {
        self.0
            .run(move |c| {
                super::transaction(c, |c| {
                    insert(c, &row)?;
                    super::events::record(c, &event)
                })
            })
            .await
    }

    /// Stores a recovery link with the event that records it, in one transaction, voiding the
    /// person's older unused links; returns how many were voided.
    pub async fn issue_link(
        &self,
        row: RecoveryLinkRow,
        event: NewEvent,
    ) -> Result<usize, DbError> {
        self.0
            .run(move |c| {
                super::transaction(c, |c| {
                    let voided = insert_link(c, &row)?;
                    super::events::record(c, &event)?;
                    Ok(voided)
                })
            })
            .await
    }

    pub async fn usable(
        &self,
        token_sha256: &str,
        now: NaiveDateTime,
    ) -> Result<Option<InviteRow>, DbError> {
        let hash = token_sha256.to_owned();
        self.0.run(move |c| usable(c, &hash, now)).await
    }
}
