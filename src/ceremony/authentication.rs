//! Sign-in, username-first (allowCredentials) or usernameless (discoverable credentials).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::json;
use webauthn_rs_core::error::WebauthnError;
use webauthn_rs_core::proto::{AuthenticationState, Credential, PublicKeyCredential};

use super::registration::uv_policy;
use super::{challenge_expired, map_webauthn_error, parse_response, Phase, Username};
use crate::db::{self, models::StoredCredential};
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct BeginRequest {
    pub username: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Pending {
    state: AuthenticationState,
    /// The user named at `begin` (username-first), or none (discoverable). For an unknown
    /// username this is none too, and no credential can match the fake allowCredentials.
    user_id: Option<String>,
    discoverable: bool,
}

pub struct Begun {
    pub options: serde_json::Value,
    pub ceremony_id: String,
}

pub struct Authenticated {
    pub user_id: String,
    pub amr: Vec<String>,
}

/// A stored credential as webauthn-rs needs it, with the counter and backup flags taken from
/// their own columns (which sign-ins update) rather than from the serialized copy.
fn to_webauthn(row: &StoredCredential) -> Result<Credential, ApiError> {
    let mut cred: Credential =
        serde_json::from_str(&row.credential_json).map_err(ApiError::internal)?;
    cred.counter = u32::try_from(row.sign_count).unwrap_or(u32::MAX);
    cred.backup_eligible = row.backup_eligible;
    cred.backup_state = row.backup_state;
    Ok(cred)
}

pub async fn begin(app: &AppState, req: BeginRequest) -> Result<Begun, ApiError> {
    let username = match req.username.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => Some(Username::parse(raw)?),
    };
    let (creds, user_id) = match &username {
        None => (Vec::new(), None),
        Some(username) => {
            let name = username.as_str().to_string();
            let found = db::run(&app.db, move |conn| {
                let Some(user) = db::users::find_by_username(conn, &name)? else {
                    // The same two queries as for a known user, so the answer takes as long.
                    db::credentials::for_user(conn, "")?;
                    return Ok(None);
                };
                let creds = db::credentials::for_user(conn, &user.id)?;
                Ok(Some((user.id, creds)))
            })
            .await?;
            match found {
                Some((id, rows)) if !rows.is_empty() => {
                    let creds = rows
                        .iter()
                        .map(to_webauthn)
                        .collect::<Result<Vec<_>, _>>()?;
                    (creds, Some(id))
                }
                _ => (Vec::new(), None),
            }
        }
    };
    let known_user = user_id.is_some();
    let builder = app
        .webauthn
        .new_challenge_authenticate_builder(creds, Some(uv_policy(&app.settings)))
        .map_err(|e| map_webauthn_error(&e, Phase::Login))?
        .allow_backup_eligible_upgrade(true);
    let (rcr, state) = app
        .webauthn
        .generate_challenge_authenticate(builder)
        .map_err(|e| map_webauthn_error(&e, Phase::Login))?;

    let mut options =
        json!({ "publicKey": serde_json::to_value(&rcr.public_key).map_err(ApiError::internal)? });
    if let (Some(username), false) = (&username, known_user) {
        // No account enumeration: an unknown username gets the same shape of answer, with
        // credential ids that are stable for that username and belong to nobody.
        options["publicKey"]["allowCredentials"] = json!([{
            "type": "public-key",
            "id": fake_credential_id(&app.enumeration_secret, username.as_str()),
            "transports": ["internal", "hybrid"],
        }]);
    }
    let pending = Pending {
        state,
        user_id,
        discoverable: username.is_none(),
    };
    let ceremony_id = super::keep(app, "login", &pending).await?;
    Ok(Begun {
        options,
        ceremony_id,
    })
}

fn fake_credential_id(secret: &[u8], username: &str) -> String {
    let mac = crate::random::hmac_sha256(secret, format!("fake-credential:{username}").as_bytes());
    URL_SAFE_NO_PAD.encode(mac)
}

fn unknown_credential() -> ApiError {
    map_webauthn_error(&WebauthnError::CredentialNotFound, Phase::Login)
}

pub async fn finish(
    app: &AppState,
    ceremony_id: Option<&str>,
    body: &[u8],
) -> Result<Authenticated, ApiError> {
    let pending = super::take(app, "login", ceremony_id).await?;
    let rsp: PublicKeyCredential = parse_response(body, |r: &PublicKeyCredential| {
        (r.id.as_str(), r.raw_id.as_slice(), r.type_.as_str())
    })?;
    let mut pending: Pending = pending.ok_or_else(|| challenge_expired(Phase::Login))?;

    let credential_id = URL_SAFE_NO_PAD.encode(&rsp.raw_id);
    let lookup_id = credential_id.clone();
    let found = db::run(&app.db, move |conn| {
        let Some(row) = db::credentials::find(conn, &lookup_id)? else {
            return Ok(None);
        };
        let user = db::users::find_by_id(conn, &row.user_id)?;
        Ok(user.map(|u| (row, u)))
    })
    .await?;
    let Some((row, user)) = found else {
        return Err(unknown_credential());
    };
    // The credential must belong to the user named at begin (username-first), and the
    // authenticator's userHandle, when given, must be that user's handle. Usernameless
    // sign-in has no other way to tie the credential to a user, so it requires the handle.
    let handle = rsp.response.user_handle.as_deref();
    let owner_ok = if pending.discoverable {
        handle == Some(user.user_handle.as_slice())
    } else {
        pending.user_id.as_deref() == Some(user.id.as_str())
            && handle.is_none_or(|h| h == user.user_handle.as_slice())
    };
    if !owner_ok {
        return Err(unknown_credential());
    }

    let cred = to_webauthn(&row)?;
    pending.state.set_allowed_credentials(vec![cred]);
    let result = match app.webauthn.authenticate_credential(&rsp, &pending.state) {
        Ok(result) => result,
        Err(WebauthnError::CredentialPossibleCompromise) => {
            // Raised only after the signature verified: a genuine signature with a count that
            // went backwards, the signal of a cloned authenticator.
            flag_clone(app, &credential_id, &user.id).await?;
            return Err(map_webauthn_error(
                &WebauthnError::CredentialPossibleCompromise,
                Phase::Login,
            ));
        }
        Err(e) => return Err(map_webauthn_error(&e, Phase::Login)),
    };

    let now = Utc::now().naive_utc();
    let update_id = credential_id.clone();
    let (counter, be, bs) = (
        result.counter(),
        result.backup_eligible(),
        result.backup_state(),
    );
    let recorded = db::run(&app.db, move |conn| {
        db::credentials::record_use(conn, &update_id, counter, be, bs, now)
    })
    .await?;
    if !recorded {
        // Another sign-in presented the same (or a higher) count between our read and write.
        flag_clone(app, &credential_id, &user.id).await?;
        return Err(map_webauthn_error(
            &WebauthnError::CredentialPossibleCompromise,
            Phase::Login,
        ));
    }

    tracing::info!(
        target: "security",
        event = "signin_success",
        user_id = %user.id,
        credential_id = %credential_id,
        discoverable = pending.discoverable,
        "signed in with a passkey"
    );
    Ok(Authenticated {
        user_id: user.id,
        amr: super::amr(result.backup_eligible(), result.user_verified()),
    })
}

async fn flag_clone(app: &AppState, credential_id: &str, user_id: &str) -> Result<(), ApiError> {
    let id = credential_id.to_string();
    db::run(&app.db, move |conn| db::credentials::flag_clone(conn, &id)).await?;
    tracing::warn!(
        target: "security",
        event = "counter_regression",
        user_id = %user_id,
        credential_id = %credential_id,
        "sign count went backwards; credential flagged as possibly cloned"
    );
    Ok(())
}
