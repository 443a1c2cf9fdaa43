//! Reading what the browser sends back: the WebAuthn JSON (`credential.toJSON()`), and what
//! webauthn-rs does not keep of an attestation object.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::DeserializeOwned;
use webauthn_rs_core::proto::{PublicKeyCredential, RegisterPublicKeyCredential};

use super::settings::WebauthnSettings;
use super::CeremonyError;
use crate::ids::CeremonyId;

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

/// A `finish` body, read once: its JSON (or why it is not JSON, said when the ceremony is
/// finished, since a failed finish uses up the ceremony too) and the top-level `"ceremony"`
/// field that binds it (a string of at most 128 characters; anything else counts as absent).
pub struct FinishBody {
    json: Result<serde_json::Value, &'static str>,
    ceremony: Option<CeremonyId>,
}

impl FinishBody {
    pub fn read(bytes: &[u8]) -> FinishBody {
        let json =
            serde_json::from_slice::<serde_json::Value>(bytes).map_err(|e| what_is_wrong(&e));
        let ceremony = json
            .as_ref()
            .ok()
            .and_then(|v| v.get("ceremony"))
            .and_then(serde_json::Value::as_str)
            .filter(|c| !c.is_empty() && c.len() <= 128)
            .map(|c| CeremonyId::presented(c.to_string()));
        FinishBody { json, ceremony }
    }

    /// The ceremony the body names with its `ceremony` field.
    pub fn ceremony(&self) -> Option<&CeremonyId> {
        self.ceremony.as_ref()
    }
}

/// WebAuthn's limit on a credential id (Level 3, §5.8.3 and §6.5.1).
pub const MAX_CREDENTIAL_ID: usize = 1023;

/// Parses a WebAuthn JSON response and checks what serde cannot: its `type`, that `id` is the
/// base64url form of `rawId`, and that the id is no longer than WebAuthn allows.
pub fn parse<T: CredentialJson>(body: FinishBody) -> Result<T, CeremonyError> {
    Ok(parse_with_user(body)?.0)
}

/// What a library payload (the passwordless-id library's 2.x registration) says of the user
/// the authenticator was given: the handle is the bytes of its `user.id` string.
pub struct LibraryUser {
    pub handle: Vec<u8>,
    pub name: Option<String>,
    /// `response.publicKey`: the new key as SPKI DER, which must be the attested key.
    pub public_key_spki: Option<Vec<u8>>,
}

/// [`parse`], also accepting base64url with `=` padding (libraries that encode with `btoa`),
/// and returning the `user` such a payload carries.
pub fn parse_with_user<T: CredentialJson>(
    body: FinishBody,
) -> Result<(T, Option<LibraryUser>), CeremonyError> {
    let mut value = body.json.map_err(CeremonyError::UnreadableResponse)?;
    let user = match version_1(&mut value)? {
        Some(user) => user,
        None => library_user(&value)?,
    };
    strip_padding(&mut value);
    let parsed: T = serde_json::from_value(value)
        .map_err(|e| CeremonyError::UnreadableResponse(what_is_wrong(&e)))?;
    let (id, raw_id, type_) = parsed.id_raw_id_and_type();
    if type_ != "public-key" {
        return Err(CeremonyError::WrongCredentialType);
    }
    if raw_id.len() > MAX_CREDENTIAL_ID {
        return Err(CeremonyError::CredentialIdTooLong);
    }
    if raw_id.is_empty() || id.trim_end_matches('=') != URL_SAFE_NO_PAD.encode(raw_id) {
        return Err(CeremonyError::IdMismatch);
    }
    Ok((parsed, user))
}

/// Rewrites a passwordless-id 1.x payload into the standard shape, which is then verified like
/// any other. Registration `{username, credential: {id, publicKey, algorithm},
/// authenticatorData, clientData, attestationData?}` becomes an attestation object (the
/// library's own, or a `none` one around `authenticatorData`) whose key must be `publicKey`;
/// the handle the library gave the authenticator is SHA-256 of `passwordless.id-user:` and
/// the username. Authentication `{credentialId, authenticatorData, clientData, signature,
/// userHandle?}` maps field by field. `Ok(Some(None))`: an authentication, no user.
fn version_1(value: &mut serde_json::Value) -> Result<Option<Option<LibraryUser>>, CeremonyError> {
    if value.get("credentialId").is_some() {
        version_1_authentication(value)?;
        return Ok(Some(None));
    }
    version_1_registration(value)
}

fn text(v: &serde_json::Value, key: &str) -> Option<String> {
    v.get(key).and_then(|x| x.as_str()).map(str::to_string)
}

/// 1.x authentication, field by field.
fn version_1_authentication(value: &mut serde_json::Value) -> Result<(), CeremonyError> {
    use serde_json::json;
    if let Some(credential_id) = text(value, "credentialId") {
        let mut response = json!({
            "authenticatorData": text(value, "authenticatorData").ok_or(CeremonyError::MalformedResponse)?,
            "clientDataJSON": text(value, "clientData").ok_or(CeremonyError::MalformedResponse)?,
            "signature": text(value, "signature").ok_or(CeremonyError::MalformedResponse)?,
        });
        if let Some(handle) = text(value, "userHandle") {
            response["userHandle"] = json!(handle);
        }
        let ceremony = value.get("ceremony").cloned();
        *value = json!({
            "id": credential_id.trim_end_matches('='),
            "rawId": credential_id,
            "type": "public-key",
            "clientExtensionResults": {},
            "response": response,
        });
        if let Some(c) = ceremony {
            value["ceremony"] = c;
        }
    }
    Ok(())
}

/// 1.x registration, as an attestation object whose key must be the payload's `publicKey`.
fn version_1_registration(
    value: &mut serde_json::Value,
) -> Result<Option<Option<LibraryUser>>, CeremonyError> {
    use serde_json::json;
    let (Some(credential), Some(username)) =
        (value.get("credential").cloned(), text(value, "username"))
    else {
        return Ok(None);
    };
    let decode = |s: String| {
        URL_SAFE_NO_PAD
            .decode(s.trim_end_matches('='))
            .map_err(|_| CeremonyError::MalformedResponse)
    };
    let id = text(&credential, "id").ok_or(CeremonyError::MalformedResponse)?;
    let spki = decode(text(&credential, "publicKey").ok_or(CeremonyError::MalformedResponse)?)?;
    let attestation_object = match text(value, "attestationData") {
        Some(own) => own,
        None => {
            let auth_data =
                decode(text(value, "authenticatorData").ok_or(CeremonyError::MalformedResponse)?)?;
            let mut none = std::collections::BTreeMap::new();
            none.insert(
                serde_cbor_2::Value::Text("fmt".into()),
                serde_cbor_2::Value::Text("none".into()),
            );
            none.insert(
                serde_cbor_2::Value::Text("attStmt".into()),
                serde_cbor_2::Value::Map(Default::default()),
            );
            none.insert(
                serde_cbor_2::Value::Text("authData".into()),
                serde_cbor_2::Value::Bytes(auth_data),
            );
            let bytes = serde_cbor_2::to_vec(&serde_cbor_2::Value::Map(none))
                .map_err(|_| CeremonyError::MalformedResponse)?;
            URL_SAFE_NO_PAD.encode(bytes)
        }
    };
    let ceremony = value.get("ceremony").cloned();
    *value = json!({
        "id": id.trim_end_matches('='),
        "rawId": id,
        "type": "public-key",
        "clientExtensionResults": {},
        "response": {
            "attestationObject": attestation_object,
            "clientDataJSON": text(value, "clientData").ok_or(CeremonyError::MalformedResponse)?,
        },
    });
    if let Some(c) = ceremony {
        value["ceremony"] = c;
    }
    Ok(Some(Some(LibraryUser {
        handle: openssl::sha::sha256(format!("passwordless.id-user:{username}").as_bytes())
            .to_vec(),
        name: Some(username),
        public_key_spki: Some(spki),
    })))
}

/// The `user` of a library registration payload: `{"id": <string>, "name"?: <string>}`.
fn library_user(value: &serde_json::Value) -> Result<Option<LibraryUser>, CeremonyError> {
    let Some(user) = value.get("user") else {
        return Ok(None);
    };
    let id = user["id"]
        .as_str()
        .filter(|id| !id.is_empty() && id.len() <= 64)
        .ok_or(CeremonyError::MalformedResponse)?;
    let public_key_spki = match value.pointer("/response/publicKey") {
        None | Some(serde_json::Value::Null) => None,
        Some(key) => Some(
            key.as_str()
                .and_then(|k| URL_SAFE_NO_PAD.decode(k.trim_end_matches('=')).ok())
                .ok_or(CeremonyError::MalformedResponse)?,
        ),
    };
    Ok(Some(LibraryUser {
        // The library hands the authenticator the string's UTF-16 code units as bytes.
        handle: id.encode_utf16().map(|unit| unit as u8).collect(),
        name: user["name"].as_str().map(str::to_string),
        public_key_spki,
    }))
}

/// Whether an SPKI (DER) public key is the COSE key the authenticator attested: the same curve
/// point (EC2), modulus and exponent (RSA) or key bytes (OKP).
pub fn spki_is_cose_key(spki: &[u8], cose: &[u8]) -> bool {
    use openssl::bn::BigNumContext;
    use openssl::ec::PointConversionForm;
    use openssl::pkey::{Id, PKey};
    use serde_cbor_2::Value as Cbor;
    let (Ok(key), Ok(Cbor::Map(cose))) = (
        PKey::public_key_from_der(spki),
        serde_cbor_2::from_slice::<Cbor>(cose),
    ) else {
        return false;
    };
    let bytes = |label: i128| match cose.get(&Cbor::Integer(label)) {
        Some(Cbor::Bytes(b)) => Some(b.clone()),
        _ => None,
    };
    match key.id() {
        Id::EC => {
            let (Ok(ec), Some(x), Some(y)) = (key.ec_key(), bytes(-2), bytes(-3)) else {
                return false;
            };
            let Ok(mut ctx) = BigNumContext::new() else {
                return false;
            };
            ec.public_key()
                .to_bytes(ec.group(), PointConversionForm::UNCOMPRESSED, &mut ctx)
                .is_ok_and(|point| point == [&[4u8][..], &x, &y].concat())
        }
        Id::RSA => {
            let (Ok(rsa), Some(n), Some(e)) = (key.rsa(), bytes(-1), bytes(-2)) else {
                return false;
            };
            rsa.n().to_vec() == n && rsa.e().to_vec() == e
        }
        Id::ED25519 => {
            let Some(x) = bytes(-2) else { return false };
            key.raw_public_key().is_ok_and(|raw| raw == x)
        }
        _ => false,
    }
}

/// Drops base64 `=` padding from the binary fields (`rawId` and those of `response`).
fn strip_padding(value: &mut serde_json::Value) {
    fn strip(v: &mut serde_json::Value) {
        if let Some(s) = v.as_str() {
            if s.ends_with('=') {
                *v = serde_json::Value::String(s.trim_end_matches('=').to_string());
            }
        }
    }
    if let Some(raw_id) = value.get_mut("rawId") {
        strip(raw_id);
    }
    if let Some(response) = value.get_mut("response").and_then(|r| r.as_object_mut()) {
        for (_, field) in response.iter_mut() {
            strip(field);
        }
    }
}

/// What a person can act on, without the parser's internals (no positions, no quoted input).
fn what_is_wrong(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            "it is not valid JSON"
        }
        serde_json::error::Category::Data => "a field is missing or has the wrong type",
        serde_json::error::Category::Io => "it could not be read",
    }
}

/// Where the browser says the ceremony ran (clientDataJSON), which webauthn-rs does not check:
/// inside a frame on another site (`crossOrigin: true`, `topOrigin`) only when
/// `webauthn.allow_cross_origin` says so, and then only under a listed top origin.
pub fn check_embedding(
    client_data_json: &[u8],
    settings: &WebauthnSettings,
) -> Result<(), CeremonyError> {
    #[derive(serde::Deserialize)]
    struct Embedding {
        #[serde(rename = "crossOrigin", default)]
        cross_origin: Option<bool>,
        #[serde(rename = "topOrigin", default)]
        top_origin: Option<String>,
    }
    let embedding: Embedding =
        serde_json::from_slice(client_data_json).map_err(|_| CeremonyError::MalformedResponse)?;
    let framed = embedding.cross_origin == Some(true) || embedding.top_origin.is_some();
    if !framed {
        return Ok(());
    }
    let top_allowed = embedding
        .top_origin
        .as_ref()
        .is_none_or(|top| settings.allowed_top_origins.iter().any(|o| o == top));
    if settings.allow_cross_origin && top_allowed {
        Ok(())
    } else {
        Err(CeremonyError::CrossOrigin)
    }
}

/// authenticatorData must be exactly what its flags announce: 37 bytes, the attested
/// credential data when AT is set (with a credential id of at most 1,023 bytes), one CBOR map of
/// extensions when ED is set, and nothing after.
pub fn check_authenticator_data(data: &[u8]) -> Result<(), CeremonyError> {
    const AT: u8 = 0x40;
    const ED: u8 = 0x80;
    let flags = *data
        .get(32)
        .ok_or(CeremonyError::AuthenticatorDataMismatch)?;
    let mut pos = 37;
    if data.len() < pos {
        return Err(CeremonyError::AuthenticatorDataMismatch);
    }
    if flags & AT != 0 {
        let len = data
            .get(pos + 16..pos + 18)
            .ok_or(CeremonyError::AuthenticatorDataMismatch)?;
        let id_len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        if id_len > MAX_CREDENTIAL_ID {
            return Err(CeremonyError::CredentialIdTooLong);
        }
        pos += 18 + id_len;
        pos += cbor_len(
            data.get(pos..)
                .ok_or(CeremonyError::AuthenticatorDataMismatch)?,
        )?;
    }
    if flags & ED != 0 {
        pos += cbor_len(
            data.get(pos..)
                .ok_or(CeremonyError::AuthenticatorDataMismatch)?,
        )?;
    }
    if pos == data.len() {
        Ok(())
    } else {
        Err(CeremonyError::AuthenticatorDataMismatch)
    }
}

/// The length of the one CBOR value at the start of `bytes`.
fn cbor_len(bytes: &[u8]) -> Result<usize, CeremonyError> {
    use serde::Deserialize as _;
    let mut de = serde_cbor_2::Deserializer::from_slice(bytes);
    serde_cbor_2::Value::deserialize(&mut de)
        .map_err(|_| CeremonyError::AuthenticatorDataMismatch)?;
    Ok(de.byte_offset())
}

/// What webauthn-rs does not keep on its `Credential`: the AAGUID and the COSE public key bytes
/// as the authenticator sent them. Read from the attestation object once it has verified.
pub struct AttestedDetails {
    pub aaguid: uuid::Uuid,
    pub public_key: Vec<u8>,
}

/// The `authData` of an attestation object.
pub fn attested_auth_data(attestation_object: &[u8]) -> Option<Vec<u8>> {
    let value: serde_cbor_2::Value = serde_cbor_2::from_slice(attestation_object).ok()?;
    let serde_cbor_2::Value::Map(map) = value else {
        return None;
    };
    match map.get(&serde_cbor_2::Value::Text("authData".into()))? {
        serde_cbor_2::Value::Bytes(b) => Some(b.clone()),
        _ => None,
    }
}

impl AttestedDetails {
    pub fn parse(attestation_object: &[u8]) -> Option<AttestedDetails> {
        use serde::Deserialize as _;
        let auth_data = attested_auth_data(attestation_object)?;
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
