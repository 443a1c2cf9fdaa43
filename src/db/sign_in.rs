//! The write of a sign-in on Postgres as one statement: data-modifying CTEs that record the
//! passkey's use (only if its counter moved forward, or both are zero), the user's last
//! sign-in, the event and the session record. A single statement is atomic on its own, so a
//! counter regression writes nothing, and the whole write costs one round trip instead of six
//! (BEGIN, four statements, COMMIT). Written as a query type with a static id, so diesel
//! prepares it once per connection (a `sql_query` would be parsed and planned every time).

use diesel::pg::{Pg, PgConnection};
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamp};
use diesel::{QueryResult, RunQueryDsl};

use super::credentials::CredentialUse;
use super::models::{NewEvent, SessionRow};
use super::DbError;

#[derive(QueryId)]
struct RecordSignIn {
    credential_id: String,
    counter: i64,
    backup_eligible: bool,
    backup_state: bool,
    at: chrono::NaiveDateTime,
    kind: String,
    request_id: Option<String>,
    sid: String,
    expires_at: chrono::NaiveDateTime,
    browser: String,
    restricted: bool,
    session_credential: Option<String>,
}

impl Query for RecordSignIn {
    type SqlType = BigInt;
}

impl RunQueryDsl<PgConnection> for RecordSignIn {}

impl QueryFragment<Pg> for RecordSignIn {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("WITH used AS (UPDATE webauthn_credentials SET sign_count = ");
        out.push_bind_param::<BigInt, _>(&self.counter)?;
        out.push_sql(", backup_eligible = ");
        out.push_bind_param::<Bool, _>(&self.backup_eligible)?;
        out.push_sql(", backup_state = ");
        out.push_bind_param::<Bool, _>(&self.backup_state)?;
        out.push_sql(", last_used_at = ");
        out.push_bind_param::<Timestamp, _>(&self.at)?;
        out.push_sql(" WHERE credential_id = ");
        out.push_bind_param::<Text, _>(&self.credential_id)?;
        // The counter check of `credentials::record_use`: forward, or both zero.
        out.push_sql(" AND CASE WHEN ");
        out.push_bind_param::<BigInt, _>(&self.counter)?;
        out.push_sql(" = 0 THEN sign_count = 0 ELSE sign_count < ");
        out.push_bind_param::<BigInt, _>(&self.counter)?;
        out.push_sql(" END RETURNING user_id), seen AS (UPDATE users SET last_sign_in_at = ");
        out.push_bind_param::<Timestamp, _>(&self.at)?;
        out.push_sql(
            " WHERE id IN (SELECT user_id FROM used) RETURNING id, username), event AS (INSERT \
             INTO security_events (occurred_at, kind, user_id, username, credential_id, \
             client_id, request_id) SELECT ",
        );
        out.push_bind_param::<Timestamp, _>(&self.at)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&self.kind)?;
        // The username at the time, as `events::record` writes it, from the row just updated.
        out.push_sql(", id, username, ");
        out.push_bind_param::<Text, _>(&self.credential_id)?;
        out.push_sql(", NULL, ");
        out.push_bind_param::<Nullable<Text>, _>(&self.request_id)?;
        out.push_sql(
            " FROM seen RETURNING id), session AS (INSERT INTO user_sessions (sid, user_id, \
             created_at, last_seen_at, expires_at, browser, restricted, credential_id) SELECT ",
        );
        out.push_bind_param::<Text, _>(&self.sid)?;
        out.push_sql(", user_id, ");
        out.push_bind_param::<Timestamp, _>(&self.at)?;
        out.push_sql(", ");
        out.push_bind_param::<Timestamp, _>(&self.at)?;
        out.push_sql(", ");
        out.push_bind_param::<Timestamp, _>(&self.expires_at)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&self.browser)?;
        out.push_sql(", ");
        out.push_bind_param::<Bool, _>(&self.restricted)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&self.session_credential)?;
        out.push_sql(" FROM used RETURNING sid) SELECT (SELECT count(*) FROM used)");
        Ok(())
    }
}

/// Records a sign-in and its session; false when the counter check failed and nothing was
/// written.
pub fn record_in_one_statement(
    pg: &mut PgConnection,
    credential_id: &str,
    use_: &CredentialUse,
    event: &NewEvent,
    session: &SessionRow,
) -> Result<bool, DbError> {
    let recorded: i64 = RecordSignIn {
        credential_id: credential_id.to_string(),
        counter: i64::from(use_.counter),
        backup_eligible: use_.backup_eligible,
        backup_state: use_.backup_state,
        at: event.occurred_at,
        kind: event.kind.clone(),
        request_id: event.request_id.clone(),
        sid: session.sid.clone(),
        expires_at: session.expires_at,
        browser: session.browser.clone(),
        restricted: session.restricted,
        session_credential: session.credential_id.clone(),
    }
    .get_result(pg)?;
    Ok(recorded == 1)
}
