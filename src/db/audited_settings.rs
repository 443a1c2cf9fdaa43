//! Settings whose changes are audit events (`audited_settings`): the last value an instance
//! started with. A start with another value records one `setting_changed` event, however many
//! instances start with it at once.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::models::NewEvent;
use super::schema::audited_settings as audited;
use super::{events, AnyConnection, Db, DbError};

/// Notes `value` as the setting's value. When it had another, `event` (built by `change` from
/// the old value) is recorded in the same transaction and the old value returned. The first
/// value ever seen is no change.
pub fn note(
    conn: &mut AnyConnection,
    name: &str,
    value: &str,
    now: NaiveDateTime,
    change: &dyn Fn(&str) -> NewEvent,
) -> Result<Option<String>, DbError> {
    super::transaction(conn, |conn| {
        let row = (
            audited::name.eq(name),
            audited::value.eq(value),
            audited::updated_at.eq(now),
        );
        // The first value: of instances starting at once, one inserts and the others see it.
        let inserted = match conn {
            AnyConnection::Postgresql(pg) => diesel::insert_into(audited::table)
                .values(row)
                .on_conflict_do_nothing()
                .execute(pg)?,
            AnyConnection::Sqlite(sqlite) => diesel::insert_into(audited::table)
                .values(row)
                .on_conflict_do_nothing()
                .execute(sqlite)?,
        };
        if inserted == 1 {
            return Ok(None);
        }
        let old: String = audited::table
            .filter(audited::name.eq(name))
            .select(audited::value)
            .first(conn)?;
        if old == value {
            return Ok(None);
        }
        // Only the instance whose update finds the old value records the change.
        let updated = diesel::update(
            audited::table
                .filter(audited::name.eq(name))
                .filter(audited::value.eq(&old)),
        )
        .set((audited::value.eq(value), audited::updated_at.eq(now)))
        .execute(conn)?;
        if updated != 1 {
            return Ok(None);
        }
        events::record(conn, &change(&old))?;
        Ok(Some(old))
    })
}

/// The audited settings, from async code.
pub struct AuditedSettingRows<'a>(pub(super) &'a Db);

impl AuditedSettingRows<'_> {
    pub async fn note(
        &self,
        name: &'static str,
        value: String,
        now: NaiveDateTime,
        change: impl Fn(&str) -> NewEvent + Send + 'static,
    ) -> Result<Option<String>, DbError> {
        self.0
            .run(move |c| note(c, name, &value, now, &change))
            .await
    }
}
