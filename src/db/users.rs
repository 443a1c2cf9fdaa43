use diesel::prelude::*;

use super::models::{NewUser, User};
use super::schema::users;
use super::{AnyConnection, DbError};

pub fn find_by_username(conn: &mut AnyConnection, username: &str) -> Result<Option<User>, DbError> {
    Ok(users::table
        .filter(users::username.eq(username))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_by_id(conn: &mut AnyConnection, id: &str) -> Result<Option<User>, DbError> {
    Ok(users::table
        .filter(users::id.eq(id))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

pub fn username_exists(conn: &mut AnyConnection, username: &str) -> Result<bool, DbError> {
    Ok(find_by_username(conn, username)?.is_some())
}

pub fn insert(conn: &mut AnyConnection, user: &NewUser) -> Result<(), DbError> {
    diesel::insert_into(users::table)
        .values(user)
        .execute(conn)?;
    Ok(())
}
