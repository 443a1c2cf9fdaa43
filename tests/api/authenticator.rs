//! A software WebAuthn authenticator ("soft passkey") for integration tests.
//!
//! It consumes the JSON options a relying party sends
//! (`{"publicKey": PublicKeyCredentialCreationOptionsJSON}` /
//! `{"publicKey": PublicKeyCredentialRequestOptionsJSON}`, WebAuthn Level 3
//! JSON with base64url strings) and produces `RegistrationResponseJSON` /
//! `AuthenticationResponseJSON` values, as a browser plus platform
//! authenticator would.
//!
//! Credentials are always P-256 / ES256 (COSE alg -7), attestation is always
//! `"none"`. A [`Tamper`] value can make one response wrong in exactly one way
//! for negative tests.
//!
//! Dependencies: `openssl`, `serde_cbor_2`, `serde_json`, `base64`.

use std::collections::BTreeMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::sign::Signer;
use serde_cbor_2::Value as Cbor;
use serde_json::{json, Value as Json};

/// COSE algorithm identifier for ES256.
pub const COSE_ALG_ES256: i64 = -7;

const FLAG_UP: u8 = 0x01;
const FLAG_UV: u8 = 0x04;
const FLAG_BE: u8 = 0x08;
const FLAG_BS: u8 = 0x10;
const FLAG_AT: u8 = 0x40;

/// A software authenticator holding any number of P-256 credentials.
#[derive(Debug, Clone)]
pub struct SoftAuthenticator {
    credentials: Vec<SoftCredential>,
    /// Whether responses carry the UV (user verified) flag.
    pub uv: bool,
    /// Whether responses carry the BE (backup eligible) flag.
    pub backup_eligible: bool,
    /// Whether responses carry the BS (backup state) flag.
    pub backup_state: bool,
    /// How much the sign count grows on each assertion (0 = no counter).
    pub counter_step: u32,
    /// AAGUID placed in attested credential data (default: all zeros).
    pub aaguid: [u8; 16],
}

/// One credential held by a [`SoftAuthenticator`].
#[derive(Debug, Clone)]
pub struct SoftCredential {
    /// Credential id (32 random bytes).
    pub id: Vec<u8>,
    /// User handle (`publicKey.user.id` of the creation options).
    pub user_handle: Vec<u8>,
    /// RP id the credential is scoped to.
    pub rp_id: String,
    key: PKey<Private>,
    /// Current signature counter (last value reported).
    pub counter: u32,
}

/// Tweaks that make a response wrong in exactly one way, for negative tests.
#[derive(Debug, Default, Clone)]
pub struct Tamper {
    /// clientDataJSON.origin override.
    pub origin: Option<String>,
    /// Compute rpIdHash from this string instead of the real rp id.
    pub rp_id_hash_of: Option<String>,
    /// clientDataJSON.challenge override (raw bytes, encoded base64url).
    pub challenge: Option<Vec<u8>>,
    /// Override the UV flag for this one response.
    pub uv: Option<bool>,
    /// Override the UP flag for this one response.
    pub up: Option<bool>,
    /// Force this sign count in authenticatorData (the stored counter is not changed).
    pub counter: Option<u32>,
    /// Corrupt the signature after signing (one bit flipped in the middle
    /// of the DER signature, inside the `r` integer so the DER stays well formed).
    pub flip_signature_byte: bool,
    /// clientDataJSON.type override.
    pub type_: Option<String>,
    /// Assertion without userHandle.
    pub omit_user_handle: bool,
    /// Claim the ceremony ran in a frame under this top origin (crossOrigin: true).
    pub top_origin: Option<String>,
    /// Bytes appended to authenticatorData (and signed with it).
    pub trailing_auth_data: Vec<u8>,
    /// Length of a newly created credential id (default 32).
    pub credential_id_len: Option<usize>,
}

impl Default for SoftAuthenticator {
    fn default() -> Self {
        Self::new()
    }
}

impl SoftAuthenticator {
    /// A device-bound authenticator: uv = true, no backup flags, counter_step = 1.
    pub fn new() -> Self {
        SoftAuthenticator {
            credentials: Vec::new(),
            uv: true,
            backup_eligible: false,
            backup_state: false,
            counter_step: 1,
            aaguid: [0u8; 16],
        }
    }

    /// Like a synced passkey provider: backup_eligible = true, backup_state = true,
    /// counter_step = 0 (counter stays 0).
    pub fn synced() -> Self {
        SoftAuthenticator {
            backup_eligible: true,
            backup_state: true,
            counter_step: 0,
            ..Self::new()
        }
    }

    /// All credentials held, oldest first.
    pub fn credentials(&self) -> &[SoftCredential] {
        &self.credentials
    }

    /// `navigator.credentials.create()`: `options` is
    /// `{"publicKey": PublicKeyCredentialCreationOptionsJSON}` (a bare
    /// `PublicKeyCredentialCreationOptionsJSON` is accepted too).
    /// Returns `RegistrationResponseJSON`.
    pub fn create(
        &mut self,
        options: &Json,
        origin: &str,
        tamper: &Tamper,
    ) -> Result<Json, String> {
        let pk = public_key_options(options);

        let rp_id = match pk
            .get("rp")
            .and_then(|rp| rp.get("id"))
            .and_then(Json::as_str)
        {
            Some(id) => id.to_string(),
            None => host_of(origin)?,
        };
        let challenge = b64_field(pk, "challenge")?;
        let user_handle = pk
            .get("user")
            .and_then(|u| u.get("id"))
            .and_then(Json::as_str)
            .ok_or_else(|| "options missing publicKey.user.id".to_string())
            .and_then(b64_decode)?;

        // pubKeyCredParams: we only do ES256; refuse if the RP excludes it.
        if let Some(params) = pk.get("pubKeyCredParams").and_then(Json::as_array) {
            if !params.is_empty()
                && !params
                    .iter()
                    .any(|p| p.get("alg").and_then(Json::as_i64) == Some(COSE_ALG_ES256))
            {
                return Err("no supported algorithm in pubKeyCredParams".to_string());
            }
        }

        // excludeCredentials
        let excluded = credential_id_list(pk, "excludeCredentials")?;
        if self
            .credentials
            .iter()
            .any(|c| c.rp_id == rp_id && excluded.contains(&c.id))
        {
            return Err("excluded".to_string());
        }

        // New key pair and credential id.
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).map_err(|e| e.to_string())?;
        let ec = EcKey::generate(&group).map_err(|e| e.to_string())?;
        let (x, y) = {
            let mut ctx = BigNumContext::new().map_err(|e| e.to_string())?;
            let mut x = BigNum::new().map_err(|e| e.to_string())?;
            let mut y = BigNum::new().map_err(|e| e.to_string())?;
            ec.public_key()
                .affine_coordinates_gfp(&group, &mut x, &mut y, &mut ctx)
                .map_err(|e| e.to_string())?;
            (
                x.to_vec_padded(32).map_err(|e| e.to_string())?,
                y.to_vec_padded(32).map_err(|e| e.to_string())?,
            )
        };
        let key = PKey::from_ec_key(ec).map_err(|e| e.to_string())?;
        let spki = key.public_key_to_der().map_err(|e| e.to_string())?;
        let mut cred_id = vec![0u8; tamper.credential_id_len.unwrap_or(32)];
        openssl::rand::rand_bytes(&mut cred_id).map_err(|e| e.to_string())?;

        // COSE_Key {1: 2, 3: -7, -1: 1, -2: x, -3: y} (canonical order via Value's Ord).
        let mut cose = BTreeMap::new();
        cose.insert(Cbor::Integer(1), Cbor::Integer(2));
        cose.insert(Cbor::Integer(3), Cbor::Integer(COSE_ALG_ES256 as i128));
        cose.insert(Cbor::Integer(-1), Cbor::Integer(1));
        cose.insert(Cbor::Integer(-2), Cbor::Bytes(x));
        cose.insert(Cbor::Integer(-3), Cbor::Bytes(y));
        let cose_bytes = serde_cbor_2::to_vec(&Cbor::Map(cose)).map_err(|e| e.to_string())?;

        // authenticatorData with attested credential data.
        let sign_count = tamper.counter.unwrap_or(0);
        let mut auth_data = self.auth_data_prefix(&rp_id, tamper, FLAG_AT, sign_count);
        auth_data.extend_from_slice(&self.aaguid);
        auth_data.extend_from_slice(&(cred_id.len() as u16).to_be_bytes());
        auth_data.extend_from_slice(&cred_id);
        auth_data.extend_from_slice(&cose_bytes);

        // attestationObject {"fmt": "none", "attStmt": {}, "authData": bstr}
        let mut att = BTreeMap::new();
        att.insert(Cbor::Text("fmt".into()), Cbor::Text("none".into()));
        att.insert(Cbor::Text("attStmt".into()), Cbor::Map(BTreeMap::new()));
        att.insert(
            Cbor::Text("authData".into()),
            Cbor::Bytes(auth_data.clone()),
        );
        let att_obj = serde_cbor_2::to_vec(&Cbor::Map(att)).map_err(|e| e.to_string())?;

        let client_data = client_data_json("webauthn.create", &challenge, origin, tamper);

        self.credentials.push(SoftCredential {
            id: cred_id.clone(),
            user_handle,
            rp_id,
            key,
            counter: 0,
        });

        let id = b64(&cred_id);
        Ok(json!({
            "id": id,
            "rawId": id,
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64(&client_data),
                "attestationObject": b64(&att_obj),
                "transports": ["internal"],
                "authenticatorData": b64(&auth_data),
                "publicKeyAlgorithm": COSE_ALG_ES256,
                "publicKey": b64(&spki),
            }
        }))
    }

    /// `navigator.credentials.get()`: `options` is
    /// `{"publicKey": PublicKeyCredentialRequestOptionsJSON}` (bare accepted too).
    /// Picks the most recently created credential for the rp id that is in
    /// `allowCredentials` (any credential for the rp id if that list is
    /// empty/absent, i.e. discoverable). Returns `AuthenticationResponseJSON`.
    pub fn get(&mut self, options: &Json, origin: &str, tamper: &Tamper) -> Result<Json, String> {
        let pk = public_key_options(options);
        let rp_id = request_rp_id(pk, origin)?;
        let allowed = credential_id_list(pk, "allowCredentials")?;
        let idx = self
            .credentials
            .iter()
            .rposition(|c| c.rp_id == rp_id && (allowed.is_empty() || allowed.contains(&c.id)))
            .ok_or_else(|| format!("no credential for rp id {rp_id:?}"))?;
        self.assert_with_index(idx, pk, &rp_id, origin, tamper)
    }

    /// Same as [`get`](Self::get) but uses exactly the credential with this id,
    /// regardless of `allowCredentials` and of the credential's rp id (the
    /// rpIdHash is still computed from the request's rp id).
    pub fn get_with(
        &mut self,
        cred_id: &[u8],
        options: &Json,
        origin: &str,
        tamper: &Tamper,
    ) -> Result<Json, String> {
        let pk = public_key_options(options);
        let rp_id = request_rp_id(pk, origin)?;
        let idx = self
            .credentials
            .iter()
            .position(|c| c.id == cred_id)
            .ok_or_else(|| "unknown credential id".to_string())?;
        self.assert_with_index(idx, pk, &rp_id, origin, tamper)
    }

    fn assert_with_index(
        &mut self,
        idx: usize,
        pk: &Json,
        rp_id: &str,
        origin: &str,
        tamper: &Tamper,
    ) -> Result<Json, String> {
        let challenge = b64_field(pk, "challenge")?;
        let sign_count = match tamper.counter {
            Some(c) => c,
            None => {
                let cred = &mut self.credentials[idx];
                cred.counter = cred.counter.wrapping_add(self.counter_step);
                cred.counter
            }
        };
        let mut auth_data = self.auth_data_prefix(rp_id, tamper, 0, sign_count);
        auth_data.extend_from_slice(&tamper.trailing_auth_data);
        let client_data = client_data_json("webauthn.get", &challenge, origin, tamper);

        let cred = &self.credentials[idx];
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&openssl::sha::sha256(&client_data));
        let mut signer =
            Signer::new(MessageDigest::sha256(), &cred.key).map_err(|e| e.to_string())?;
        signer.update(&signed).map_err(|e| e.to_string())?;
        let mut sig = signer.sign_to_vec().map_err(|e| e.to_string())?;
        if tamper.flip_signature_byte {
            flip_middle_bit(&mut sig);
        }

        let id = b64(&cred.id);
        let mut response = json!({
            "clientDataJSON": b64(&client_data),
            "authenticatorData": b64(&auth_data),
            "signature": b64(&sig),
        });
        if !tamper.omit_user_handle {
            response["userHandle"] = Json::String(b64(&cred.user_handle));
        }
        Ok(json!({
            "id": id,
            "rawId": id,
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": response,
        }))
    }

    /// rpIdHash || flags || signCount.
    fn auth_data_prefix(
        &self,
        rp_id: &str,
        tamper: &Tamper,
        extra_flags: u8,
        count: u32,
    ) -> Vec<u8> {
        let hash_input = tamper.rp_id_hash_of.as_deref().unwrap_or(rp_id);
        let mut flags = extra_flags;
        if tamper.up.unwrap_or(true) {
            flags |= FLAG_UP;
        }
        if tamper.uv.unwrap_or(self.uv) {
            flags |= FLAG_UV;
        }
        if self.backup_eligible {
            flags |= FLAG_BE;
        }
        if self.backup_state {
            flags |= FLAG_BS;
        }
        let mut out = Vec::with_capacity(37);
        out.extend_from_slice(&openssl::sha::sha256(hash_input.as_bytes()));
        out.push(flags);
        out.extend_from_slice(&count.to_be_bytes());
        out
    }
}

/// `options["publicKey"]`, or `options` itself if it is already unwrapped.
fn public_key_options(options: &Json) -> &Json {
    options.get("publicKey").unwrap_or(options)
}

fn request_rp_id(pk: &Json, origin: &str) -> Result<String, String> {
    match pk.get("rpId").and_then(Json::as_str) {
        Some(id) => Ok(id.to_string()),
        None => host_of(origin),
    }
}

/// `{"type":..,"challenge":..,"origin":..,"crossOrigin":false}` in that key order.
fn client_data_json(type_: &str, challenge: &[u8], origin: &str, tamper: &Tamper) -> Vec<u8> {
    let type_ = tamper.type_.as_deref().unwrap_or(type_);
    let challenge = tamper.challenge.as_deref().unwrap_or(challenge);
    let origin = tamper.origin.as_deref().unwrap_or(origin);
    let embedding = match &tamper.top_origin {
        Some(top) => format!(
            "\"crossOrigin\":true,\"topOrigin\":{}",
            Json::String(top.clone())
        ),
        None => "\"crossOrigin\":false".to_string(),
    };
    format!(
        "{{\"type\":{},\"challenge\":{},\"origin\":{},{embedding}}}",
        Json::String(type_.to_string()),
        Json::String(b64(challenge)),
        Json::String(origin.to_string()),
    )
    .into_bytes()
}

/// Host part of an origin such as `https://login.example.com:8443`.
fn host_of(origin: &str) -> Result<String, String> {
    let rest = origin
        .split_once("://")
        .map(|(_, r)| r)
        .ok_or_else(|| format!("origin {origin:?} has no scheme"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority
        .rsplit_once('@')
        .map(|(_, h)| h)
        .unwrap_or(authority);
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        authority.split(':').next().unwrap_or("")
    };
    if host.is_empty() {
        return Err(format!("origin {origin:?} has no host"));
    }
    Ok(host.to_ascii_lowercase())
}

/// Ids of a `[{"type":"public-key","id":"<b64url>"}]` list (absent → empty).
fn credential_id_list(pk: &Json, field: &str) -> Result<Vec<Vec<u8>>, String> {
    match pk.get(field) {
        None | Some(Json::Null) => Ok(Vec::new()),
        Some(Json::Array(items)) => items
            .iter()
            .map(|item| {
                item.get("id")
                    .and_then(Json::as_str)
                    .ok_or_else(|| format!("{field} entry without id"))
                    .and_then(b64_decode)
            })
            .collect(),
        Some(_) => Err(format!("{field} is not an array")),
    }
}

fn b64_field(pk: &Json, field: &str) -> Result<Vec<u8>, String> {
    pk.get(field)
        .and_then(Json::as_str)
        .ok_or_else(|| format!("options missing publicKey.{field}"))
        .and_then(b64_decode)
}

fn b64(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

/// Lenient base64url decode: also accepts padding and the standard alphabet.
fn b64_decode(s: &str) -> Result<Vec<u8>, String> {
    let normalized: String = s
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    URL_SAFE_NO_PAD
        .decode(normalized.as_bytes())
        .map_err(|e| format!("bad base64url {s:?}: {e}"))
}

/// Flip one bit in the middle of a DER ECDSA signature, choosing the middle
/// byte of the `r` INTEGER so the DER structure stays parseable and only the
/// value is wrong. Falls back to the middle byte of the buffer.
fn flip_middle_bit(sig: &mut [u8]) {
    // 30 len 02 rlen r... 02 slen s...
    if sig.len() > 6 && sig[0] == 0x30 && sig[2] == 0x02 {
        let rlen = sig[3] as usize;
        if rlen > 0 && 4 + rlen <= sig.len() {
            sig[4 + rlen / 2] ^= 0x01;
            return;
        }
    }
    let mid = sig.len() / 2;
    if let Some(b) = sig.get_mut(mid) {
        *b ^= 0x01;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_parsing() {
        assert_eq!(host_of("https://example.com").unwrap(), "example.com");
        assert_eq!(host_of("http://localhost:8080/x").unwrap(), "localhost");
        assert_eq!(host_of("https://[::1]:443").unwrap(), "::1");
        assert!(host_of("example.com").is_err());
    }

    #[test]
    fn raw_formats() {
        let mut a = SoftAuthenticator::new();
        let opts = json!({"publicKey": {
            "rp": {"name": "x"},
            "user": {"id": b64(b"user-1"), "name": "a", "displayName": "A"},
            "challenge": b64(&[7u8; 32]),
            "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
        }});
        let r = a
            .create(&opts, "https://rp.example:8443", &Tamper::default())
            .unwrap();
        let cred = &a.credentials()[0];
        assert_eq!(cred.rp_id, "rp.example");
        assert_eq!(cred.user_handle, b"user-1");
        let ad = b64_decode(r["response"]["authenticatorData"].as_str().unwrap()).unwrap();
        assert_eq!(&ad[..32], &openssl::sha::sha256(b"rp.example"));
        assert_eq!(ad[32], FLAG_UP | FLAG_UV | FLAG_AT);
        assert_eq!(&ad[33..37], &[0, 0, 0, 0]);
        assert_eq!(&ad[37..53], &[0u8; 16]);
        assert_eq!(&ad[53..55], &[0, 32]);
        assert_eq!(&ad[55..87], cred.id.as_slice());
        // canonical COSE key header: a5 01 02 03 26 20 01 21 58 20
        assert_eq!(
            &ad[87..97],
            &[0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20]
        );
        assert_eq!(ad.len(), 87 + 77);
        let cd = b64_decode(r["response"]["clientDataJSON"].as_str().unwrap()).unwrap();
        assert_eq!(
            String::from_utf8(cd).unwrap(),
            format!(
                "{{\"type\":\"webauthn.create\",\"challenge\":\"{}\",\"origin\":\"https://rp.example:8443\",\"crossOrigin\":false}}",
                b64(&[7u8; 32])
            )
        );
        // excludeCredentials
        let mut excl = opts.clone();
        excl["publicKey"]["excludeCredentials"] = json!([{"type": "public-key", "id": r["id"]}]);
        assert_eq!(
            a.create(&excl, "https://rp.example", &Tamper::default())
                .unwrap_err(),
            "excluded"
        );
        // omit_user_handle
        let req = json!({"publicKey": {"challenge": b64(&[1u8; 32]), "rpId": "rp.example"}});
        let t = Tamper {
            omit_user_handle: true,
            ..Default::default()
        };
        let g = a.get(&req, "https://rp.example", &t).unwrap();
        assert!(g["response"].get("userHandle").is_none());
        let g = a
            .get(&req, "https://rp.example", &Tamper::default())
            .unwrap();
        assert_eq!(g["response"]["userHandle"], json!(b64(b"user-1")));
        let ad = b64_decode(g["response"]["authenticatorData"].as_str().unwrap()).unwrap();
        assert_eq!(ad.len(), 37);
        assert_eq!(&ad[33..37], &[0, 0, 0, 2]);
        // unknown rp
        let other = json!({"publicKey": {"challenge": b64(&[1u8; 32]), "rpId": "other.example"}});
        assert!(a
            .get(&other, "https://other.example", &Tamper::default())
            .is_err());
    }

    #[test]
    fn flip_keeps_der_shape() {
        let mut sig = vec![0x30, 0x08, 0x02, 0x02, 0xaa, 0xbb, 0x02, 0x02, 0xcc, 0xdd];
        flip_middle_bit(&mut sig);
        assert_eq!(
            sig,
            vec![0x30, 0x08, 0x02, 0x02, 0xaa, 0xba, 0x02, 0x02, 0xcc, 0xdd]
        );
    }
}
