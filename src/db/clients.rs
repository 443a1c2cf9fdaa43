use diesel::prelude::*;

use super::models::ClientRow;
use super::schema::oauth_clients as clients;
use super::{AnyConnection, DbError};

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

pub fn remove(conn: &mut AnyConnection, client_id: &str) -> Result<bool, DbError> {
    Ok(diesel::delete(clients::table.filter(clients::client_id.eq(client_id))).execute(conn)? == 1)
}
