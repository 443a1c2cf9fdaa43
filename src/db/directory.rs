//! The people directory of the admin API: users found by part of their name or address, in
//! status and group, a page at a time in username order (keyset paging, so a page costs the
//! same however deep it is).

use diesel::prelude::*;

use super::models::User;
use super::schema::{group_members as members, users, webauthn_credentials as creds};
use super::{AnyConnection, Db, DbError};

/// Which users, and which page of them.
#[derive(Debug, Clone, Default)]
pub struct Search {
    /// Part of the username or email address, any case.
    pub query: Option<String>,
    pub group: Option<String>,
    /// `Some(true)`: active only; `Some(false)`: disabled only.
    pub active: Option<bool>,
    /// Only usernames after this one (the last of the page before).
    pub after: Option<String>,
    pub limit: i64,
}

/// A user with their number of passkeys and their groups.
pub type Listed = (User, i64, Vec<String>);

/// `%`, `_` and `\` taken literally in a LIKE pattern (escaped with `\`).
fn like_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

pub fn search(conn: &mut AnyConnection, search: &Search) -> Result<Vec<Listed>, DbError> {
    let mut query = users::table.into_boxed();
    if let Some(text) = &search.query {
        let pattern = like_pattern(text);
        query = query.filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("(LOWER(users.username) LIKE ")
                .bind::<diesel::sql_types::Text, _>(pattern.clone())
                .sql(" ESCAPE '\\' OR LOWER(COALESCE(users.email, '')) LIKE ")
                .bind::<diesel::sql_types::Text, _>(pattern)
                .sql(" ESCAPE '\\')"),
        );
    }
    if let Some(group) = &search.group {
        query = query.filter(
            users::id.eq_any(
                members::table
                    .filter(members::group_name.eq(group.clone()))
                    .select(members::user_id),
            ),
        );
    }
    match search.active {
        Some(true) => query = query.filter(users::disabled_at.is_null()),
        Some(false) => query = query.filter(users::disabled_at.is_not_null()),
        None => {}
    }
    if let Some(after) = &search.after {
        query = query.filter(users::username.gt(after.clone()));
    }
    let found: Vec<User> = query
        .order(users::username.asc())
        .limit(search.limit)
        .select(User::as_select())
        .load(conn)?;
    let ids: Vec<&str> = found.iter().map(|u| u.id.as_str()).collect();
    let counts: Vec<(String, i64)> = creds::table
        .filter(creds::user_id.eq_any(&ids))
        .group_by(creds::user_id)
        .select((creds::user_id, diesel::dsl::count_star()))
        .load(conn)?;
    let groups: Vec<(String, String)> = members::table
        .filter(members::user_id.eq_any(&ids))
        .order((members::user_id.asc(), members::group_name.asc()))
        .select((members::user_id, members::group_name))
        .load(conn)?;
    Ok(found
        .into_iter()
        .map(|user| {
            let passkeys = counts
                .iter()
                .find(|(id, _)| *id == user.id)
                .map_or(0, |(_, n)| *n);
            let of_user = groups
                .iter()
                .filter(|(id, _)| *id == user.id)
                .map(|(_, g)| g.clone())
                .collect();
            (user, passkeys, of_user)
        })
        .collect())
}

/// The directory, from async code.
pub struct DirectoryRows<'a>(pub(super) &'a Db);

impl DirectoryRows<'_> {
    pub async fn search(&self, search: Search) -> Result<Vec<Listed>, DbError> {
        self.0.run(move |c| self::search(c, &search)).await
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_search_takes_wildcards_literally() {
        assert_eq!(super::like_pattern("A_b%c\\"), "%a\\_b\\%c\\\\%");
    }
}
