use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::models::{NewEvent, NewRecoveryCode, RecoveryCode};
use super::schema::recovery_codes as codes;
use super::{events, AnyConnection, Db, DbError};

/// Replaces the user's codes with a new set, in one transaction: the old set is void at once.
pub fn replace(
    conn: &mut AnyConnection,
    user_id: &str,
    new: &[NewRecoveryCode],
) -> Result<(), DbError> {
    super::transaction(conn, |conn| {
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

/// What a recovery attempt checks: the code found by its lookup, or the older codes.
pub struct Candidates {
    pub user_id: String,
    /// The user is not disabled.
    pub active: bool,
    pub matched: Option<RecoveryCode>,
    pub legacy: Vec<RecoveryCode>,
}

/// The `recovery_codes` table, from async code.
pub struct RecoveryCodeRows<'a>(pub(super) &'a Db);

impl RecoveryCodeRows<'_> {
    pub async fn replace(&self, user_id: &str, new: Vec<NewRecoveryCode>) -> Result<(), DbError> {
        let id = user_id.to_owned();
        self.0.run(move |c| replace(c, &id, &new)).await
    }

    /// For a recovery attempt: the named user's id, their unused code whose lookup is
    /// `lookup` (if any), and their unused codes from before lookups existed. The same two
    /// queries run for an unknown username.
    pub async fn for_recovery(
        &self,
        username: &str,
        lookup: &str,
    ) -> Result<Option<Candidates>, DbError> {
        let (name, lookup) = (username.to_owned(), lookup.to_owned());
        self.0
            .run(move |c| {
                let user = super::users::find_by_username(c, &name)?;
                let uid = user.as_ref().map(|u| u.id.clone()).unwrap_or_default();
                let unused = unused(c, &uid)?;
                let (matched, legacy): (Vec<_>, Vec<_>) = unused
                    .into_iter()
                    .filter(|r| r.lookup.as_deref().is_none_or(|l| l == lookup))
                    .partition(|r| r.lookup.is_some());
                Ok(user.map(|u| Candidates {
                    active: u.is_active(),
                    user_id: u.id,
                    matched: matched.into_iter().next(),
                    legacy,
                }))
            })
            .await
    }

    pub async fn count_unused(&self, user_id: &str) -> Result<i64, DbError> {
        let id = user_id.to_owned();
        self.0.run(move |c| count_unused(c, &id)).await
    }

    /// Spends the code, with its event, unless it was spent already.
    pub async fn spend(&self, code_id: &str, event: NewEvent) -> Result<bool, DbError> {
        let id = code_id.to_owned();
        self.0
            .run(move |c| {
                super::transaction(c, |c| {
                    if !mark_used(c, &id, event.occurred_at)? {
                        return Ok(false);
                    }
                    events::record(c, &event)?;
                    Ok(true)
                })
            })
            .await
    }
}
