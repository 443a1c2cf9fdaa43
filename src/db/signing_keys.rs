//! The rows of the database key store (`keys.store = "database"`): one per key, the set's
//! version row, and the instance-wide secrets. What the rows mean (sealing, states, rules) is
//! `crate::signing::store`'s business; these are the queries.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{signing_key_set, signing_keys, stored_secrets};
use super::AnyConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = signing_keys, treat_none_as_null = true)]
pub struct KeyRow {
    pub kid: String,
    pub alg: String,
    pub state: String,
    pub created_at: NaiveDateTime,
    pub transitions: String,
    pub public_jwk: String,
    pub sealed_private: Option<Vec<u8>>,
}

/// Locks the key set until the transaction ends (the version row on Postgres, SQLite's write
/// lock), so two changes never interleave; returns the version.
pub fn lock(conn: &mut AnyConnection) -> QueryResult<i64> {
    match conn {
        AnyConnection::Postgresql(pg) => signing_key_set::table
            .find(1)
            .select(signing_key_set::version)
            .for_update()
            .first(pg),
        AnyConnection::Sqlite(_) => {
            diesel::update(signing_key_set::table.find(1))
                .set(signing_key_set::version.eq(signing_key_set::version))
                .execute(conn)?;
            version(conn)
        }
    }
}

/// The version of the key set: it changes with every change, so an instance reloads only then.
pub fn version(conn: &mut AnyConnection) -> QueryResult<i64> {
    signing_key_set::table
        .find(1)
        .select(signing_key_set::version)
        .first(conn)
}

pub fn bump_version(conn: &mut AnyConnection) -> QueryResult<()> {
    diesel::update(signing_key_set::table.find(1))
        .set(signing_key_set::version.eq(signing_key_set::version + 1))
        .execute(conn)?;
    Ok(())
}

/// Every key, oldest first.
pub fn all(conn: &mut AnyConnection) -> QueryResult<Vec<KeyRow>> {
    signing_keys::table
        .order((signing_keys::created_at.asc(), signing_keys::kid.asc()))
        .select(KeyRow::as_select())
        .load(conn)
}

pub fn insert(conn: &mut AnyConnection, row: &KeyRow) -> QueryResult<()> {
    diesel::insert_into(signing_keys::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn update(conn: &mut AnyConnection, row: &KeyRow) -> QueryResult<()> {
    diesel::update(signing_keys::table.find(&row.kid))
        .set(row)
        .execute(conn)?;
    Ok(())
}

/// A stored secret's sealed bytes, if it exists.
pub fn secret(conn: &mut AnyConnection, name: &str) -> QueryResult<Option<Vec<u8>>> {
    stored_secrets::table
        .find(name)
        .select(stored_secrets::sealed)
        .first(conn)
        .optional()
}

/// Stores a secret unless one of that name exists (instances starting together: the first
/// insert wins, the others read it).
pub fn insert_secret_if_absent(
    conn: &mut AnyConnection,
    name: &str,
    sealed: &[u8],
    now: NaiveDateTime,
) -> QueryResult<()> {
    let row = (
        stored_secrets::name.eq(name),
        stored_secrets::sealed.eq(sealed),
        stored_secrets::created_at.eq(now),
    );
    match conn {
        AnyConnection::Postgresql(pg) => diesel::insert_into(stored_secrets::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute(pg)?,
        AnyConnection::Sqlite(sqlite) => diesel::insert_or_ignore_into(stored_secrets::table)
            .values(row)
            .execute(sqlite)?,
    };
    Ok(())
}

/// Every secret's name and sealed bytes (`keys rekek`).
pub fn all_secrets(conn: &mut AnyConnection) -> QueryResult<Vec<(String, Vec<u8>)>> {
    stored_secrets::table
        .select((stored_secrets::name, stored_secrets::sealed))
        .load(conn)
}

pub fn update_secret(conn: &mut AnyConnection, name: &str, sealed: &[u8]) -> QueryResult<()> {
    diesel::update(stored_secrets::table.find(name))
        .set(stored_secrets::sealed.eq(sealed))
        .execute(conn)?;
    Ok(())
}
