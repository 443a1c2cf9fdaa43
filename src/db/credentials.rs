use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::models::{NewCredential, NewEvent, SessionRow, StoredCredential};
use super::schema::webauthn_credentials as creds;
use super::{events, AnyConnection, Db, DbError};

pub fn find(
    conn: &mut AnyConnection,
    credential_id: &str,
) -> Result<Option<StoredCredential>, DbError> {
    Ok(creds::table
        .filter(creds::credential_id.eq(credential_id))
        .select(StoredCredential::as_select())
        .first(conn)
        .optional()?)
}

pub fn for_user(conn: &mut AnyConnection, user_id: &str) -> Result<Vec<StoredCredential>, DbError> {
    Ok(creds::table
        .filter(creds::user_id.eq(user_id))
        .order(creds::created_at.asc())
        .select(StoredCredential::as_select())
        .load(conn)?)
}

pub fn insert(conn: &mut AnyConnection, credential: &NewCredential) -> Result<(), DbError> {
    diesel::insert_into(creds::table)
        .values(credential)
        .execute(conn)?;
    Ok(())
}

/// Records a sign-in in one conditional UPDATE, so the counter check and the write cannot be
/// separated: it succeeds only when the new count is above the stored one, or when both are
/// zero (authenticators without a counter, such as synced passkeys). Returns false when the
/// row was not updated, which the caller treats as a counter regression.
pub fn record_use(
    conn: &mut AnyConnection,
    credential_id: &str,
    new_count: u32,
    backup_eligible: bool,
    backup_state: bool,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let new_count = i64::from(new_count);
    let row = diesel::update(creds::table).filter(creds::credential_id.eq(credential_id));
    let changes = (
        creds::sign_count.eq(new_count),
        creds::backup_eligible.eq(backup_eligible),
        creds::backup_state.eq(backup_state),
        creds::last_used_at.eq(Some(now)),
    );
    let updated = if new_count == 0 {
        row.filter(creds::sign_count.eq(0))
            .set(changes)
            .execute(conn)?
    } else {
        row.filter(creds::sign_count.lt(new_count))
            .set(changes)
            .execute(conn)?
    };
    Ok(updated == 1)
}

/// A sign-in: the credential's use (see [`record_use`]), the user's last sign-in, the event
/// and the new session's record, all or nothing. False (and nothing written) on a counter
/// regression. On Postgres this is one statement (one round trip, atomic by itself); on
/// SQLite, in-process, a transaction.
pub fn record_sign_in(
    conn: &mut AnyConnection,
    credential_id: &str,
    use_: &CredentialUse,
    event: &NewEvent,
    session: Option<&SessionRow>,
) -> Result<bool, DbError> {
    match (conn, session) {
        (AnyConnection::Postgresql(pg), Some(session)) => {
            super::sign_in::record_in_one_statement(pg, credential_id, use_, event, session)
        }
        (conn, session) => record_sign_in_transaction(conn, credential_id, use_, event, session),
    }
}

fn record_sign_in_transaction(
    conn: &mut AnyConnection,
    credential_id: &str,
    use_: &CredentialUse,
    event: &NewEvent,
    session: Option<&SessionRow>,
) -> Result<bool, DbError> {
    use super::schema::users;
    let now = event.occurred_at;
    super::transaction(conn, |conn| {
        if !record_use(
            conn,
            credential_id,
            use_.counter,
            use_.backup_eligible,
            use_.backup_state,
            now,
        )? {
            return Ok(false);
        }
        if let Some(user_id) = &event.user_id {
            diesel::update(users::table.filter(users::id.eq(user_id)))
                .set(users::last_sign_in_at.eq(Some(now)))
                .execute(conn)?;
        }
        events::record(conn, event)?;
        if let Some(row) = session {
            super::sessions::insert(conn, row)?;
        }
        Ok(true)
    })
}

/// What an assertion says about its credential.
#[derive(Debug, Clone, Copy)]
pub struct CredentialUse {
    pub counter: u32,
    pub backup_eligible: bool,
    pub backup_state: bool,
}

/// Marks a credential as possibly cloned, for the operator and the account page, with the
/// event that says so.
pub fn flag_clone(
    conn: &mut AnyConnection,
    credential_id: &str,
    event: &NewEvent,
) -> Result<(), DbError> {
    super::transaction(conn, |conn| {
        diesel::update(creds::table)
            .filter(creds::credential_id.eq(credential_id))
            .set(creds::clone_suspected.eq(true))
            .execute(conn)?;
        events::record(conn, event)
    })
}

pub fn rename(
    conn: &mut AnyConnection,
    user_id: &str,
    credential_id: &str,
    name: &str,
    event: &NewEvent,
) -> Result<bool, DbError> {
    super::transaction(conn, |conn| {
        let updated = diesel::update(creds::table)
            .filter(creds::credential_id.eq(credential_id))
            .filter(creds::user_id.eq(user_id))
            .set(creds::name.eq(name))
            .execute(conn)?;
        if updated == 1 {
            events::record(conn, event)?;
        }
        Ok(updated == 1)
    })
}

pub enum Deleted {
    Yes,
    NotFound,
    LastCredential,
}

/// Deletes one of the user's credentials unless it is their last. The user's row is written
/// first, which serialises concurrent deletes for one user on both backends (a row lock in
/// Postgres, the write lock in SQLite), so two deletes cannot together remove every passkey.
pub fn delete_unless_last(
    conn: &mut AnyConnection,
    user_id: &str,
    credential_id: &str,
    keep_session: &str,
    event: &NewEvent,
) -> Result<Deleted, DbError> {
    use super::schema::users;
    super::transaction(conn, |conn| {
        diesel::update(users::table.filter(users::id.eq(user_id)))
            .set(users::id.eq(user_id))
            .execute(conn)?;
        let owned: i64 = creds::table
            .filter(creds::user_id.eq(user_id))
            .count()
            .get_result(conn)?;
        let exists = creds::table
            .filter(creds::user_id.eq(user_id))
            .filter(creds::credential_id.eq(credential_id))
            .count()
            .get_result::<i64>(conn)?
            > 0;
        if !exists {
            return Ok(Deleted::NotFound);
        }
        if owned <= 1 {
            return Ok(Deleted::LastCredential);
        }
        diesel::delete(
            creds::table
                .filter(creds::user_id.eq(user_id))
                .filter(creds::credential_id.eq(credential_id)),
        )
        .execute(conn)?;
        super::sessions::end_for_credential(
            conn,
            user_id,
            credential_id,
            Some(keep_session),
            event.occurred_at,
        )?;
        events::record(conn, event)?;
        Ok(Deleted::Yes)
    })
}

/// The `webauthn_credentials` table, from async code.
pub struct CredentialRows<'a>(pub(super) &'a Db);

impl CredentialRows<'_> {
    pub async fn for_user(&self, user_id: &str) -> Result<Vec<StoredCredential>, DbError> {
        let id = user_id.to_owned();
        self.0.run(move |c| for_user(c, &id)).await
    }

    /// Adds a credential to an existing user, with its event; false when the credential is
    /// already registered.
    pub async fn add(&self, credential: NewCredential, event: NewEvent) -> Result<bool, DbError> {
        let added = self
            .0
            .run(move |c| {
                super::transaction(c, |c| {
                    if find(c, &credential.credential_id)?.is_some() {
                        return Ok(false);
                    }
                    insert(c, &credential)?;
                    events::record(c, &event)?;
                    Ok(true)
                })
            })
            .await;
        match added {
            Err(e) if e.is_unique_violation() => Ok(false),
            other => other,
        }
    }

    /// See [`record_sign_in`].
    pub async fn record_sign_in(
        &self,
        credential_id: &str,
        use_: CredentialUse,
        event: NewEvent,
        session: Option<SessionRow>,
    ) -> Result<bool, DbError> {
        let id = credential_id.to_owned();
        self.0
            .run(move |c| record_sign_in(c, &id, &use_, &event, session.as_ref()))
            .await
    }

    pub async fn flag_clone(&self, credential_id: &str, event: NewEvent) -> Result<(), DbError> {
        let id = credential_id.to_owned();
        self.0.run(move |c| flag_clone(c, &id, &event)).await
    }

    pub async fn rename(
        &self,
        user_id: &str,
        credential_id: &str,
        name: &str,
        event: NewEvent,
    ) -> Result<bool, DbError> {
        let (user, id, name) = (
            user_id.to_owned(),
            credential_id.to_owned(),
            name.to_owned(),
        );
        self.0
            .run(move |c| rename(c, &user, &id, &name, &event))
            .await
    }

    pub async fn delete_unless_last(
        &self,
        user_id: &str,
        credential_id: &str,
        keep_session: &str,
        event: NewEvent,
    ) -> Result<Deleted, DbError> {
        let (user, id, keep) = (
            user_id.to_owned(),
            credential_id.to_owned(),
            keep_session.to_owned(),
        );
        self.0
            .run(move |c| delete_unless_last(c, &user, &id, &keep, &event))
            .await
    }
}
