//! Sign-in, username-first (allowCredentials) or usernameless (discoverable credentials).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use webauthn_rs_core::error::WebauthnError;
use webauthn_rs_core::proto::{AllowCredentials, AuthenticationState, PublicKeyCredential};

use super::settings::ClonedCredentials;
use super::{
    policy, response, CeremonyError, CeremonyOptions, CeremonyStarted, FinishBody, Passkeys, Phase,
    RequestOptions, SignedIn, Username,
};
use crate::db::credentials::CredentialUse;
use crate::db::models::{StoredCredential, User};
use crate::ephemeral::CeremonyKind;
use crate::events::{Caller, Event};
use crate::ids::{CeremonyId, CredentialId, SessionSecret, UserId};
use crate::session::{Prepared, Session};

#[derive(Debug, Default, Deserialize)]
pub struct SignInRequest {
    pub username: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct PendingSignIn {
    state: AuthenticationState,
    /// The user named at `begin` (username-first), or none (discoverable). For an unknown
    /// username this is none too, and no credential can match the fake allowCredentials.
    user_id: Option<String>,
    discoverable: bool,
}

impl PendingSignIn {
    /// The credential must belong to the user named at begin (username-first), and the
    /// authenticator's userHandle, when given, must be that user's handle. Usernameless
    /// sign-in has no other way to tie the credential to a user, so it requires the handle.
    /// `handle` is the user handle the credential was created with.
    fn allows(&self, owner: &User, handle: &[u8], user_handle: Option<&[u8]>) -> bool {
        if self.discoverable {
            user_handle == Some(handle)
        } else {
            self.user_id.as_deref() == Some(owner.id.as_str())
                && user_handle.is_none_or(|h| h == handle)
        }
    }
}

/// What a finishing assertion got as far as, for the event that records its refusal.
#[derive(Debug, Default)]
struct Attempt {
    /// A ceremony was taken (so the attempt was rate limited at its begin).
    taken: bool,
    user_id: Option<String>,
    credential_id: Option<String>,
}

impl Passkeys {
    pub async fn begin_sign_in(
        &self,
        req: SignInRequest,
        client_addr: &str,
    ) -> Result<CeremonyStarted, CeremonyError> {
        self.check_rate_limit(client_addr).await?;
        let username = match req.username.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => Some(Username::parse(raw)?),
        };
        let (creds, user_id) = match &username {
            None => (Vec::new(), None),
            Some(name) => match self
                .db
                .accounts()
                .credentials_for_username(name.as_str())
                .await?
            {
                Some((id, rows)) if !rows.is_empty() => {
                    let creds = rows
                        .iter()
                        .map(policy::usable)
                        .collect::<Result<Vec<_>, _>>()?;
                    (creds, Some(id))
                }
                _ => (Vec::new(), None),
            },
        };
        let known_user = user_id.is_some();
        let (mut options, state) = self.request_options(creds)?;
        if let Some(username) = &username {
            let allowed = &mut options.public_key.allow_credentials;
            if !known_user {
                // No account enumeration: an unknown username gets an answer drawn from the
                // same kinds of credentials real users have, stable for that username,
                // belonging to nobody.
                *allowed = fake_allow_credentials(&self.enumeration_secret, username.as_str());
            }
            // Transports are only a hint, and what is stored varies (a library that reported
            // none, an older browser): no username-first answer carries them, so none has a
            // shape that tells a real account from a made-up one.
            for entry in allowed.iter_mut() {
                entry.transports = None;
            }
        }
        let pending = PendingSignIn {
            state,
            user_id,
            discoverable: username.is_none(),
        };
        let ceremony_id = self.keep(CeremonyKind::SignIn, &pending).await?;
        Ok(CeremonyStarted {
            options: CeremonyOptions::Get(options),
            ceremony_id,
        })
    }

    /// Sign-in: verifies the assertion, records the credential's use, and gives the person a
    /// new session and an access token.
    pub async fn sign_in(
        &self,
        ceremony_id: Option<&CeremonyId>,
        body: FinishBody,
        old_session: Option<&SessionSecret>,
        caller: &Caller,
    ) -> Result<SignedIn, CeremonyError> {
        let mut attempt = Attempt::default();
        let (_, prepared) = match self
            .finish_assertion(
                CeremonyKind::SignIn,
                ceremony_id,
                body,
                caller,
                &mut attempt,
            )
            .await
        {
            Ok(done) => done,
            Err(e) => {
                self.record_refusal(&e, &attempt, caller).await;
                return Err(e);
            }
        };
        self.count("login");
        Ok(self.activate_session(prepared, old_session).await?)
    }

    /// Stores a `signin_failure` event for a refused assertion whose ceremony was real (so the
    /// number of events is bounded by the rate limit of `begin`); the HTTP layer, which knows
    /// the refusal's code, reports it. Counter regressions have their own event; faults are
    /// not the person's doing. A failure to store is logged only.
    async fn record_refusal(&self, e: &CeremonyError, attempt: &Attempt, caller: &Caller) {
        if !attempt.taken
            || matches!(
                e,
                CeremonyError::Fault(_) | CeremonyError::CounterRegression
            )
        {
            return;
        }
        let event = caller.event(
            Event::SigninFailure,
            attempt.user_id.as_deref(),
            attempt.credential_id.as_deref(),
        );
        if let Err(e) = self.db.events().record(event.row()).await {
            tracing::warn!(error = %e, "a refused sign-in could not be stored as an event");
        }
    }

    /// Request options for `creds` (none: any discoverable credential) under the shared policy,
    /// and the state to keep.
    fn request_options(
        &self,
        creds: Vec<webauthn_rs_core::proto::Credential>,
    ) -> Result<(RequestOptions, AuthenticationState), CeremonyError> {
        let refused = |e| CeremonyError::from_webauthn(&e, Phase::SignIn);
        let builder = self
            .webauthn
            .new_challenge_authenticate_builder(
                creds,
                Some(policy::user_verification(&self.settings)),
            )
            .map_err(refused)?
            .allow_backup_eligible_upgrade(true);
        let (rcr, state) = self
            .webauthn
            .generate_challenge_authenticate(builder)
            .map_err(refused)?;
        Ok((
            RequestOptions {
                public_key: rcr.public_key,
            },
            state,
        ))
    }

    /// Starts a re-authentication of the signed-in `user_id`: only their passkeys will do.
    pub async fn begin_reauthentication(
        &self,
        user_id: &UserId,
    ) -> Result<CeremonyStarted, CeremonyError> {
        let (_, rows) = self
            .db
            .accounts()
            .user_with_credentials(user_id)
            .await?
            .ok_or(CeremonyError::AccountGone)?;
        let creds = rows
            .iter()
            .map(policy::usable)
            .collect::<Result<Vec<_>, _>>()?;
        let (options, state) = self.request_options(creds)?;
        let pending = PendingSignIn {
            state,
            user_id: Some(user_id.to_string()),
            discoverable: false,
        };
        let ceremony_id = self.keep(CeremonyKind::Reauthentication, &pending).await?;
        Ok(CeremonyStarted {
            options: CeremonyOptions::Get(options),
            ceremony_id,
        })
    }

    /// Finishes a re-authentication: the same person, a new session (replacing `session_id`)
    /// with a fresh sign-in time.
    pub async fn reauthenticate(
        &self,
        user_id: &UserId,
        ceremony_id: Option<&CeremonyId>,
        body: FinishBody,
        session: &SessionSecret,
        caller: &Caller,
    ) -> Result<SignedIn, CeremonyError> {
        let (user, prepared) = self
            .finish_assertion(
                CeremonyKind::Reauthentication,
                ceremony_id,
                body,
                caller,
                &mut Attempt::default(),
            )
            .await?;
        if user.id != user_id.as_str() {
            return Err(CeremonyError::UnknownCredential);
        }
        Ok(self.activate_session(prepared, Some(session)).await?)
    }

    /// The common end of an assertion ceremony: take its state, check the response, verify it
    /// with the owner's credential; returns the owner and the methods the assertion proves.
    async fn finish_assertion(
        &self,
        kind: CeremonyKind,
        ceremony_id: Option<&CeremonyId>,
        body: FinishBody,
        caller: &Caller,
        attempt: &mut Attempt,
    ) -> Result<(User, Prepared), CeremonyError> {
        let pending = self.take(kind, ceremony_id).await?;
        attempt.taken = pending.is_some();
        let rsp: PublicKeyCredential = response::parse(body)?;
        let mut pending: PendingSignIn = pending.ok_or(CeremonyError::ChallengeExpired)?;
        response::check_embedding(&rsp.response.client_data_json, &self.settings)?;
        response::check_authenticator_data(&rsp.response.authenticator_data)?;

        let credential_id = URL_SAFE_NO_PAD.encode(&rsp.raw_id);
        let (row, user) = self
            .db
            .accounts()
            .credential_with_owner(&credential_id)
            .await?
            .ok_or(CeremonyError::UnknownCredential)?;
        attempt.user_id = Some(user.id.clone());
        attempt.credential_id = Some(row.credential_id.clone());
        let handle = row.user_handle.as_deref().unwrap_or(&user.user_handle);
        if !pending.allows(&user, handle, rsp.response.user_handle.as_deref()) {
            return Err(CeremonyError::UnknownCredential);
        }
        let prepared = self
            .verify_assertion(&rsp, &mut pending, &row, &user, caller)
            .await?;
        Ok((user, prepared))
    }

    /// Verifies the assertion with the stored credential and records its use, the event and
    /// the new session's record in one transaction; returns that session, ready to activate.
    async fn verify_assertion(
        &self,
        rsp: &PublicKeyCredential,
        pending: &mut PendingSignIn,
        row: &StoredCredential,
        user: &User,
        caller: &Caller,
    ) -> Result<Prepared, CeremonyError> {
        pending
            .state
            .set_allowed_credentials(vec![policy::usable(row)?]);
        let result = match self.webauthn.authenticate_credential(rsp, &pending.state) {
            Ok(result) => result,
            Err(WebauthnError::CredentialPossibleCompromise) => {
                // Raised only after the signature verified: a genuine signature with a count
                // that went backwards, the signal of a cloned authenticator.
                return Err(self.flag_clone(&row.credential_id, &user.id, caller).await);
            }
            Err(e) => return Err(CeremonyError::from_webauthn(&e, Phase::SignIn)),
        };
        self.may_sign_in(row, user, caller).await?;
        let use_ = CredentialUse {
            counter: result.counter(),
            backup_eligible: result.backup_eligible(),
            backup_state: result.backup_state(),
        };
        let event = caller
            .event(
                Event::SigninSuccess,
                Some(&user.id),
                Some(&row.credential_id),
            )
            .username(&user.username)
            .detail(if pending.discoverable {
                "discoverable"
            } else {
                "username-first"
            });
        let session = Session::signed_in(
            UserId::from(user.id.as_str()),
            CredentialId::from(row.credential_id.as_str()),
            policy::amr(result.backup_eligible(), result.user_verified()),
        );
        let prepared = self.sessions.prepare(session, caller)?;
        let recorded = self
            .db
            .credentials()
            .record_sign_in(
                &row.credential_id,
                use_,
                event.row(),
                Some(prepared.row.clone()),
            )
            .await?;
        if !recorded {
            // Another sign-in presented the same (or a higher) count between our read and write.
            return Err(self.flag_clone(&row.credential_id, &user.id, caller).await);
        }
        event.report();
        Ok(prepared)
    }

    /// After a genuine signature: a passkey flagged as possibly copied is refused until an
    /// operator clears the flag (unless `webauthn.cloned_credentials = "flag"`), and a disabled
    /// account is refused and told so (403), since the person proved who they are.
    async fn may_sign_in(
        &self,
        row: &StoredCredential,
        user: &User,
        caller: &Caller,
    ) -> Result<(), CeremonyError> {
        let (user_id, credential_id) = (Some(user.id.as_str()), Some(row.credential_id.as_str()));
        if row.clone_suspected && self.settings.cloned_credentials == ClonedCredentials::Block {
            caller
                .event(Event::ClonedCredentialRefused, user_id, credential_id)
                .report();
            let event = caller.event(Event::SigninFailure, user_id, credential_id);
            self.db.events().record(event.row()).await?;
            return Err(CeremonyError::CounterRegression);
        }
        if !user.is_active() {
            caller
                .event(Event::DisabledAccountRefused, user_id, None)
                .report();
            return Err(CeremonyError::AccountDisabled);
        }
        Ok(())
    }

    /// Flags a credential whose counter went backwards; the refusal to answer.
    async fn flag_clone(
        &self,
        credential_id: &str,
        user_id: &str,
        caller: &Caller,
    ) -> CeremonyError {
        let event = caller.event(Event::CounterRegression, Some(user_id), Some(credential_id));
        if let Err(e) = self
            .db
            .credentials()
            .flag_clone(credential_id, event.row())
            .await
        {
            return e.into();
        }
        event.report();
        CeremonyError::CounterRegression
    }
}

/// What an unknown username is answered with: one to three credentials (most people have one
/// or two), with the id lengths of common passkey providers and security keys, all derived from
/// an HMAC of the username so the answer is the same every time and from every instance.
fn fake_allow_credentials(secret: &[u8], username: &str) -> Vec<AllowCredentials> {
    const ID_LENGTHS: [usize; 5] = [16, 20, 32, 32, 64];
    let seed = crate::random::hmac_sha256(secret, format!("fake-credential:{username}").as_bytes());
    let count = match seed[0] % 10 {
        0..=5 => 1,
        6..=8 => 2,
        _ => 3,
    };
    (0..count)
        .map(|i| {
            let id_material = [
                crate::random::hmac_sha256(
                    secret,
                    format!("fake-credential:{username}:{i}:a").as_bytes(),
                ),
                crate::random::hmac_sha256(
                    secret,
                    format!("fake-credential:{username}:{i}:b").as_bytes(),
                ),
            ]
            .concat();
            let id_len = ID_LENGTHS[usize::from(seed[1 + i]) % ID_LENGTHS.len()];
            AllowCredentials {
                type_: "public-key".to_string(),
                id: id_material[..id_len].to_vec(),
                transports: None,
            }
        })
        .collect()
}
