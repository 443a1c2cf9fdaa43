//! Why a passkey ceremony was refused. The HTTP layer alone turns each variant into a status,
//! a stable error code and a sentence (`routes/error.rs`), so this list and the public error
//! table cannot drift apart.

use webauthn_rs_core::error::WebauthnError;

use super::username::InputError;
use crate::fault::{fault_conversions, Fault};

/// Which ceremony an error comes from: the same refusal has a different status in each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Creating a credential: sign-up, or adding a passkey to an account.
    Registration,
    SignIn,
}

#[derive(Debug, thiserror::Error)]
pub enum CeremonyError {
    #[error("invalid input: {0}")]
    Input(#[from] InputError),
    #[error("the body is not a WebAuthn response: {0}")]
    UnreadableResponse(&'static str),
    #[error("the credential type is not public-key")]
    WrongCredentialType,
    #[error("the credential id does not match rawId")]
    IdMismatch,
    #[error("the authenticator's response is malformed or inconsistent")]
    MalformedResponse,
    #[error("the attestation object could not be read")]
    UnreadableAttestation,
    #[error("the credential id is longer than 1023 bytes")]
    CredentialIdTooLong,
    #[error("authenticatorData holds more or less than its flags announce")]
    AuthenticatorDataMismatch,
    #[error("the ceremony ran in a frame on another site")]
    CrossOrigin,
    #[error("the payload's public key is not the attested one")]
    PublicKeyMismatch,
    #[error("the ceremony expired or was already used")]
    ChallengeExpired,
    #[error("the username is taken")]
    UsernameTaken,
    #[error("the credential is already registered")]
    CredentialExists,
    #[error("the account no longer exists")]
    AccountGone,
    #[error("the account is disabled")]
    AccountDisabled,
    #[error("sign-up is closed, or the invite is not valid")]
    RegistrationClosed,
    #[error("too many ceremonies from this address")]
    RateLimited,
    #[error("the response answers another challenge")]
    ChallengeMismatch,
    #[error("the response comes from another origin")]
    OriginMismatch,
    #[error("the credential belongs to another RP ID")]
    RpIdMismatch,
    #[error("the device did not verify the user")]
    UserVerificationRequired,
    #[error("the credential is not registered")]
    UnknownCredential,
    #[error("the signature counter went backwards")]
    CounterRegression,
    #[error("the signature did not verify")]
    InvalidSignature,
    #[error("the assertion could not be verified")]
    Unverifiable,
    #[error("the new credential could not be verified")]
    InvalidAttestation,
    #[error(transparent)]
    Fault(#[from] Fault),
}

fault_conversions!(CeremonyError);

impl CeremonyError {
    /// webauthn-rs's verdict in our terms. What webauthn-rs reports that has no meaning of its
    /// own here is an unverifiable attestation (registration) or assertion (sign-in).
    pub fn from_webauthn(e: &WebauthnError, phase: Phase) -> CeremonyError {
        use WebauthnError as W;
        match e {
            W::MismatchedChallenge => CeremonyError::ChallengeMismatch,
            W::InvalidRPOrigin | W::CredentialCrossOrigin => CeremonyError::OriginMismatch,
            W::InvalidRPIDHash => CeremonyError::RpIdMismatch,
            W::UserNotVerified | W::UserNotPresent => CeremonyError::UserVerificationRequired,
            W::CredentialNotFound => CeremonyError::UnknownCredential,
            W::CredentialPossibleCompromise => CeremonyError::CounterRegression,
            W::AuthenticationFailure
            | W::SignatureInvalid
            | W::EcdsaPointInvalid
            | W::CertificatePublicKeyInvalid
            | W::RsaParametersInvalid => CeremonyError::InvalidSignature,
            W::CredentialExcludedFromRequest | W::CredentialAlreadyExists => {
                CeremonyError::CredentialExists
            }
            // Backup flags that contradict what the credential said before: a failed
            // verification of a sign-in, a malformed answer at registration.
            W::CredentialBackupEligibilityInconsistent if phase == Phase::SignIn => {
                CeremonyError::Unverifiable
            }
            W::ParseCBORFailure(_)
            | W::ParseJSONFailure(_)
            | W::ParseNOMFailure
            | W::ParseInsufficientBytesAvailable
            | W::InvalidClientDataType
            | W::MissingAttestationCredentialData
            | W::CredentialBackupEligibilityInconsistent
            | W::CredentialMayNotBeHardwareBound => CeremonyError::MalformedResponse,
            _ if phase == Phase::Registration => CeremonyError::InvalidAttestation,
            _ => CeremonyError::Unverifiable,
        }
    }
}
