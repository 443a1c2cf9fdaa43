//! Row structs (what queries return) apart from insert structs (what registration writes).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{users, webauthn_credentials};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    pub display_name: String,
    pub user_handle: Vec<u8>,
    pub created_at: NaiveDateTime,
    /// When an operator disabled the account; `None` while it is active.
    pub disabled_at: Option<NaiveDateTime>,
    pub last_sign_in_at: Option<NaiveDateTime>,
    /// When the user's access was last ended (a disable): access tokens issued at or before
    /// it stay refused, also once the user is enabled again.
    pub access_revoked_at: Option<NaiveDateTime>,
}

impl User {
    pub fn is_active(&self) -> bool {
        self.disabled_at.is_none()
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    pub display_name: String,
    pub user_handle: Vec<u8>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webauthn_credentials)]
pub struct StoredCredential {
    pub credential_id: String,
    pub user_id: String,
    pub public_key: Vec<u8>,
    pub aaguid: String,
    pub sign_count: i64,
    pub credential_type: String,
    pub attestation_format: String,
    pub transports: String,
    pub backup_eligible: bool,
    pub backup_state: bool,
    pub name: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub clone_suspected: bool,
    pub credential_json: String,
    /// The user handle the authenticator was given, when not the user's own.
    pub user_handle: Option<Vec<u8>>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = webauthn_credentials)]
pub struct NewCredential {
    pub credential_id: String,
    pub user_id: String,
    pub public_key: Vec<u8>,
    pub aaguid: String,
    pub sign_count: i64,
    pub credential_type: String,
    pub attestation_format: String,
    pub transports: String,
    pub backup_eligible: bool,
    pub backup_state: bool,
    pub name: String,
    pub created_at: NaiveDateTime,
    pub clone_suspected: bool,
    pub credential_json: String,
    pub user_handle: Option<Vec<u8>>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = super::schema::recovery_codes)]
pub struct RecoveryCode {
    pub id: String,
    pub user_id: String,
    pub code_hash: String,
    pub created_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    /// HMAC of the code, to find it without trying every hash (`None` for older codes).
    pub lookup: Option<String>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = super::schema::recovery_codes)]
pub struct NewRecoveryCode {
    pub id: String,
    pub user_id: String,
    pub code_hash: String,
    pub created_at: NaiveDateTime,
    pub lookup: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = super::schema::oauth_clients)]
pub struct ClientRow {
    pub client_id: String,
    pub name: String,
    pub secret_sha256: Option<String>,
    pub redirect_uris: String,
    pub post_logout_redirect_uris: String,
    pub scopes: String,
    pub id_token_alg: String,
    pub created_at: NaiveDateTime,
    /// JSON array of access-token audiences; empty means the client_id.
    pub audiences: String,
    /// JSON array of the groups it admits; empty admits everyone.
    pub allowed_groups: String,
    /// Its last change (`None`: never changed since it was added).
    pub updated_at: Option<NaiveDateTime>,
    /// The secret before the last rotation, accepted until `previous_secret_expires_at`.
    pub previous_secret_sha256: Option<String>,
    pub previous_secret_expires_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = super::schema::refresh_tokens)]
pub struct RefreshTokenRow {
    pub token_sha256: String,
    pub family_id: String,
    pub client_id: String,
    pub user_id: String,
    pub scope: String,
    pub auth_time: i64,
    pub amr: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    /// The IdP session the family came from (the `sid` of its ID tokens).
    pub sid: Option<String>,
}

/// The public record of an IdP session (its secret id is only in the ephemeral store).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = super::schema::user_sessions)]
pub struct SessionRow {
    pub sid: String,
    pub user_id: String,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    /// A coarse browser family ("Firefox on Linux").
    pub browser: String,
    pub restricted: bool,
    /// The passkey the session was started with; removing it ends the session.
    pub credential_id: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = super::schema::invites)]
pub struct InviteRow {
    pub token_sha256: String,
    pub username: Option<String>,
    pub email: Option<String>,
    /// JSON array of group names.
    pub group_names: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = super::schema::recovery_links)]
pub struct RecoveryLinkRow {
    pub token_sha256: String,
    pub user_id: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = super::schema::security_events)]
pub struct EventRow {
    pub id: i64,
    pub occurred_at: NaiveDateTime,
    pub kind: String,
    pub user_id: Option<String>,
    pub credential_id: Option<String>,
    pub client_id: Option<String>,
    pub request_id: Option<String>,
    /// Who made the change: `cli:USER`, `token:NAME`, `instance:ID`; `None`: the person.
    pub actor: Option<String>,
    /// The username at the time (so a deleted user's events still say who they were).
    pub username: Option<String>,
    /// What it was done to: a client id, a group, a kid, a token name.
    pub object: Option<String>,
    /// What changed, as a JSON object.
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = super::schema::security_events)]
pub struct NewEvent {
    pub occurred_at: NaiveDateTime,
    pub kind: String,
    pub user_id: Option<String>,
    pub credential_id: Option<String>,
    pub client_id: Option<String>,
    pub request_id: Option<String>,
    /// Who made the change: `cli:USER`, `token:NAME`, `instance:ID`; `None`: the person.
    pub actor: Option<String>,
    /// The username at the time (so a deleted user's events still say who they were).
    pub username: Option<String>,
    /// What it was done to: a client id, a group, a kid, a token name.
    pub object: Option<String>,
    /// What changed, as a JSON object.
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = super::schema::api_tokens)]
pub struct ApiTokenRow {
    pub name: String,
    pub token_sha256: String,
    /// Space-separated scopes.
    pub scopes: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub created_by: Option<String>,
}
