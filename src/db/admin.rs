//! What operators and the person do to a whole account, each in one transaction with the
//! event that records it: disable, enable, delete, and support actions on one passkey.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::models::{NewEvent, User};
use super::schema::{
    group_members, recovery_codes, recovery_links, refresh_tokens, user_sessions, users,
    webauthn_credentials as creds,
};
use super::{events, sessions, users as user_rows, AnyConnection, Db, DbError};

/// A user named by username, or else by id.
pub fn find_user(conn: &mut AnyConnection, name_or_id: &str) -> Result<Option<User>, DbError> {
    match user_rows::find_by_username(conn, name_or_id)? {
        Some(user) => Ok(Some(user)),
        None => user_rows::find_by_id(conn, name_or_id),
    }
}

/// Every user with their number of passkeys, by username.
pub fn list_users(conn: &mut AnyConnection) -> Result<Vec<(User, i64)>, DbError> {
    let all: Vec<User> = users::table
        .order(users::username.asc())
        .select(User::as_select())
        .load(conn)?;
    let counts: Vec<(String, i64)> = creds::table
        .group_by(creds::user_id)
        .select((creds::user_id, diesel::dsl::count_star()))
        .load(conn)?;
    let counts: std::collections::HashMap<String, i64> = counts.into_iter().collect();
    Ok(all
        .into_iter()
        .map(|u| {
            let n = counts.get(&u.id).copied().unwrap_or(0);
            (u, n)
        })
        .collect())
}

/// Ends every session and refresh-token family of the user (disable and `users sessions-end`
/// do); returns how many of the sessions were still live.
fn end_access(
    conn: &mut AnyConnection,
    user_id: &str,
    now: NaiveDateTime,
) -> Result<usize, DbError> {
    let ended = sessions::delete_for_user(conn, user_id, None)?;
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(Some(now)))
    .execute(conn)?;
    Ok(ended)
}

/// Ends every session and refresh-token family of the user and records `event`, in one
/// transaction; how many sessions ended.
pub fn end_sessions(
    conn: &mut AnyConnection,
    user_id: &str,
    event: &NewEvent,
) -> Result<usize, DbError> {
    super::transaction(conn, |conn| {
        let ended = end_access(conn, user_id, event.occurred_at)?;
        events::record(conn, event)?;
        Ok(ended)
    })
}

/// Sets (or with `None` clears) the user's email and records `event`; false when there is no
/// such user.
pub fn set_email(
    conn: &mut AnyConnection,
    user_id: &str,
    email: Option<&str>,
    event: &NewEvent,
) -> Result<bool, DbError> {
    super::transaction(conn, |conn| {
        let changed = diesel::update(users::table.filter(users::id.eq(user_id)))
            .set(users::email.eq(email))
            .execute(conn)?
            == 1;
        if changed {
            events::record(conn, event)?;
        }
        Ok(changed)
    })
}

/// Disables the user: their sessions and refresh tokens end in the same transaction. False
/// when they were disabled already (their access is ended again all the same).
pub fn disable(conn: &mut AnyConnection, user_id: &str, event: &NewEvent) -> Result<bool, DbError> {
    let now = event.occurred_at;
    super::transaction(conn, |conn| {
        let changed = diesel::update(
            users::table
                .filter(users::id.eq(user_id))
                .filter(users::disabled_at.is_null()),
        )
        .set((
            users::disabled_at.eq(Some(now)),
            users::access_revoked_at.eq(Some(now)),
        ))
        .execute(conn)?
            == 1;
        end_access(conn, user_id, now)?;
        if changed {
            events::record(conn, event)?;
        }
        Ok(changed)
    })
}

/// Enables the user; false when they were active. Ended sessions stay ended, and access tokens
/// issued before the disable stay refused (`access_revoked_at` is kept).
pub fn enable(conn: &mut AnyConnection, user_id: &str, event: &NewEvent) -> Result<bool, DbError> {
    super::transaction(conn, |conn| {
        let changed = diesel::update(
            users::table
                .filter(users::id.eq(user_id))
                .filter(users::disabled_at.is_not_null()),
        )
        .set(users::disabled_at.eq(None::<NaiveDateTime>))
        .execute(conn)?
            == 1;
        if changed {
            events::record(conn, event)?;
        }
        Ok(changed)
    })
}

/// Erases the user and everything that hangs off them; the event (which keeps the user id)
/// is written in the same transaction. False when there was no such user.
pub fn delete_user(
    conn: &mut AnyConnection,
    user_id: &str,
    event: &NewEvent,
) -> Result<bool, DbError> {
    super::transaction(conn, |conn| {
        diesel::delete(group_members::table.filter(group_members::user_id.eq(user_id)))
            .execute(conn)?;
        diesel::delete(user_sessions::table.filter(user_sessions::user_id.eq(user_id)))
            .execute(conn)?;
        diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id)))
            .execute(conn)?;
        diesel::delete(recovery_links::table.filter(recovery_links::user_id.eq(user_id)))
            .execute(conn)?;
        diesel::delete(refresh_tokens::table.filter(refresh_tokens::user_id.eq(user_id)))
            .execute(conn)?;
        diesel::delete(creds::table.filter(creds::user_id.eq(user_id))).execute(conn)?;
        let deleted = diesel::delete(users::table.filter(users::id.eq(user_id))).execute(conn)?;
        if deleted == 1 {
            events::record(conn, event)?;
        }
        Ok(deleted == 1)
    })
}

/// An operator removes one of the user's passkeys (even the last: a recovery link is then the
/// way back in), and with it the sessions it started and their refresh tokens. False when it is
/// not theirs.
pub fn remove_passkey(
    conn: &mut AnyConnection,
    user_id: &str,
    credential_id: &str,
    event: &NewEvent,
) -> Result<bool, DbError> {
    super::transaction(conn, |conn| {
        let removed = diesel::delete(
            creds::table
                .filter(creds::user_id.eq(user_id))
                .filter(creds::credential_id.eq(credential_id)),
        )
        .execute(conn)?
            == 1;
        if removed {
            sessions::end_for_credential(conn, user_id, credential_id, None, event.occurred_at)?;
            events::record(conn, event)?;
        }
        Ok(removed)
    })
}

/// Clears the "possibly cloned" flag of one of the user's passkeys and writes the event, in one
/// transaction. `None` when it is not theirs; `Some(false)` (and no event) when it was not
/// flagged.
pub fn unflag_passkey(
    conn: &mut AnyConnection,
    user_id: &str,
    credential_id: &str,
    event: &NewEvent,
) -> Result<Option<bool>, DbError> {
    super::transaction(conn, |conn| {
        let flagged: Option<bool> = creds::table
            .filter(creds::user_id.eq(user_id))
            .filter(creds::credential_id.eq(credential_id))
            .select(creds::clone_suspected)
            .first(conn)
            .optional()?;
        if flagged != Some(true) {
            return Ok(flagged.map(|_| false));
        }
        diesel::update(
            creds::table
                .filter(creds::user_id.eq(user_id))
                .filter(creds::credential_id.eq(credential_id)),
        )
        .set(creds::clone_suspected.eq(false))
        .execute(conn)?;
        events::record(conn, event)?;
        Ok(Some(true))
    })
}

/// Account-wide changes, from async code.
pub struct AdminRows<'a>(pub(super) &'a Db);

impl AdminRows<'_> {
    /// A user named by username, or else by id.
    pub async fn find_user(&self, name_or_id: &str) -> Result<Option<User>, DbError> {
        let key = name_or_id.to_owned();
        self.0.run(move |c| find_user(c, &key)).await
    }

    /// Every user with their number of passkeys, by username.
    pub async fn list_users(&self) -> Result<Vec<(User, i64)>, DbError> {
        self.0.run(list_users).await
    }

    /// See [`disable`].
    pub async fn disable(&self, user_id: &str, event: NewEvent) -> Result<bool, DbError> {
        let id = user_id.to_owned();
        self.0.run(move |c| disable(c, &id, &event)).await
    }

    /// See [`enable`].
    pub async fn enable(&self, user_id: &str, event: NewEvent) -> Result<bool, DbError> {
        let id = user_id.to_owned();
        self.0.run(move |c| enable(c, &id, &event)).await
    }

    /// Erases the user (an operator, or the person deleting their own account).
    pub async fn delete_user(&self, user_id: &str, event: NewEvent) -> Result<bool, DbError> {
        let id = user_id.to_owned();
        self.0.run(move |c| delete_user(c, &id, &event)).await
    }

    /// See [`remove_passkey`].
    pub async fn remove_passkey(
        &self,
        user_id: &str,
        credential_id: &str,
        event: NewEvent,
    ) -> Result<bool, DbError> {
        let (id, cred) = (user_id.to_owned(), credential_id.to_owned());
        self.0
            .run(move |c| remove_passkey(c, &id, &cred, &event))
            .await
    }

    /// See [`end_sessions`].
    pub async fn end_sessions(&self, user_id: &str, event: NewEvent) -> Result<usize, DbError> {
        let id = user_id.to_owned();
        self.0.run(move |c| end_sessions(c, &id, &event)).await
    }

    /// See [`set_email`].
    pub async fn set_email(
        &self,
        user_id: &str,
        email: Option<String>,
        event: NewEvent,
    ) -> Result<bool, DbError> {
        let id = user_id.to_owned();
        self.0
            .run(move |c| set_email(c, &id, email.as_deref(), &event))
            .await
    }

    /// See [`unflag_passkey`].
    pub async fn unflag_passkey(
        &self,
        user_id: &str,
        credential_id: &str,
        event: NewEvent,
    ) -> Result<Option<bool>, DbError> {
        let (id, cred) = (user_id.to_owned(), credential_id.to_owned());
        self.0
            .run(move |c| unflag_passkey(c, &id, &cred, &event))
            .await
    }
}
