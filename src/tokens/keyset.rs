//! The signing key set in `keys/`: `manifest.json` plus one private key file per key
//! (`<kid>.pem`, PKCS#8, mode 0600). Every write goes to a temporary file that is renamed into
//! place, and a key file is written before the manifest names it and deleted only after the
//! manifest stops naming it, so a reader never sees half a key set.
//!
//! A key's life: `next` (published, not signing) → `active` (signs) → `retiring` (published,
//! not signing) → `retired` (gone, private part deleted); `revoked` is the emergency exit from
//! any state. The rules that decide when a key may move live in [`super::rotation`].

use std::collections::HashSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, EncodingKey};
use openssl::pkey::{PKey, Private};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub const MANIFEST: &str = "manifest.json";
const LOCK_FILE: &str = ".lock";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyState {
    Next,
    Active,
    Retiring,
    Retired,
    Revoked,
}

impl KeyState {
    /// Whether relying services find this key in the JWKS.
    pub fn is_published(self) -> bool {
        matches!(self, KeyState::Next | KeyState::Active | KeyState::Retiring)
    }

    pub fn name(self) -> &'static str {
        match self {
            KeyState::Next => "next",
            KeyState::Active => "active",
            KeyState::Retiring => "retiring",
            KeyState::Retired => "retired",
            KeyState::Revoked => "revoked",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KeyAlg {
    ES256,
    RS256,
    EdDSA,
}

impl KeyAlg {
    pub const ALL: &'static [KeyAlg] = &[KeyAlg::ES256, KeyAlg::RS256, KeyAlg::EdDSA];

    pub fn jwt_algorithm(self) -> Algorithm {
        match self {
            KeyAlg::ES256 => Algorithm::ES256,
            KeyAlg::RS256 => Algorithm::RS256,
            KeyAlg::EdDSA => Algorithm::EdDSA,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            KeyAlg::ES256 => "ES256",
            KeyAlg::RS256 => "RS256",
            KeyAlg::EdDSA => "EdDSA",
        }
    }

    pub fn parse(s: &str) -> Option<KeyAlg> {
        KeyAlg::ALL
            .iter()
            .copied()
            .find(|a| a.name().eq_ignore_ascii_case(s))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Transition {
    pub state: KeyState,
    pub at: DateTime<Utc>,
    /// Who made the change: `cli` or an instance id (scheduled rotation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManifestEntry {
    pub kid: String,
    pub alg: KeyAlg,
    pub state: KeyState,
    pub created_at: DateTime<Utc>,
    pub transitions: Vec<Transition>,
}

impl ManifestEntry {
    pub fn new(kid: String, alg: KeyAlg, state: KeyState, at: DateTime<Utc>, by: &str) -> Self {
        ManifestEntry {
            kid,
            alg,
            state,
            created_at: at,
            transitions: vec![Transition {
                state,
                at,
                by: Some(by.to_string()),
            }],
        }
    }

    /// When the key last entered its current state.
    pub fn since(&self) -> DateTime<Utc> {
        self.transitions
            .iter()
            .rev()
            .find(|t| t.state == self.state)
            .map(|t| t.at)
            .unwrap_or(self.created_at)
    }

    pub fn set_state(&mut self, state: KeyState, at: DateTime<Utc>, by: &str) {
        self.state = state;
        self.transitions.push(Transition {
            state,
            at,
            by: Some(by.to_string()),
        });
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Manifest {
    pub keys: Vec<ManifestEntry>,
}

impl Manifest {
    pub fn find(&self, kid: &str) -> Option<&ManifestEntry> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    pub fn find_mut(&mut self, kid: &str) -> Option<&mut ManifestEntry> {
        self.keys.iter_mut().find(|k| k.kid == kid)
    }

    pub fn in_state(&self, alg: KeyAlg, state: KeyState) -> Option<&ManifestEntry> {
        self.keys.iter().find(|k| k.alg == alg && k.state == state)
    }
}

/// A loaded, published key: its manifest entry, the private part ready for signing (active
/// keys only; no other state signs), and its public JWK.
pub struct SigningKey {
    pub entry: ManifestEntry,
    pub encoding: Option<EncodingKey>,
    pub public_jwk: serde_json::Value,
}

pub struct KeySet {
    keys: Vec<SigningKey>,
}

impl KeySet {
    /// Loads the set, first creating an active key of `alg` when the folder holds no manifest.
    /// Returns the set and the kid of a key it created, if any.
    pub fn load_or_create(dir: &Path, alg: KeyAlg) -> anyhow::Result<(KeySet, Option<String>)> {
        let created = {
            let _lock = lock(dir)?;
            if dir.join(MANIFEST).exists() {
                None
            } else {
                let kid = create_key(dir, alg)?;
                let mut manifest = Manifest::default();
                let now = Utc::now();
                manifest.keys.push(ManifestEntry::new(
                    kid.clone(),
                    alg,
                    KeyState::Active,
                    now,
                    "first start",
                ));
                write_manifest(dir, &manifest)?;
                Some(kid)
            }
        };
        Ok((Self::load(dir, alg)?, created))
    }

    /// Loads and checks the whole set; any inconsistency is an error, never a partial set.
    /// `required` is the algorithm that must have an active key (the access-token algorithm).
    pub fn load(dir: &Path, required: KeyAlg) -> anyhow::Result<KeySet> {
        let manifest = read_manifest(dir)?;
        Self::from_manifest(dir, manifest, required)
    }

    pub fn from_manifest(
        dir: &Path,
        manifest: Manifest,
        required: KeyAlg,
    ) -> anyhow::Result<KeySet> {
        let mut seen = HashSet::new();
        for entry in &manifest.keys {
            if !seen.insert(entry.kid.as_str()) {
                bail!("the manifest lists kid {} twice", entry.kid);
            }
        }
        for &alg in KeyAlg::ALL {
            let active = manifest
                .keys
                .iter()
                .filter(|k| k.alg == alg && k.state == KeyState::Active)
                .count();
            if active > 1 {
                bail!(
                    "the key set has {active} active {} keys; exactly one may sign",
                    alg.name()
                );
            }
        }
        let mut keys = Vec::new();
        for entry in manifest.keys.into_iter().filter(|e| e.state.is_published()) {
            let pkey = read_private_key(dir, &entry.kid)?;
            let public_jwk = public_jwk(&pkey, entry.alg).with_context(|| {
                format!("key {}: not a valid {} key", entry.kid, entry.alg.name())
            })?;
            if public_jwk["kid"] != entry.kid.as_str() {
                bail!(
                    "key {}: the private key file does not match its kid",
                    entry.kid
                );
            }
            let encoding = match entry.state {
                KeyState::Active => Some(encoding_key(&pkey, entry.alg)?),
                _ => None,
            };
            keys.push(SigningKey {
                entry,
                encoding,
                public_jwk,
            });
        }
        let set = KeySet { keys };
        if set.active(required).is_none() {
            bail!(
                "the key set has no active {} key; run `passkey-idp keys rotate --alg {}`",
                required.name(),
                required.name()
            );
        }
        Ok(set)
    }

    pub fn active(&self, alg: KeyAlg) -> Option<&SigningKey> {
        self.keys
            .iter()
            .find(|k| k.entry.alg == alg && k.entry.state == KeyState::Active)
    }

    /// The published key with this kid, for verifying a token it signed.
    pub fn published(&self, kid: &str) -> Option<&SigningKey> {
        self.keys.iter().find(|k| k.entry.kid == kid)
    }

    /// The public JWKS document: published keys only, public parameters only.
    pub fn jwks(&self) -> serde_json::Value {
        let keys: Vec<_> = self.keys.iter().map(|k| k.public_jwk.clone()).collect();
        json!({ "keys": keys })
    }
}

/// An exclusive lock on the key folder, held while a manifest is read, changed and written, so
/// that two writers (the command line, an instance's scheduler) never lose each other's change.
pub struct DirLock {
    _file: fs::File,
}

pub fn lock(dir: &Path) -> anyhow::Result<DirLock> {
    create_private_dir(dir)?;
    let path = dir.join(LOCK_FILE);
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    file.lock()
        .with_context(|| format!("cannot lock {}", path.display()))?;
    Ok(DirLock { _file: file })
}

/// Creates the key folder readable by its owner only (an existing folder is left as it is:
/// its permissions are the operator's choice).
fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))
}

pub fn key_path(dir: &Path, kid: &str) -> PathBuf {
    dir.join(format!("{kid}.pem"))
}

pub fn read_manifest(dir: &Path) -> anyhow::Result<Manifest> {
    let path = dir.join(MANIFEST);
    let text =
        fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{} is not a valid key manifest", path.display()))
}

pub fn write_manifest(dir: &Path, manifest: &Manifest) -> anyhow::Result<()> {
    let text = serde_json::to_vec_pretty(manifest)?;
    write_atomic(&dir.join(MANIFEST), &text)
}

/// Writes a file readable by its owner only, atomically (temporary file, fsync, rename).
fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| anyhow!("{} has no parent folder", path.display()))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("key"),
        std::process::id(),
        crate::random::token().get(..8).unwrap_or("0")
    ));
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    fs::rename(&tmp, path).with_context(|| format!("cannot move {} into place", path.display()))?;
    Ok(())
}

fn read_private_key(dir: &Path, kid: &str) -> anyhow::Result<PKey<Private>> {
    let pem = fs::read(key_path(dir, kid))
        .with_context(|| format!("key {kid}: cannot read its private key file"))?;
    PKey::private_key_from_pem(&pem)
        .with_context(|| format!("key {kid}: the private key file is not valid PEM"))
}

/// Deletes a key's private part (after the manifest has stopped naming it as published).
pub fn delete_private_key(dir: &Path, kid: &str) -> anyhow::Result<()> {
    match fs::remove_file(key_path(dir, kid)) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("key {kid}: cannot delete its private key file")),
    }
}

/// Generates a key pair and writes its private part; returns its kid. The caller adds it to
/// the manifest (under the folder lock).
pub fn create_key(dir: &Path, alg: KeyAlg) -> anyhow::Result<String> {
    create_private_dir(dir)?;
    let pkey = match alg {
        KeyAlg::ES256 => {
            let group = openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1)?;
            PKey::from_ec_key(openssl::ec::EcKey::generate(&group)?)?
        }
        KeyAlg::RS256 => PKey::from_rsa(openssl::rsa::Rsa::generate(2048)?)?,
        KeyAlg::EdDSA => PKey::generate_ed25519()?,
    };
    let kid = public_jwk(&pkey, alg)?["kid"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow!("no kid"))?;
    write_atomic(&key_path(dir, &kid), &pkey.private_key_to_pem_pkcs8()?)?;
    Ok(kid)
}

/// What jsonwebtoken signs with: PKCS#1 DER for RSA, PKCS#8 DER for the others.
fn encoding_key(pkey: &PKey<Private>, alg: KeyAlg) -> anyhow::Result<EncodingKey> {
    Ok(match alg {
        KeyAlg::ES256 => EncodingKey::from_ec_der(&pkey.private_key_to_pkcs8()?),
        KeyAlg::RS256 => EncodingKey::from_rsa_der(&pkey.rsa()?.private_key_to_der()?),
        KeyAlg::EdDSA => EncodingKey::from_ed_der(&pkey.private_key_to_pkcs8()?),
    })
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The public JWK of a private key, with `use`, `alg` and its RFC 7638 thumbprint as `kid`.
/// Checks that the key is of the algorithm it is filed under (and RSA keys of 2048+ bits).
fn public_jwk(pkey: &PKey<Private>, alg: KeyAlg) -> anyhow::Result<serde_json::Value> {
    let (mut jwk, canonical) = match alg {
        KeyAlg::ES256 => {
            let ec = pkey.ec_key().context("not an EC key")?;
            if ec.group().curve_name() != Some(openssl::nid::Nid::X9_62_PRIME256V1) {
                bail!("not a P-256 key");
            }
            let mut ctx = openssl::bn::BigNumContext::new()?;
            let mut x = openssl::bn::BigNum::new()?;
            let mut y = openssl::bn::BigNum::new()?;
            ec.public_key()
                .affine_coordinates(ec.group(), &mut x, &mut y, &mut ctx)?;
            let (x, y) = (b64(&x.to_vec_padded(32)?), b64(&y.to_vec_padded(32)?));
            (
                json!({ "kty": "EC", "crv": "P-256", "x": x, "y": y }),
                format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#),
            )
        }
        KeyAlg::RS256 => {
            let rsa = pkey.rsa().context("not an RSA key")?;
            if rsa.size() < 256 {
                bail!("RSA keys must have at least 2048 bits");
            }
            let (n, e) = (b64(&rsa.n().to_vec()), b64(&rsa.e().to_vec()));
            (
                json!({ "kty": "RSA", "n": n, "e": e }),
                format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#),
            )
        }
        KeyAlg::EdDSA => {
            if pkey.id() != openssl::pkey::Id::ED25519 {
                bail!("not an Ed25519 key");
            }
            let x = b64(&pkey.raw_public_key()?);
            (
                json!({ "kty": "OKP", "crv": "Ed25519", "x": x }),
                format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#),
            )
        }
    };
    jwk["kid"] = json!(b64(&openssl::sha::sha256(canonical.as_bytes())));
    jwk["use"] = json!("sig");
    jwk["alg"] = json!(alg.name());
    Ok(jwk)
}

/// A random server secret kept beside the keys (created on first use, mode 0600), shared by
/// every instance that shares the folder.
pub fn load_or_create_secret(dir: &Path, name: &str) -> anyhow::Result<Vec<u8>> {
    let path = dir.join(name);
    match fs::read(&path) {
        Ok(secret) if secret.len() >= 32 => Ok(secret),
        Ok(_) => bail!(
            "{} is shorter than 32 bytes; delete it to have a new one made",
            path.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let _lock = lock(dir)?;
            if let Ok(secret) = fs::read(&path) {
                return Ok(secret);
            }
            let secret = crate::random::bytes(32);
            write_atomic(&path, &secret)?;
            Ok(secret)
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tempdir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("pkidp-keys-{name}-{}", uuid::Uuid::new_v4()));
        fs::create_dir_all(&dir).expect("tempdir");
        dir
    }

    #[test]
    fn first_start_creates_one_active_private_key() {
        let dir = tempdir("create");
        let (set, created) = KeySet::load_or_create(&dir, KeyAlg::ES256).expect("created");
        let kid = created.expect("a new key");
        assert_eq!(
            set.active(KeyAlg::ES256).map(|k| k.entry.kid.clone()),
            Some(kid.clone())
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(key_path(&dir, &kid))
                .expect("key file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let jwks = set.jwks();
        let key = &jwks["keys"][0];
        assert_eq!(key["kid"], kid.as_str());
        assert_eq!(key["use"], "sig");
        assert!(key.get("d").is_none(), "no private parameter in the JWKS");
        let (again, created) = KeySet::load_or_create(&dir, KeyAlg::ES256).expect("reloaded");
        assert!(created.is_none());
        assert_eq!(again.jwks(), jwks);
    }

    #[test]
    fn every_algorithm_has_public_only_jwks_and_thumbprint_kids() {
        let dir = tempdir("algs");
        for &alg in KeyAlg::ALL {
            let kid = create_key(&dir, alg).expect("key");
            let pkey = read_private_key(&dir, &kid).expect("pem");
            let jwk = public_jwk(&pkey, alg).expect("jwk");
            assert_eq!(jwk["kid"], kid.as_str());
            assert_eq!(jwk["alg"], alg.name());
            for private in ["d", "p", "q", "dp", "dq", "qi"] {
                assert!(jwk.get(private).is_none(), "{alg:?} JWK has {private}");
            }
            assert!(encoding_key(&pkey, alg).is_ok());
            // Filed under the wrong algorithm, a key is refused.
            let other = KeyAlg::ALL
                .iter()
                .copied()
                .find(|a| *a != alg)
                .expect("another alg");
            assert!(public_jwk(&pkey, other).is_err());
        }
    }

    #[test]
    fn a_corrupted_manifest_or_key_is_an_error() {
        let dir = tempdir("corrupt");
        let (_, kid) = KeySet::load_or_create(&dir, KeyAlg::ES256).expect("created");
        let kid = kid.expect("kid");
        let pem = fs::read(key_path(&dir, &kid)).expect("read");
        fs::write(key_path(&dir, &kid), b"not a key").expect("write");
        assert!(KeySet::load(&dir, KeyAlg::ES256).is_err());
        fs::write(key_path(&dir, &kid), pem).expect("write");
        assert!(KeySet::load(&dir, KeyAlg::ES256).is_ok());
        fs::write(dir.join(MANIFEST), b"{").expect("write");
        assert!(KeySet::load(&dir, KeyAlg::ES256).is_err());
    }

    #[test]
    fn a_key_file_swapped_for_another_key_is_refused() {
        let dir = tempdir("swap");
        let (_, kid) = KeySet::load_or_create(&dir, KeyAlg::ES256).expect("created");
        let other = create_key(&dir, KeyAlg::ES256).expect("another");
        fs::copy(key_path(&dir, &other), key_path(&dir, &kid.expect("kid"))).expect("copy");
        let err = KeySet::load(&dir, KeyAlg::ES256).err().expect("refused");
        assert!(err.to_string().contains("does not match"), "{err}");
    }
}
