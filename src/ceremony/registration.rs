//! Sign-up: `begin` issues creation options and keeps the ceremony state in the store; `finish`
//! verifies the authenticator's answer and only then writes the user and the credential, in one
//! transaction.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use webauthn_rs_core::proto::{
    AttestationConveyancePreference, Credential, RegisterPublicKeyCredential, RegistrationState,
    RequestRegistrationExtensions, ResidentKeyRequirement, UserVerificationPolicy,
};

use super::{challenge_expired, map_webauthn_error, parse_response, Phase, Username};
use crate::db::{self, models::NewCredential, models::NewUser, DbError};
use crate::error::ApiError;
use crate::settings::{Attestation, ResidentKey, Settings, UserVerification};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct BeginRequest {
    pub username: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
}

/// What the store keeps between `begin` and `finish`. Never sent to the browser.
#[derive(Serialize, Deserialize)]
struct Pending {
    state: RegistrationState,
    user_id: String,
    user_handle: Vec<u8>,
    username: String,
    email: Option<String>,
    display_name: String,
}

pub struct Begun {
    pub options: serde_json::Value,
    pub ceremony_id: String,
}

pub struct Registered {
    pub user_id: String,
    pub username: String,
    pub credential_id: String,
    pub credential_name: String,
    pub synced: bool,
    pub amr: Vec<String>,
}

pub(crate) fn uv_policy(settings: &Settings) -> UserVerificationPolicy {
    match settings.user_verification {
        UserVerification::Required => UserVerificationPolicy::Required,
        UserVerification::Preferred => UserVerificationPolicy::Preferred,
    }
}

pub async fn begin(app: &AppState, req: BeginRequest) -> Result<Begun, ApiError> {
    let username = Username::parse(&req.username)?;
    let email = super::username::parse_email(req.email.as_deref())?;
    let display_name = super::username::parse_display_name(req.display_name.as_deref(), &username)?;

    let name = username.as_str().to_string();
    if db::run(&app.db, move |conn| db::users::username_exists(conn, &name)).await? {
        return Err(username_taken());
    }

    let user_handle = crate::random::bytes(32);
    let (options, state) = creation_options(
        app,
        &user_handle,
        username.as_str(),
        &display_name,
        Vec::new(),
    )?;
    let pending = Pending {
        state,
        user_id: uuid::Uuid::new_v4().to_string(),
        user_handle,
        username: username.as_str().to_string(),
        email,
        display_name,
    };
    let ceremony_id = super::keep(app, "register", &pending).await?;
    Ok(Begun {
        options,
        ceremony_id,
    })
}

/// Creation options and the state to keep, with the configured policy; `exclude` lists the
/// user's existing credentials so one authenticator is not registered twice.
fn creation_options(
    app: &AppState,
    user_handle: &[u8],
    username: &str,
    display_name: &str,
    exclude: Vec<Vec<u8>>,
) -> Result<(serde_json::Value, RegistrationState), ApiError> {
    let settings = &app.settings;
    let attestation = match settings.attestation {
        Attestation::None => AttestationConveyancePreference::None,
        Attestation::Indirect => AttestationConveyancePreference::Indirect,
        Attestation::Direct => AttestationConveyancePreference::Direct,
    };
    let builder = app
        .webauthn
        .new_challenge_register_builder(user_handle, username, display_name)
        .map_err(|e| map_webauthn_error(&e, Phase::Register))?
        .attestation(attestation)
        .user_verification_policy(uv_policy(settings))
        .require_resident_key(settings.resident_key == ResidentKey::Required)
        .exclude_credentials((!exclude.is_empty()).then_some(exclude))
        .extensions(Some(RequestRegistrationExtensions {
            cred_protect: None,
            uvm: None,
            cred_props: Some(true),
            min_pin_length: None,
            hmac_create_secret: None,
        }));
    let (mut ccr, state) = app
        .webauthn
        .generate_challenge_register(builder)
        .map_err(|e| map_webauthn_error(&e, Phase::Register))?;
    // The builder knows only "required" or not; "preferred" is a hint to the browser.
    if settings.resident_key == ResidentKey::Preferred {
        if let Some(sel) = ccr.public_key.authenticator_selection.as_mut() {
            sel.resident_key = Some(ResidentKeyRequirement::Preferred);
        }
    }
    let options = serde_json::to_value(&ccr).map_err(ApiError::internal)?;
    Ok((options, state))
}

fn username_taken() -> ApiError {
    ApiError::conflict(
        "username_taken",
        "This username is already taken; choose another one, or sign in if it is yours.",
    )
}

pub async fn finish(
    app: &AppState,
    ceremony_id: Option<&str>,
    body: &[u8],
) -> Result<Registered, ApiError> {
    // Take the state first: a failed finish consumes the ceremony as well.
    let pending = super::take(app, "register", ceremony_id).await?;
    let reg: RegisterPublicKeyCredential =
        parse_response(body, |r: &RegisterPublicKeyCredential| {
            (r.id.as_str(), r.raw_id.as_slice(), r.type_.as_str())
        })?;
    let pending: Pending = pending.ok_or_else(|| challenge_expired(Phase::Register))?;

    let now = Utc::now().naive_utc();
    let (new_credential, credential) =
        verified_credential(app, &reg, &pending.state, &pending.user_id, now)?;
    let credential_id = new_credential.credential_id.clone();
    let synced = credential.backup_eligible;
    let amr = super::amr(credential.backup_eligible, credential.user_verified);
    let name = new_credential.name.clone();
    let aaguid = new_credential.aaguid.clone();
    let new_user = NewUser {
        id: pending.user_id.clone(),
        username: pending.username.clone(),
        email: pending.email,
        display_name: pending.display_name,
        user_handle: pending.user_handle,
        created_at: now,
    };
    enum Conflict {
        Username,
        Credential,
    }
    let result = db::run(&app.db, move |conn| {
        use diesel::Connection;
        conn.transaction::<_, DbError, _>(|conn| {
            if db::users::username_exists(conn, &new_user.username)? {
                return Ok(Err(Conflict::Username));
            }
            if db::credentials::find(conn, &new_credential.credential_id)?.is_some() {
                return Ok(Err(Conflict::Credential));
            }
            db::users::insert(conn, &new_user)?;
            db::credentials::insert(conn, &new_credential)?;
            Ok(Ok(()))
        })
    })
    .await;
    match result {
        Ok(Ok(())) => {}
        Ok(Err(Conflict::Username)) => return Err(username_taken()),
        Ok(Err(Conflict::Credential)) => return Err(credential_exists()),
        // Two finishes racing for one username or credential: the loser hits the unique index.
        Err(e) if e.is_unique_violation() => return Err(username_taken()),
        Err(e) => return Err(e.into()),
    }

    tracing::info!(
        target: "security",
        event = "registration",
        user_id = %pending.user_id,
        credential_id = %credential_id,
        aaguid = %aaguid,
        synced,
        "account created with a passkey"
    );
    Ok(Registered {
        user_id: pending.user_id,
        username: pending.username,
        credential_id,
        credential_name: name,
        synced,
        amr,
    })
}

fn credential_exists() -> ApiError {
    ApiError::conflict(
        "credential_exists",
        "This passkey is already registered; use it to sign in, or create a new one on another device.",
    )
}

/// Verifies a creation response against its ceremony state and builds the row to store for
/// `user_id`: shared by sign-up and by adding a passkey to an account.
pub(crate) fn verified_credential(
    app: &AppState,
    reg: &RegisterPublicKeyCredential,
    state: &RegistrationState,
    user_id: &str,
    now: chrono::NaiveDateTime,
) -> Result<(NewCredential, Credential), ApiError> {
    let mut credential = app
        .webauthn
        .register_credential(reg, state, None)
        .map_err(|e| map_webauthn_error(&e, Phase::Register))?;
    // webauthn-rs keeps transports only when an attestation vouches for them. As a hint for
    // later allowCredentials (never a security decision), keep what the browser reported,
    // as WebAuthn recommends.
    if credential.transports.is_none() {
        credential.transports = reg.response.transports.clone();
    }
    let details = AttestedDetails::parse(&reg.response.attestation_object)
        .ok_or_else(|| ApiError::invalid_request("The attestation object could not be read."))?;
    let row = NewCredential {
        credential_id: URL_SAFE_NO_PAD.encode(&credential.cred_id),
        user_id: user_id.to_string(),
        public_key: details.public_key,
        aaguid: details.aaguid.to_string(),
        sign_count: i64::from(credential.counter),
        credential_type: "public-key".to_string(),
        attestation_format: serde_json::to_value(&credential.attestation_format)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| "none".to_string()),
        transports: serde_json::to_string(&credential.transports).map_err(ApiError::internal)?,
        backup_eligible: credential.backup_eligible,
        backup_state: credential.backup_state,
        name: default_name(app, &credential, &details.aaguid),
        created_at: now,
        clone_suspected: false,
        credential_json: serde_json::to_string(&credential).map_err(ApiError::internal)?,
    };
    Ok((row, credential))
}

/// A new passkey is named after its provider when the AAGUID is known ("iCloud Keychain",
/// "YubiKey 5 NFC"), else by its kind; the person can rename it.
fn default_name(app: &AppState, credential: &Credential, aaguid: &uuid::Uuid) -> String {
    let known = app.authenticators.lookup(&aaguid.to_string());
    if known.name != crate::metadata::UNKNOWN {
        known.name
    } else if credential.backup_eligible {
        "Synced passkey".to_string()
    } else {
        "Device-bound passkey".to_string()
    }
}

/// What webauthn-rs does not keep on its `Credential`: the AAGUID and the COSE public key bytes
/// as the authenticator sent them. Read from the attestation object once it has verified.
struct AttestedDetails {
    aaguid: uuid::Uuid,
    public_key: Vec<u8>,
}

impl AttestedDetails {
    fn parse(attestation_object: &[u8]) -> Option<AttestedDetails> {
        use serde::Deserialize as _;
        let value: serde_cbor_2::Value = serde_cbor_2::from_slice(attestation_object).ok()?;
        let serde_cbor_2::Value::Map(map) = value else {
            return None;
        };
        let auth_data = match map.get(&serde_cbor_2::Value::Text("authData".into()))? {
            serde_cbor_2::Value::Bytes(b) => b,
            _ => return None,
        };
        // rpIdHash(32) flags(1) signCount(4) aaguid(16) credIdLen(2) credId(L) publicKey(COSE)
        let aaguid = uuid::Uuid::from_slice(auth_data.get(37..53)?).ok()?;
        let id_len = u16::from_be_bytes([*auth_data.get(53)?, *auth_data.get(54)?]) as usize;
        let key_start = 55 + id_len;
        let rest = auth_data.get(key_start..)?;
        let mut de = serde_cbor_2::Deserializer::from_slice(rest);
        serde_cbor_2::Value::deserialize(&mut de).ok()?;
        let key_len = de.byte_offset();
        Some(AttestedDetails {
            aaguid,
            public_key: rest.get(..key_len)?.to_vec(),
        })
    }
}

/// Adding a passkey to an existing account (from the account page, or from a recovery session).
#[derive(Serialize, Deserialize)]
struct PendingAddition {
    state: RegistrationState,
    user_id: String,
}

pub async fn add_begin(app: &AppState, user_id: &str) -> Result<Begun, ApiError> {
    let id = user_id.to_string();
    let (user, creds) = db::run(&app.db, move |conn| {
        let user = db::users::find_by_id(conn, &id)?;
        let creds = db::credentials::for_user(conn, &id)?;
        Ok((user, creds))
    })
    .await?;
    let user = user.ok_or_else(|| {
        ApiError::unauthorized("login_required", "Your account no longer exists.")
    })?;
    let exclude = creds
        .iter()
        .filter_map(|c| URL_SAFE_NO_PAD.decode(&c.credential_id).ok())
        .collect();
    let (options, state) = creation_options(
        app,
        &user.user_handle,
        &user.username,
        &user.display_name,
        exclude,
    )?;
    let pending = PendingAddition {
        state,
        user_id: user.id,
    };
    let ceremony_id = super::keep(app, "add", &pending).await?;
    Ok(Begun {
        options,
        ceremony_id,
    })
}

pub struct Added {
    pub credential_id: String,
    pub name: String,
    pub synced: bool,
}

pub async fn add_finish(
    app: &AppState,
    user_id: &str,
    ceremony_id: Option<&str>,
    body: &[u8],
) -> Result<Added, ApiError> {
    let pending = super::take(app, "add", ceremony_id).await?;
    let reg: RegisterPublicKeyCredential =
        parse_response(body, |r: &RegisterPublicKeyCredential| {
            (r.id.as_str(), r.raw_id.as_slice(), r.type_.as_str())
        })?;
    // The ceremony must have been started by this same user.
    let pending: PendingAddition = pending
        .filter(|p: &PendingAddition| p.user_id == user_id)
        .ok_or_else(|| challenge_expired(Phase::Register))?;
    let now = Utc::now().naive_utc();
    let (row, credential) = verified_credential(app, &reg, &pending.state, user_id, now)?;
    let added = Added {
        credential_id: row.credential_id.clone(),
        name: row.name.clone(),
        synced: credential.backup_eligible,
    };
    let result = db::run(&app.db, move |conn| {
        if db::credentials::find(conn, &row.credential_id)?.is_some() {
            return Ok(false);
        }
        db::credentials::insert(conn, &row)?;
        Ok(true)
    })
    .await;
    match result {
        Ok(true) => {}
        Ok(false) => return Err(credential_exists()),
        Err(e) if e.is_unique_violation() => return Err(credential_exists()),
        Err(e) => return Err(e.into()),
    }
    tracing::info!(
        target: "security",
        event = "passkey_added",
        user_id = %user_id,
        credential_id = %added.credential_id,
        "passkey added to an account"
    );
    Ok(added)
}
