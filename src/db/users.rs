use diesel::prelude::*;

use super::models::{NewCredential, NewUser, User};
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

/// How creating an account ended: one transaction checks and writes both rows.
#[derive(Debug, PartialEq, Eq)]
pub enum Created {
    Yes,
    UsernameTaken,
    CredentialExists,
}

/// Writes a new user with their first credential, or neither.
pub fn create_with_credential(
    conn: &mut AnyConnection,
    user: &NewUser,
    credential: &NewCredential,
) -> Result<Created, DbError> {
    conn.transaction::<_, DbError, _>(|conn| {
        if username_exists(conn, &user.username)? {
            return Ok(Created::UsernameTaken);
        }
        if super::credentials::find(conn, &credential.credential_id)?.is_some() {
            return Ok(Created::CredentialExists);
        }
        insert(conn, user)?;
        super::credentials::insert(conn, credential)?;
        Ok(Created::Yes)
    })
}

/// The `users` table, from async code.
pub struct Users<'a>(pub(super) &'a Db);

impl Users<'_> {
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

    /// Creates the account; of two racing sign-ups for one name, the loser hits the unique
    /// index and is told the name is taken.
    pub async fn create_with_credential(
        &self,
        user: NewUser,
        credential: NewCredential,
    ) -> Result<Created, DbError> {
        match self
            .0
            .run(move |c| create_with_credential(c, &user, &credential))
            .await
        {
            Err(e) if e.is_unique_violation() => Ok(Created::UsernameTaken),
            other => other,
        }
    }
}
