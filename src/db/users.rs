use diesel::prelude::*;

use super::models::{NewUser, User};
use super::schema::users;
use super::{AnyConnection, Db, DbError};

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

/// The `users` table, from async code.
pub struct UserRows<'a>(pub(super) &'a Db);

impl UserRows<'_> {
    pub async fn find_by_username(&self, username: &str) -> Result<Option<User>, DbError> {
        let username = username.to_owned();
        self.0.run(move |c| find_by_username(c, &username)).await
    }

    pub async fn find_by_id(&self, id: &str) -> Result<Option<User>, DbError> {
        let id = id.to_owned();
        self.0.run(move |c| find_by_id(c, &id)).await
    }

    pub async fn username_exists(&self, username: &str) -> Result<bool, DbError> {
        let username = username.to_owned();
        self.0.run(move |c| username_exists(c, &username)).await
    }

    /// The user with their group names (when `with_groups`), in one trip to the database.
    pub async fn find_with_groups(
        &self,
        id: &str,
        with_groups: bool,
    ) -> Result<Option<(User, Option<Vec<String>>)>, DbError> {
        let id = id.to_owned();
        self.0
            .run(move |c| {
                let Some(user) = find_by_id(c, &id)? else {
                    return Ok(None);
                };
                let groups = match with_groups {
                    true => Some(super::groups::of_user(c, &id)?),
                    false => None,
                };
                Ok(Some((user, groups)))
            })
            .await
    }
}
