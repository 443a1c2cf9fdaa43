//! Creating credentials: sign-up (a new account with its first passkey) and adding a passkey
//! to an existing account. `begin` issues creation options and keeps the ceremony state in the
//! store; finishing verifies the authenticator's answer and only then writes, in one
//! transaction.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use webauthn_rs_core::proto::{
    AuthenticatorTransport, Credential, RegisterPublicKeyCredential, RegistrationState,
    RequestRegistrationExtensions, ResidentKeyRequirement,
};

use super::response::{self, AttestedDetails, LibraryUser};
use super::settings::{RegistrationMode, ResidentKey};
use super::username::{parse_display_name, parse_email};
use super::{
    policy, CeremonyError, CeremonyOptions, CeremonyStarted, FinishBody, Passkeys, Phase, SignedIn,
    Username,
};
use crate::db::accounts::{Created, Signup};
use crate::db::models::{InviteRow, NewCredential, NewUser};
use crate::ephemeral::CeremonyKind;
use crate::events::{BrowserFamily, Caller, Event, Happened};
use crate::fault::Fault;
use crate::ids::{CeremonyId, CredentialId, SessionSecret, UserId};
use crate::session::Session;

#[derive(Debug, Deserialize)]
pub struct RegistrationRequest {
    pub username: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    /// The token of an invite URL (`/register?invite=…`).
    pub invite: Option<String>,
}

/// What the store keeps between begin and finish of a sign-up. Never sent to the browser.
#[derive(Serialize, Deserialize)]
struct PendingRegistration {
    state: RegistrationState,
    user_id: String,
    user_handle: Vec<u8>,
    username: String,
    email: Option<String>,
    display_name: String,
    /// SHA-256 of the invite this sign-up spends when it finishes.
    #[serde(default)]
    invite_sha256: Option<String>,
}

impl PendingRegistration {
    /// The account to create from this sign-up and its verified first passkey, with the
    /// events that record it (stored with it, reported once it is created).
    fn into_signup(
        self,
        credential: NewCredential,
        now: NaiveDateTime,
        caller: &Caller,
    ) -> (Signup, Vec<Happened>) {
        let mut events = vec![caller
            .event(
                Event::PasskeyAdded,
                Some(&self.user_id),
                Some(&credential.credential_id),
            )
            .detail(format!(
                "sign-up, aaguid {}, synced {}",
                credential.aaguid, credential.backup_eligible
            ))];
        if self.invite_sha256.is_some() {
            events.push(caller.event(Event::InviteUsed, Some(&self.user_id), None));
        }
        let signup = Signup {
            user: NewUser {
                id: self.user_id,
                username: self.username,
                email: self.email,
                display_name: self.display_name,
                user_handle: self.user_handle,
                created_at: now,
            },
            credential,
            invite_sha256: self.invite_sha256,
            events: events.iter().map(Happened::row).collect(),
        };
        (signup, events)
    }
}

/// What the store keeps between begin and finish of adding a passkey.
#[derive(Serialize, Deserialize)]
struct PendingAddition {
    state: RegistrationState,
    user_id: String,
    /// The account's username, which a library payload that names its user must name.
    #[serde(default)]
    username: String,
}

/// A library payload names the user it registered (`username`, `user.name`): it must be the
/// ceremony's, as at sign-up so when adding a passkey.
fn same_user(library_user: Option<&LibraryUser>, username: &str) -> Result<(), CeremonyError> {
    match library_user.and_then(|u| u.name.as_deref()) {
        Some(name)
            if Username::parse(name).ok().as_ref().map(Username::as_str) != Some(username) =>
        {
            Err(CeremonyError::MalformedResponse)
        }
        _ => Ok(()),
    }
}

/// A passkey just stored.
pub struct NewPasskey {
    pub id: String,
    pub name: String,
    pub synced: bool,
    /// The provider or model, by AAGUID (name, and icons when the metadata file has them).
    pub authenticator: crate::metadata::Authenticator,
}

/// A new account, signed in.
pub struct Registered {
    pub username: String,
    pub passkey: NewPasskey,
    pub signed_in: SignedIn,
}

impl Passkeys {
    pub async fn begin_registration(
        &self,
        req: RegistrationRequest,
        client_addr: &str,
    ) -> Result<CeremonyStarted, CeremonyError> {
        self.check_rate_limit(client_addr).await?;
        let username = Username::parse(&req.username)?;
        let mut email = parse_email(req.email.as_deref())?;
        let display_name = parse_display_name(req.display_name.as_deref(), &username)?;
        let invite = self.admit(req.invite.as_deref(), &username).await?;
        if let Some(invite) = &invite {
            // The invite's email is the default; the person may give another.
            email = email.or(invite.email.clone());
        }
        if self.db.users().username_exists(username.as_str()).await? {
            return Err(CeremonyError::UsernameTaken);
        }
        let user_handle = crate::random::bytes(32);
        let (options, state) =
            self.creation_options(&user_handle, username.as_str(), &display_name, Vec::new())?;
        let pending = PendingRegistration {
            state,
            user_id: uuid::Uuid::new_v4().to_string(),
            user_handle,
            username: username.as_str().to_string(),
            email,
            display_name,
            invite_sha256: invite.map(|i| i.token_sha256),
        };
        let ceremony_id = self.keep(CeremonyKind::Registration, &pending).await?;
        Ok(CeremonyStarted {
            options,
            ceremony_id,
        })
    }

    /// Sign-up: verifies the new credential, creates the account with it, and signs the
    /// person in.
    pub async fn register(
        &self,
        ceremony_id: Option<&CeremonyId>,
        body: FinishBody,
        old_session: Option<&SessionSecret>,
        caller: &Caller,
    ) -> Result<Registered, CeremonyError> {
        // Take the state first: a failed finish consumes the ceremony as well.
        let pending = self.take(CeremonyKind::Registration, ceremony_id).await?;
        let (reg, library_user): (RegisterPublicKeyCredential, _) =
            response::parse_with_user(body)?;
        let pending: PendingRegistration = pending.ok_or(CeremonyError::ChallengeExpired)?;
        same_user(library_user.as_ref(), &pending.username)?;
        let now = Utc::now().naive_utc();
        let (mut row, credential) =
            self.verified_credential(&reg, &pending.state, &pending.user_id, library_user, now)?;
        row.name = self.default_name(&credential, &row.aaguid, caller);
        // The user's own handle needs no copy on the credential.
        if row.user_handle.as_deref() == Some(pending.user_handle.as_slice()) {
            row.user_handle = None;
        }
        let passkey = NewPasskey {
            id: row.credential_id.clone(),
            name: row.name.clone(),
            synced: credential.backup_eligible,
            authenticator: self.authenticators.lookup(&row.aaguid),
        };
        let (user_id, username) = (pending.user_id.clone(), pending.username.clone());
        let (signup, events) = pending.into_signup(row, now, caller);
        match self.db.accounts().create_with_credential(signup).await? {
            Created::Yes => {}
            Created::UsernameTaken => return Err(CeremonyError::UsernameTaken),
            Created::CredentialExists => return Err(CeremonyError::CredentialExists),
            Created::InviteGone => return Err(CeremonyError::RegistrationClosed),
        }
        self.count("register");
        events.iter().for_each(Happened::report);
        let amr = policy::amr(credential.backup_eligible, credential.user_verified);
        let session = Session::signed_in(
            UserId::from(user_id),
            CredentialId::from(passkey.id.as_str()),
            amr,
        );
        let signed_in = self.start_session(session, old_session, caller).await?;
        Ok(Registered {
            username,
            passkey,
            signed_in,
        })
    }

    /// Whether `registration.mode` lets this sign-up begin: the invite it names (if any) must
    /// be usable, and a username it pins must be this one. Returns the invite.
    async fn admit(
        &self,
        invite: Option<&str>,
        username: &Username,
    ) -> Result<Option<InviteRow>, CeremonyError> {
        let invite = invite.map(str::trim).filter(|t| !t.is_empty());
        match (self.registration, invite) {
            (RegistrationMode::Closed, _) | (RegistrationMode::Invite, None) => {
                Err(CeremonyError::RegistrationClosed)
            }
            (RegistrationMode::Open, None) => Ok(None),
            (_, Some(token)) => {
                let hash = crate::random::sha256_hex(token.as_bytes());
                let row = self
                    .db
                    .invites()
                    .usable(&hash, Utc::now().naive_utc())
                    .await?
                    .ok_or(CeremonyError::RegistrationClosed)?;
                if row
                    .username
                    .as_deref()
                    .is_some_and(|pinned| pinned != username.as_str())
                {
                    return Err(CeremonyError::RegistrationClosed);
                }
                Ok(Some(row))
            }
        }
    }

    /// The invite behind `token` while it can still be used, for the sign-up page to prefill.
    pub async fn usable_invite(&self, token: &str) -> Result<Option<InviteRow>, Fault> {
        let hash = crate::random::sha256_hex(token.as_bytes());
        Ok(self
            .db
            .invites()
            .usable(&hash, Utc::now().naive_utc())
            .await?)
    }

    /// Adding a passkey to an existing account (from the account page, or a recovery session).
    pub async fn begin_adding(&self, user_id: &UserId) -> Result<CeremonyStarted, CeremonyError> {
        let (user, creds) = self
            .db
            .accounts()
            .user_with_credentials(user_id)
            .await?
            .ok_or(CeremonyError::AccountGone)?;
        let exclude = policy::excluded(&creds);
        let (options, state) = self.creation_options(
            &user.user_handle,
            &user.username,
            &user.display_name,
            exclude,
        )?;
        let pending = PendingAddition {
            state,
            user_id: user.id,
            username: user.username,
        };
        let ceremony_id = self.keep(CeremonyKind::AddPasskey, &pending).await?;
        Ok(CeremonyStarted {
            options,
            ceremony_id,
        })
    }

    /// Stores the new passkey. A recovery session that added one has done its one job, and is
    /// ended: the new passkey is the way in now.
    pub async fn add(
        &self,
        user_id: &UserId,
        ceremony_id: Option<&CeremonyId>,
        body: FinishBody,
        recovery_session: Option<&SessionSecret>,
        caller: &Caller,
    ) -> Result<NewPasskey, CeremonyError> {
        let pending = self.take(CeremonyKind::AddPasskey, ceremony_id).await?;
        let (reg, library_user): (RegisterPublicKeyCredential, _) =
            response::parse_with_user(body)?;
        // The ceremony must have been started by this same user.
        let pending: PendingAddition = pending
            .filter(|p: &PendingAddition| p.user_id == user_id.as_str())
            .ok_or(CeremonyError::ChallengeExpired)?;
        same_user(library_user.as_ref(), &pending.username)?;
        let now = Utc::now().naive_utc();
        let (mut row, credential) =
            self.verified_credential(&reg, &pending.state, user_id, library_user, now)?;
        let name = self.default_name(&credential, &row.aaguid, caller);
        let taken: Vec<String> = self
            .db
            .credentials()
            .for_user(user_id)
            .await?
            .into_iter()
            .map(|c| c.name)
            .collect();
        row.name = distinct(name, &taken);
        let passkey = NewPasskey {
            id: row.credential_id.clone(),
            name: row.name.clone(),
            synced: credential.backup_eligible,
            authenticator: self.authenticators.lookup(&row.aaguid),
        };
        let event = caller.event(Event::PasskeyAdded, Some(user_id), Some(&passkey.id));
        if !self.db.credentials().add(row, event.row()).await? {
            return Err(CeremonyError::CredentialExists);
        }
        event.report();
        if let Some(session) = recovery_session {
            self.sessions.end(session).await?;
        }
        Ok(passkey)
    }

    /// Creation options and the state to keep, with the configured policy; `exclude` lists the
    /// user's existing credentials so one authenticator is not registered twice.
    fn creation_options(
        &self,
        user_handle: &[u8],
        username: &str,
        display_name: &str,
        exclude: Vec<Vec<u8>>,
    ) -> Result<(CeremonyOptions, RegistrationState), CeremonyError> {
        let settings = &self.settings;
        let refused = |e| CeremonyError::from_webauthn(&e, Phase::Registration);
        let builder = self
            .webauthn
            .new_challenge_register_builder(user_handle, username, display_name)
            .map_err(refused)?
            .attestation(policy::attestation(settings))
            .authenticator_attachment(policy::attachment(settings))
            .user_verification_policy(policy::user_verification(settings))
            .require_resident_key(settings.resident_key == ResidentKey::Required)
            .exclude_credentials((!exclude.is_empty()).then_some(exclude))
            .extensions(Some(RequestRegistrationExtensions {
                cred_protect: None,
                uvm: None,
                cred_props: Some(true),
                min_pin_length: None,
                hmac_create_secret: None,
            }));
        let (mut ccr, state) = self
            .webauthn
            .generate_challenge_register(builder)
            .map_err(refused)?;
        // The builder knows only "required" or not; "preferred" is a hint to the browser.
        if settings.resident_key == ResidentKey::Preferred {
            if let Some(sel) = ccr.public_key.authenticator_selection.as_mut() {
                sel.resident_key = Some(ResidentKeyRequirement::Preferred);
            }
        }
        Ok((CeremonyOptions::Create(ccr), state))
    }

    /// Verifies a creation response against its ceremony state and builds the row to store for
    /// `user_id`.
    fn verified_credential(
        &self,
        reg: &RegisterPublicKeyCredential,
        state: &RegistrationState,
        user_id: &str,
        library: Option<LibraryUser>,
        now: NaiveDateTime,
    ) -> Result<(NewCredential, Credential), CeremonyError> {
        let public_key_spki = library.as_ref().and_then(|l| l.public_key_spki.as_deref());
        response::check_embedding(&reg.response.client_data_json, &self.settings)?;
        let auth_data = response::attested_auth_data(&reg.response.attestation_object)
            .ok_or(CeremonyError::UnreadableAttestation)?;
        response::check_authenticator_data(&auth_data)?;
        let mut credential = self
            .webauthn
            .register_credential(reg, state, None)
            .map_err(|e| CeremonyError::from_webauthn(&e, Phase::Registration))?;
        // webauthn-rs keeps transports only when an attestation vouches for them. As a hint for
        // later allowCredentials (never a security decision), keep what the browser reported,
        // as WebAuthn recommends.
        if credential.transports.is_none() {
            credential.transports = reg.response.transports.clone();
        }
        let details = AttestedDetails::parse(&reg.response.attestation_object)
            .ok_or(CeremonyError::UnreadableAttestation)?;
        if let Some(spki) = public_key_spki {
            if !response::spki_is_cose_key(spki, &details.public_key) {
                return Err(CeremonyError::PublicKeyMismatch);
            }
        }
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
            transports: serde_json::to_string(&credential.transports).map_err(Fault::internal)?,
            backup_eligible: credential.backup_eligible,
            backup_state: credential.backup_state,
            name: String::new(), // named by the caller, who knows the browser
            created_at: now,
            clone_suspected: false,
            credential_json: serde_json::to_string(&credential).map_err(Fault::internal)?,
            user_handle: library.map(|l| l.handle),
        };
        Ok((row, credential))
    }

    /// A new passkey's name, which the person can change. The account page already shows the
    /// provider beside the name, so the name says what tells passkeys apart: a security key's
    /// model ("YubiKey 5 NFC"); otherwise the browser and system it was made on ("Chrome on
    /// Android", a coarse family, never the User-Agent); failing both, the provider or the kind.
    /// The words are those of the person's pages (`caller.language`): "Chrome unter Android".
    fn default_name(&self, credential: &Credential, aaguid: &str, caller: &Caller) -> String {
        let words = crate::i18n::choose(None, caller.language);
        let known = self.authenticators.lookup(aaguid);
        let provider_known = known.name != crate::metadata::UNKNOWN;
        let made_on = match caller.browser {
            BrowserFamily::Browser {
                name: Some(browser),
                system: Some(system),
            } => Some(words.f(
                "names.browser_on",
                &[("browser", browser), ("system", system)],
            )),
            BrowserFamily::Browser {
                name: Some(browser),
                system: None,
            } => Some(browser.to_string()),
            _ => None,
        };
        // Plugged in or tapped, never inside the device, never synced: a security key.
        let security_key = !credential.backup_eligible
            && credential.transports.as_ref().is_some_and(|ts| {
                !ts.is_empty()
                    && ts.iter().all(|t| {
                        matches!(
                            t,
                            AuthenticatorTransport::Usb
                                | AuthenticatorTransport::Nfc
                                | AuthenticatorTransport::Ble
                        )
                    })
            });
        if provider_known && !credential.backup_eligible {
            known.name
        } else if security_key {
            words.t("names.security_key").to_string()
        } else if let Some(made_on) = made_on {
            made_on
        } else if provider_known {
            known.name
        } else if credential.backup_eligible {
            words.t("names.synced_passkey").to_string()
        } else {
            words.t("names.device_bound_passkey").to_string()
        }
    }
}

/// `name`, or `name 2`, `name 3`, … when the account already has a passkey called that: two
/// rows that read the same cannot be told apart.
fn distinct(name: String, taken: &[String]) -> String {
    if !taken.contains(&name) {
        return name;
    }
    (2..)
        .map(|n| format!("{name} {n}"))
        .find(|candidate| !taken.contains(candidate))
        .unwrap_or(name)
}

#[cfg(test)]
mod naming {
    use super::distinct;

    #[test]
    fn a_repeated_default_name_gets_a_number() {
        let taken = vec![
            "Chrome on Linux".to_string(),
            "Chrome on Linux 2".to_string(),
        ];
        assert_eq!(distinct("Security key".into(), &taken), "Security key");
        assert_eq!(
            distinct("Chrome on Linux".into(), &taken),
            "Chrome on Linux 3"
        );
        assert_eq!(
            distinct("Chrome on Linux".into(), &taken[..1]),
            "Chrome on Linux 2"
        );
    }
}
