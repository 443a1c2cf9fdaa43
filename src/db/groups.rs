//! Groups (`user_groups`) and their members (`group_members`). An operator's change writes its
//! event in the same transaction; joining the groups of an invite at sign-up writes none (the
//! `invite_used` event records it).

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::models::NewEvent;
use super::schema::{group_members as members, user_groups as groups};
use super::{events, AnyConnection, Db, DbError};

pub fn exists(conn: &mut AnyConnection, name: &str) -> Result<bool, DbError> {
    Ok(groups::table
        .filter(groups::name.eq(name))
        .count()
        .get_result::<i64>(conn)?
        > 0)
}

/// Creates a group and writes its event; false when it exists already.
pub fn create(conn: &mut AnyConnection, name: &str, event: &NewEvent) -> Result<bool, DbError> {
    super::transaction(conn, |conn| {
        if exists(conn, name)? {
            return Ok(false);
        }
        diesel::insert_into(groups::table)
            .values((
                groups::name.eq(name),
                groups::created_at.eq(event.occurred_at),
            ))
            .execute(conn)?;
        events::record(conn, event)?;
        Ok(true)
    })
}

/// Removes a group and its memberships, and writes its event, in one transaction; false when
/// there is no such group.
pub fn remove(conn: &mut AnyConnection, name: &str, event: &NewEvent) -> Result<bool, DbError> {
    super::transaction(conn, |conn| {
        diesel::delete(members::table.filter(members::group_name.eq(name))).execute(conn)?;
        let gone = diesel::delete(groups::table.filter(groups::name.eq(name))).execute(conn)? == 1;
        if gone {
            events::record(conn, event)?;
        }
        Ok(gone)
    })
}

/// Every group with its number of members, by name.
pub fn all(conn: &mut AnyConnection) -> Result<Vec<(String, i64)>, DbError> {
    let names: Vec<String> = groups::table
        .order(groups::name.asc())
        .select(groups::name)
        .load(conn)?;
    let counts: Vec<(String, i64)> = members::table
        .group_by(members::group_name)
        .select((members::group_name, diesel::dsl::count_star()))
        .load(conn)?;
    let counts: HashMap<String, i64> = counts.into_iter().collect();
    Ok(names
        .into_iter()
        .map(|n| {
            let count = counts.get(&n).copied().unwrap_or(0);
            (n, count)
        })
        .collect())
}

/// The names of the user's groups, sorted.
pub fn of_user(conn: &mut AnyConnection, user_id: &str) -> Result<Vec<String>, DbError> {
    Ok(members::table
        .filter(members::user_id.eq(user_id))
        .order(members::group_name.asc())
        .select(members::group_name)
        .load(conn)?)
}

/// Every user's groups (users in none are absent).
pub fn by_user(conn: &mut AnyConnection) -> Result<HashMap<String, Vec<String>>, DbError> {
    let rows: Vec<(String, String)> = members::table
        .order((members::user_id.asc(), members::group_name.asc()))
        .select((members::user_id, members::group_name))
        .load(conn)?;
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    for (user, group) in rows {
        map.entry(user).or_default().push(group);
    }
    Ok(map)
}

pub fn members_of(conn: &mut AnyConnection, name: &str) -> Result<Vec<String>, DbError> {
    Ok(members::table
        .filter(members::group_name.eq(name))
        .select(members::user_id)
        .load(conn)?)
}

/// Adds the user to an existing group; false when they are in it already.
pub fn add_member(
    conn: &mut AnyConnection,
    name: &str,
    user_id: &str,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let present = members::table
        .filter(members::group_name.eq(name))
        .filter(members::user_id.eq(user_id))
        .count()
        .get_result::<i64>(conn)?
        > 0;
    if present {
        return Ok(false);
    }
    diesel::insert_into(members::table)
        .values((
            members::group_name.eq(name),
            members::user_id.eq(user_id),
            members::added_at.eq(now),
        ))
        .execute(conn)?;
    Ok(true)
}

/// An operator puts the user in an existing group and the event is written, in one
/// transaction; false (and no event) when they are in it already.
pub fn join(
    conn: &mut AnyConnection,
    name: &str,
    user_id: &str,
    event: &NewEvent,
) -> Result<bool, DbError> {
    super::transaction(conn, |conn| {
        let added = add_member(conn, name, user_id, event.occurred_at)?;
        if added {
            events::record(conn, event)?;
        }
        Ok(added)
    })
}

/// An operator takes the user out of a group and the event is written, in one transaction;
/// false (and no event) when they were not in it.
pub fn leave(
    conn: &mut AnyConnection,
    name: &str,
    user_id: &str,
    event: &NewEvent,
) -> Result<bool, DbError> {
    super::transaction(conn, |conn| {
        let removed = diesel::delete(
            members::table
                .filter(members::group_name.eq(name))
                .filter(members::user_id.eq(user_id)),
        )
        .execute(conn)?
            == 1;
        if removed {
            events::record(conn, event)?;
        }
        Ok(removed)
    })
}

/// Groups and memberships, from async code.
pub struct GroupRows<'a>(pub(super) &'a Db);

impl GroupRows<'_> {
    pub async fn exists(&self, name: &str) -> Result<bool, DbError> {
        let name = name.to_owned();
        self.0.run(move |c| exists(c, &name)).await
    }

    /// Creates a group; false when it exists already (also when another creation won a race).
    pub async fn create(&self, name: &str, event: NewEvent) -> Result<bool, DbError> {
        let name = name.to_owned();
        match self.0.run(move |c| create(c, &name, &event)).await {
            Err(e) if e.is_unique_violation() => Ok(false),
            other => other,
        }
    }

    /// See [`remove`].
    pub async fn remove(&self, name: &str, event: NewEvent) -> Result<bool, DbError> {
        let name = name.to_owned();
        self.0.run(move |c| remove(c, &name, &event)).await
    }

    pub async fn all(&self) -> Result<Vec<(String, i64)>, DbError> {
        self.0.run(all).await
    }

    pub async fn of_user(&self, user_id: &str) -> Result<Vec<String>, DbError> {
        let id = user_id.to_owned();
        self.0.run(move |c| of_user(c, &id)).await
    }

    pub async fn by_user(&self) -> Result<HashMap<String, Vec<String>>, DbError> {
        self.0.run(by_user).await
    }

    pub async fn members_of(&self, name: &str) -> Result<Vec<String>, DbError> {
        let name = name.to_owned();
        self.0.run(move |c| members_of(c, &name)).await
    }

    /// See [`join`]; false also when another addition won a race.
    pub async fn join(&self, name: &str, user_id: &str, event: NewEvent) -> Result<bool, DbError> {
        let (name, id) = (name.to_owned(), user_id.to_owned());
        match self.0.run(move |c| join(c, &name, &id, &event)).await {
            Err(e) if e.is_unique_violation() => Ok(false),
            other => other,
        }
    }

    /// See [`leave`].
    pub async fn leave(&self, name: &str, user_id: &str, event: NewEvent) -> Result<bool, DbError> {
        let (name, id) = (name.to_owned(), user_id.to_owned());
        self.0.run(move |c| leave(c, &name, &id, &event)).await
    }
}
