//! Registered clients (`oauth_clients`). Every change writes its event in the same transaction.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::models::{ClientRow, NewEvent};
use super::schema::oauth_clients as clients;
use super::{events, AnyConnection, Db, DbError};

pub fn find(conn: &mut AnyConnection, client_id: &str) -> Result<Option<ClientRow>, DbError> {
    Ok(clients::table
        .filter(clients::client_id.eq(client_id))
        .select(ClientRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn all(conn: &mut AnyConnection) -> Result<Vec<ClientRow>, DbError> {
    Ok(clients::table
        .order(clients::client_id.asc())
        .select(ClientRow::as_select())
        .load(conn)?)
}

/// Stores a new client and its event; false when the id is taken.
pub fn insert(
    conn: &mut AnyConnection,
    row: &ClientRow,
    event: &NewEvent,
) -> Result<bool, DbError> {
    super::transaction(conn, |conn| {
        if find(conn, &row.client_id)?.is_some() {
            return Ok(false);
        }
        diesel::insert_into(clients::table)
            .values(row)
            .execute(conn)?;
        events::record(conn, event)?;
        Ok(true)
    })
}

/// Replaces what an operator may change of a client (its description, secrets and
/// `updated_at`), and stores the event; false when there is no such client.
pub fn update(
    conn: &mut AnyConnection,
    row: &ClientRow,
    event: &NewEvent,
) -> Result<bool, DbError> {
    super::transaction(conn, |conn| {
        let changed = diesel::update(clients::table.filter(clients::client_id.eq(&row.client_id)))
            .set((
                clients::name.eq(&row.name),
                clients::secret_sha256.eq(&row.secret_sha256),
                clients::redirect_uris.eq(&row.redirect_uris),
                clients::post_logout_redirect_uris.eq(&row.post_logout_redirect_uris),
                clients::scopes.eq(&row.scopes),
                clients::id_token_alg.eq(&row.id_token_alg),
                clients::audiences.eq(&row.audiences),
                clients::allowed_groups.eq(&row.allowed_groups),
                clients::updated_at.eq(row.updated_at),
                clients::previous_secret_sha256.eq(&row.previous_secret_sha256),
                clients::previous_secret_expires_at.eq(row.previous_secret_expires_at),
            ))
            .execute(conn)?
            == 1;
        if changed {
            events::record(conn, event)?;
        }
        Ok(changed)
    })
}

/// Removes a client, revokes its refresh tokens and stores the event, in one transaction: a
/// client added again under the same id starts with nothing of the old one's.
pub fn remove(
    conn: &mut AnyConnection,
    client_id: &str,
    now: NaiveDateTime,
    event: &NewEvent,
) -> Result<bool, DbError> {
    use super::schema::refresh_tokens;
    super::transaction(conn, |conn| {
        let removed = diesel::delete(clients::table.filter(clients::client_id.eq(client_id)))
            .execute(conn)?
            == 1;
        if removed {
            diesel::update(
                refresh_tokens::table
                    .filter(refresh_tokens::client_id.eq(client_id))
                    .filter(refresh_tokens::revoked_at.is_null()),
            )
            .set(refresh_tokens::revoked_at.eq(Some(now)))
            .execute(conn)?;
            events::record(conn, event)?;
        }
        Ok(removed)
    })
}

/// The `oauth_clients` table, from async code.
pub struct ClientRows<'a>(pub(super) &'a Db);

impl ClientRows<'_> {
    pub async fn find(&self, client_id: &str) -> Result<Option<ClientRow>, DbError> {
        let id = client_id.to_owned();
        self.0.run(move |c| find(c, &id)).await
    }

    pub async fn all(&self) -> Result<Vec<ClientRow>, DbError> {
        self.0.run(all).await
    }

    /// Inserts a new client with its event; false when the id is taken.
    pub async fn insert_new(&self, row: ClientRow, event: NewEvent) -> Result<bool, DbError> {
        let inserted = self.0.run(move |c| insert(c, &row, &event)).await;
        match inserted {
            Err(e) if e.is_unique_violation() => Ok(false),
            other => other,
        }
    }

    /// Writes a changed client with its event; false when it is gone.
    pub async fn update(&self, row: ClientRow, event: NewEvent) -> Result<bool, DbError> {
        self.0.run(move |c| update(c, &row, &event)).await
    }

    pub async fn remove(
        &self,
        client_id: &str,
        now: NaiveDateTime,
        event: NewEvent,
    ) -> Result<bool, DbError> {
        let id = client_id.to_owned();
        self.0.run(move |c| remove(c, &id, now, &event)).await
    }
}
