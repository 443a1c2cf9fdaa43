//! Reading what the browser sends back: the WebAuthn JSON (`credential.toJSON()`), and what
//! webauthn-rs does not keep of an attestation object.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::DeserializeOwned;
use webauthn_rs_core::proto::{PublicKeyCredential, RegisterPublicKeyCredential};

use super::CeremonyError;

/// A response whose `id`, `rawId` and `type` can be checked against each other.
pub trait CredentialJson: DeserializeOwned {
    fn id_raw_id_and_type(&self) -> (&str, &[u8], &str);
}

impl CredentialJson for RegisterPublicKeyCredential {
    fn id_raw_id_and_type(&self) -> (&str, &[u8], &str) {
        (
            self.id.as_str(),
            self.raw_id.as_slice(),
            self.type_.as_str(),
        )
    }
}

impl CredentialJson for PublicKeyCredential {
    fn id_raw_id_and_type(&self) -> (&str, &[u8], &str) {
        (
            self.id.as_str(),
            self.raw_id.as_slice(),
            self.type_.as_str(),
        )
    }
}

/// Parses a WebAuthn JSON response and checks what serde cannot: its `type`, and that `id`
/// is the base64url form of `rawId`.
pub fn parse<T: CredentialJson>(body: &[u8]) -> Result<T, CeremonyError> {
    let parsed: T = serde_json::from_slice(body)
        .map_err(|e| CeremonyError::UnreadableResponse(first_clause(&e.to_string())))?;
    let (id, raw_id, type_) = parsed.id_raw_id_and_type();
    if type_ != "public-key" {
        return Err(CeremonyError::WrongCredentialType);
    }
    if raw_id.is_empty() || id != URL_SAFE_NO_PAD.encode(raw_id) {
        return Err(CeremonyError::IdMismatch);
    }
    Ok(parsed)
}

/// Serde messages can quote the input; keep only the kind of error and its position.
fn first_clause(message: &str) -> String {
    let cut = message.find(['`', '"']).unwrap_or(message.len());
    message[..cut].trim().trim_end_matches(':').to_string()
}

/// What webauthn-rs does not keep on its `Credential`: the AAGUID and the COSE public key bytes
/// as the authenticator sent them. Read from the attestation object once it has verified.
pub struct AttestedDetails {
    pub aaguid: uuid::Uuid,
    pub public_key: Vec<u8>,
}

impl AttestedDetails {
    pub fn parse(attestation_object: &[u8]) -> Option<AttestedDetails> {
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
