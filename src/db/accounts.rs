//! Queries that span a user and their credentials: creating an account with its first
//! passkey, and the lookups of the two ceremonies.

use diesel::prelude::*;

use super::models::{NewCredential, NewEvent, NewUser, StoredCredential, User};
use super::schema::{users as user_rows, webauthn_credentials as creds};
use super::{credentials, events, groups, invites, users, AnyConnection, Db, DbError};

/// A credential and the user it belongs to.
pub type Owned = (StoredCredential, User);

/// A new account: the user, their first passkey, the invite it spends (by the SHA-256 of its
/// token) and the events that record it.
pub struct Signup {
    pub user: NewUser,
    pub credential: NewCredential,
    pub invite_sha256: Option<String>,
    pub events: Vec<NewEvent>,
}

/// How creating an account ended: one transaction checks and writes everything.
#[derive(Debug, PartialEq, Eq)]
pub enum Created {
    Yes,
    UsernameTaken,
    CredentialExists,
    /// The invite was spent (by a concurrent sign-up), expired or removed meanwhile.
    InviteGone,
}

/// Writes a new user with their first credential, spends their invite and puts them in its
/// groups (those that still exist), or does none of it.
pub fn create_with_credential(
    conn: &mut AnyConnection,
    signup: &Signup,
) -> Result<Created, DbError> {
    let Signup {
        user,
        credential,
        invite_sha256,
        events: records,
    } = signup;
    super::transaction(conn, |conn| {
        if users::username_exists(conn, &user.username)? {
            return Ok(Created::UsernameTaken);
        }
        if credentials::find(conn, &credential.credential_id)?.is_some() {
            return Ok(Created::CredentialExists);
        }
        let invite = match invite_sha256 {
            Some(hash) => match invites::spend(conn, hash, user.created_at)? {
                Some(invite) => Some(invite),
                None => return Ok(Created::InviteGone),
            },
            None => None,
        };
        users::insert(conn, user)?;
        credentials::insert(conn, credential)?;
        if let Some(invite) = invite {
            let names: Vec<String> = serde_json::from_str(&invite.group_names).unwrap_or_default();
            for name in names {
                if groups::exists(conn, &name)? {
                    groups::add_member(conn, &name, &user.id, user.created_at)?;
                }
            }
        }
        for event in records {
            events::record(conn, event)?;
        }
        Ok(Created::Yes)
    })
}

/// Users with their credentials, from async code.
pub struct AccountRows<'a>(pub(super) &'a Db);

impl AccountRows<'_> {
    /// Creates the account; of two racing sign-ups for one name, the loser hits the unique
    /// index and is told the name is taken.
    pub async fn create_with_credential(&self, signup: Signup) -> Result<Created, DbError> {
        match self
            .0
            .run(move |c| create_with_credential(c, &signup))
            .await
        {
            Err(e) if e.is_unique_violation() => Ok(Created::UsernameTaken),
            other => other,
        }
    }

    /// The credential and its owner, for a sign-in: one query.
    pub async fn credential_with_owner(
        &self,
        credential_id: &str,
    ) -> Result<Option<Owned>, DbError> {
        let id = credential_id.to_owned();
        self.0
            .run(move |c| {
                Ok(creds::table
                    .inner_join(user_rows::table)
                    .filter(creds::credential_id.eq(id))
                    .select((StoredCredential::as_select(), User::as_select()))
                    .first(c)
                    .optional()?)
            })
            .await
    }

    /// The named user's id and credentials, in one query (an unknown name costs the same).
    pub async fn credentials_for_username(
        &self,
        username: &str,
    ) -> Result<Option<(String, Vec<StoredCredential>)>, DbError> {
        let name = username.to_owned();
        let rows: Vec<(String, Option<StoredCredential>)> = self
            .0
            .run(move |c| {
                Ok(user_rows::table
                    .left_join(creds::table)
                    .filter(user_rows::username.eq(name))
                    .order(creds::created_at.asc())
                    .select((user_rows::id, Option::<StoredCredential>::as_select()))
                    .load(c)?)
            })
            .await?;
        let Some(user_id) = rows.first().map(|(id, _)| id.clone()) else {
            return Ok(None);
        };
        Ok(Some((
            user_id,
            rows.into_iter().filter_map(|(_, c)| c).collect(),
        )))
    }

    /// The user and their credentials, for adding another passkey.
    pub async fn user_with_credentials(
        &self,
        user_id: &str,
    ) -> Result<Option<(User, Vec<StoredCredential>)>, DbError> {
        let id = user_id.to_owned();
        self.0
            .run(move |c| {
                let Some(user) = users::find_by_id(c, &id)? else {
                    return Ok(None);
                };
                let creds = credentials::for_user(c, &id)?;
                Ok(Some((user, creds)))
            })
            .await
    }
}
