//! Passkey registration and sign-in as domain operations: no HTTP types here. Handlers pass in
//! the parsed request, the ceremony id and the raw body, and get back what happened or a
//! [`CeremonyError`].
//!
//! Ceremony state lives only in the ephemeral store, keyed by a random ceremony id that the
//! client holds; finishing takes it out atomically, so a ceremony can be finished once,
//! whether the attempt succeeds or fails.

mod error;
mod policy;
mod registration;
mod response;
mod settings;
mod sign_in;
mod username;

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;
use webauthn_rs_core::proto::{CreationChallengeResponse, PublicKeyCredentialRequestOptions};
use webauthn_rs_core::WebauthnCore;

pub use error::{CeremonyError, Phase};
pub use registration::{NewPasskey, Registered, RegistrationRequest};
pub use response::FinishBody;
pub use settings::{
    Attachment, Attestation, ClonedCredentials, RegistrationMode, RegistrationSettings,
    ResidentKey, UserVerification, WebauthnSettings,
};
pub use sign_in::SignInRequest;
pub use username::{parse_email, InputError, Username};

use crate::db::Db;
use crate::ephemeral::{CeremonyKind, Ephemeral, Key};
use crate::events::Caller;
use crate::fault::Fault;
use crate::ids::{CeremonyId, SessionSecret, UserId};
use crate::metadata::AuthenticatorNames;
use crate::metrics::Metrics;
use crate::rate_limit::RateLimits;
use crate::session::{Prepared, Session, Sessions};
use crate::signing::{AccessGrant, TokenIssuer};

/// Everything the ceremonies need, and nothing else.
#[derive(Clone)]
pub struct Passkeys {
    pub webauthn: Arc<WebauthnCore>,
    /// `[webauthn]`.
    pub settings: Arc<WebauthnSettings>,
    /// `registration.mode`.
    pub registration: RegistrationMode,
    pub db: Db,
    pub store: Ephemeral,
    pub sessions: Sessions,
    pub tokens: TokenIssuer,
    pub limits: RateLimits,
    pub metrics: Arc<Metrics>,
    pub authenticators: AuthenticatorNames,
    /// Keys the fake credential ids answered for unknown usernames, so they are stable.
    pub enumeration_secret: Arc<Vec<u8>>,
}

/// What `begin` hands the client, in WebAuthn's JSON shapes: creation options (sign-up,
/// adding a passkey) or request options (sign-in, re-authentication).
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum CeremonyOptions {
    Create(CreationChallengeResponse),
    Get(RequestOptions),
}

/// `{"publicKey": <request options>}` (`PublicKeyCredentialRequestOptionsJSON`).
#[derive(Debug, Serialize)]
pub struct RequestOptions {
    #[serde(rename = "publicKey")]
    pub public_key: PublicKeyCredentialRequestOptions,
}

/// A ceremony that has begun: the options for the browser, and the id under which its state
/// waits (the client hands it back to finish).
pub struct CeremonyStarted {
    pub options: CeremonyOptions,
    pub ceremony_id: CeremonyId,
}

/// A person who has just proved possession of a passkey: their new session and access token.
pub struct SignedIn {
    pub user_id: UserId,
    pub session: SessionSecret,
    pub access_token: String,
    pub expires_in: u64,
}

/// Which ceremony a `finish` names: the ceremony cookie (browsers on the issuer's origin), the
/// `ceremony` field of its body (clients without cookies), or both when they agree. Two that
/// disagree are refused before either ceremony is touched.
pub fn bound_ceremony(
    cookie: Option<CeremonyId>,
    field: Option<&CeremonyId>,
) -> Result<Option<CeremonyId>, CeremonyError> {
    match (cookie, field) {
        (Some(c), Some(f)) if c != *f => Err(CeremonyError::ChallengeMismatch),
        (Some(c), _) => Ok(Some(c)),
        (None, f) => Ok(f.cloned()),
    }
}

impl Passkeys {
    /// Keeps a ceremony's state for the challenge TTL under a new random id, which is returned.
    async fn keep<T: Serialize>(
        &self,
        kind: CeremonyKind,
        pending: &T,
    ) -> Result<CeremonyId, Fault> {
        let ceremony_id = CeremonyId::new();
        self.store
            .put_json(
                Key::Ceremony(kind, ceremony_id.expose()),
                pending,
                self.settings.challenge_ttl,
            )
            .await?;
        Ok(ceremony_id)
    }

    /// Takes a ceremony's state out in one atomic step. `None` when missing, expired or
    /// already used.
    async fn take<T: DeserializeOwned>(
        &self,
        kind: CeremonyKind,
        ceremony_id: Option<&CeremonyId>,
    ) -> Result<Option<T>, Fault> {
        let Some(id) = ceremony_id else {
            return Ok(None);
        };
        Ok(self
            .store
            .take_json(Key::Ceremony(kind, id.expose()))
            .await?)
    }

    async fn check_rate_limit(&self, client_addr: &str) -> Result<(), CeremonyError> {
        if self.limits.allow_ceremony_start(client_addr).await? {
            Ok(())
        } else {
            Err(CeremonyError::RateLimited)
        }
    }

    /// The end of a successful sign-up: a new session (replacing `old_session`) and an access
    /// token for the service's own audience.
    async fn start_session(
        &self,
        session: Session,
        old_session: Option<&SessionSecret>,
        caller: &Caller,
    ) -> Result<SignedIn, Fault> {
        let prepared = self.sessions.record(session, caller).await?;
        self.activate_session(prepared, old_session).await
    }

    /// Puts a session whose record is written in the store (replacing `old_session`) and mints
    /// the access token that comes with it.
    async fn activate_session(
        &self,
        prepared: Prepared,
        old_session: Option<&SessionSecret>,
    ) -> Result<SignedIn, Fault> {
        let s = &prepared.session;
        let (access_token, _) = self
            .tokens
            .access_token(&AccessGrant {
                sub: &s.user_id,
                auth_time: s.auth_time,
                amr: &s.amr,
                client_id: None,
                audiences: None,
                scope: "openid",
                family: None,
            })
            .map_err(Fault::internal)?;
        let user_id = s.user_id.clone();
        let session = self.sessions.activate(prepared, old_session).await?;
        Ok(SignedIn {
            user_id,
            session,
            access_token,
            expires_in: self.tokens.access_token_lifetime(),
        })
    }

    fn count(&self, kind: &str) {
        self.metrics.inc(
            "passkey_idp_ceremonies_total",
            &[("kind", kind), ("outcome", "ok")],
        );
    }
}
