//! The write of a sign-in on Postgres as one statement: data-modifying CTEs that record the
//! passkey's use (only if its counter moved forward, or both are zero), the user's last
//! sign-in, the event and the session record. A single statement is atomic on its own, so a
//! counter regression writes nothing, and the whole write costs one round trip instead of six
//! (BEGIN, four statements, COMMIT).

use diesel::pg::PgConnection;
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamp};
use diesel::RunQueryDsl;

use super::credentials::Use;
use super::models::{NewEvent, SessionRow};
use super::DbError;

const RECORD: &str = "\
WITH used AS (
    UPDATE webauthn_credentials
       SET sign_count = $2, backup_eligible = $3, backup_state = $4, last_used_at = $5
     WHERE credential_id = $1
       AND (($2 = 0 AND sign_count = 0) OR ($2 > 0 AND sign_count < $2))
 RETURNING user_id
), seen AS (
    UPDATE users SET last_sign_in_at = $5 WHERE id IN (SELECT user_id FROM used) RETURNING id
), event AS (
    INSERT INTO security_events (occurred_at, kind, user_id, credential_id, client_id, request_id)
    SELECT $5, $6, user_id, $1, NULL, $7 FROM used
    RETURNING id
), session AS (
    INSERT INTO user_sessions (sid, user_id, created_at, last_seen_at, expires_at, browser, restricted)
    SELECT $8, user_id, $5, $5, $9, $10, $11 FROM used
    RETURNING sid
)
SELECT (SELECT count(*) FROM used) AS recorded";

#[derive(diesel::QueryableByName)]
struct Recorded {
    #[diesel(sql_type = BigInt)]
    recorded: i64,
}

pub fn record_in_one_statement(
    pg: &mut PgConnection,
    credential_id: &str,
    use_: &Use,
    event: &NewEvent,
    session: &SessionRow,
) -> Result<bool, DbError> {
    let row: Recorded = diesel::sql_query(RECORD)
        .bind::<Text, _>(credential_id)
        .bind::<BigInt, _>(i64::from(use_.counter))
        .bind::<Bool, _>(use_.backup_eligible)
        .bind::<Bool, _>(use_.backup_state)
        .bind::<Timestamp, _>(event.occurred_at)
        .bind::<Text, _>(&event.kind)
        .bind::<Nullable<Text>, _>(event.request_id.as_deref())
        .bind::<Text, _>(&session.sid)
        .bind::<Timestamp, _>(session.expires_at)
        .bind::<Text, _>(&session.browser)
        .bind::<Bool, _>(session.restricted)
        .get_result(pg)?;
    Ok(row.recorded == 1)
}
