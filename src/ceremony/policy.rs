//! The one policy both ceremonies follow: how strongly the device must verify the person, and
//! which credentials a ceremony may use.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use webauthn_rs_core::proto::{
    AttestationConveyancePreference, AuthenticatorAttachment, Credential, UserVerificationPolicy,
};

use super::settings::{Attachment, Attestation, UserVerification, WebauthnSettings};
use crate::db::models::StoredCredential;
use crate::fault::Fault;

/// User verification, for creating and for using a credential alike.
pub fn user_verification(settings: &WebauthnSettings) -> UserVerificationPolicy {
    match settings.user_verification {
        UserVerification::Required => UserVerificationPolicy::Required,
        UserVerification::Preferred => UserVerificationPolicy::Preferred,
    }
}

pub fn attachment(settings: &WebauthnSettings) -> Option<AuthenticatorAttachment> {
    settings.authenticator_attachment.map(|a| match a {
        Attachment::Platform => AuthenticatorAttachment::Platform,
        Attachment::CrossPlatform => AuthenticatorAttachment::CrossPlatform,
    })
}

pub fn attestation(settings: &WebauthnSettings) -> AttestationConveyancePreference {
    match settings.attestation {
        Attestation::None => AttestationConveyancePreference::None,
        Attestation::Indirect => AttestationConveyancePreference::Indirect,
        Attestation::Direct => AttestationConveyancePreference::Direct,
    }
}

/// A stored credential as webauthn-rs needs it, with the counter and backup flags taken from
/// their own columns (which sign-ins update) rather than from the serialized copy.
pub fn usable(row: &StoredCredential) -> Result<Credential, Fault> {
    let mut cred: Credential =
        serde_json::from_str(&row.credential_json).map_err(Fault::internal)?;
    cred.counter = u32::try_from(row.sign_count).unwrap_or(u32::MAX);
    cred.backup_eligible = row.backup_eligible;
    cred.backup_state = row.backup_state;
    Ok(cred)
}

/// The ids of a user's credentials, which a new registration must not repeat.
pub fn excluded(rows: &[StoredCredential]) -> Vec<Vec<u8>> {
    rows.iter()
        .filter_map(|c| URL_SAFE_NO_PAD.decode(&c.credential_id).ok())
        .collect()
}

/// RFC 8176 methods for a passkey sign-in: `hwk` for a device-bound key, `swk` for one that can
/// be synced, `user` for presence, and `mfa` when the device verified the person as well.
pub fn amr(backup_eligible: bool, user_verified: bool) -> Vec<String> {
    let mut amr = vec![
        if backup_eligible { "swk" } else { "hwk" }.to_string(),
        "user".to_string(),
    ];
    if user_verified {
        amr.push("mfa".to_string());
    }
    amr
}
