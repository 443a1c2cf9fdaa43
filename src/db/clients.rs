use diesel::prelude::*;

use super::models::ClientRow;
use super::schema::oauth_clients as clients;
use super::{AnyConnection, Db, DbError};

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

pub fn insert(conn: &mut AnyConnection, row: &ClientRow) -> Result<(), DbError> {
    diesel::insert_into(clients::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Removes a client and revokes its refresh tokens in one transaction: a client added again
/// under the same id starts with nothing of the old one's.
pub fn remove(conn: &mut AnyConnection, client_id: &str) -> Result<bool, DbError> {
    use super::schema::refresh_tokens;
    let now = chrono::Utc::now().naive_utc();
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

    /// Inserts a new client; false when the id is taken.
    pub async fn insert_new(&self, row: ClientRow) -> Result<bool, DbError> {
        let inserted = self
            .0
            .run(move |c| {
                if find(c, &row.client_id)?.is_some() {
                    return Ok(false);
                }
                insert(c, &row)?;
                Ok(true)
            })
            .await;
        match inserted {
            Err(e) if e.is_unique_violation() => Ok(false),
            other => other,
        }
    }

    pub async fn remove(&self, client_id: &str) -> Result<bool, DbError> {
        let id = client_id.to_owned();
        self.0.run(move |c| remove(c, &id)).await
    }
}
