//! The signing key set in `keys/`: a manifest plus one private key file per key (mode 0600).
//! Writes go to a temporary file and are renamed into place, so a reader never sees half a set.
//!
//! A key's life: `next` (published, not signing) → `active` (signs) → `retiring` (published,
//! not signing) → `retired` (gone); `revoked` is the emergency exit from any state.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde::{Deserialize, Serialize};
use serde_json::json;

const MANIFEST: &str = "manifest.json";

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
    /// Whether relying services should find this key in the JWKS.
    pub fn is_published(self) -> bool {
        matches!(self, KeyState::Next | KeyState::Active | KeyState::Retiring)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyAlg {
    ES256,
}

impl KeyAlg {
    pub const ALL: &'static [KeyAlg] = &[KeyAlg::ES256];

    pub fn jwt_algorithm(self) -> Algorithm {
        match self {
            KeyAlg::ES256 => Algorithm::ES256,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            KeyAlg::ES256 => "ES256",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Transition {
    pub state: KeyState,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManifestEntry {
    pub kid: String,
    pub alg: KeyAlg,
    pub state: KeyState,
    pub created_at: DateTime<Utc>,
    pub transitions: Vec<Transition>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Manifest {
    pub keys: Vec<ManifestEntry>,
}

/// A loaded key: its manifest entry, the private part ready for signing, its public JWK.
pub struct SigningKey {
    pub entry: ManifestEntry,
    pub encoding: EncodingKey,
    pub public_jwk: serde_json::Value,
}

pub struct KeySet {
    keys: Vec<SigningKey>,
}

impl KeySet {
    /// Loads the set, creating a first active ES256 key when the folder holds none.
    /// Returns the set and the kid of a key it created, if any.
    pub fn load_or_create(dir: &Path) -> anyhow::Result<(KeySet, Option<String>)> {
        let manifest_path = dir.join(MANIFEST);
        if !manifest_path.exists() {
            create_private_dir(dir)?;
            let kid = generate(dir, KeyAlg::ES256, KeyState::Active)?;
            return Ok((Self::load(dir)?, Some(kid)));
        }
        Ok((Self::load(dir)?, None))
    }

    /// Loads and checks the whole set; any inconsistency is an error, never a partial set.
    pub fn load(dir: &Path) -> anyhow::Result<KeySet> {
        let manifest = read_manifest(dir)?;
        let mut keys = Vec::new();
        for entry in manifest.keys {
            if !entry.state.is_published() {
                continue;
            }
            let pem = fs::read(key_path(dir, &entry.kid))
                .with_context(|| format!("key {}: cannot read its private key file", entry.kid))?;
            let (encoding, public_jwk) = match entry.alg {
                KeyAlg::ES256 => {
                    let pkey =
                        openssl::pkey::PKey::private_key_from_pem(&pem).with_context(|| {
                            format!("key {}: private key file is not valid PEM", entry.kid)
                        })?;
                    let jwk = ec_public_jwk(&pkey)?;
                    (EncodingKey::from_ec_pem(&pem)?, jwk)
                }
            };
            if thumbprint(&public_jwk)? != entry.kid {
                bail!(
                    "key {}: the private key file does not match its kid",
                    entry.kid
                );
            }
            keys.push(SigningKey {
                entry,
                encoding,
                public_jwk,
            });
        }
        let set = KeySet { keys };
        for &alg in KeyAlg::ALL {
            let active = set
                .keys
                .iter()
                .filter(|k| k.entry.alg == alg && k.entry.state == KeyState::Active)
                .count();
            if active > 1 {
                bail!(
                    "the key set has {active} active {} keys; exactly one may sign",
                    alg.name()
                );
            }
        }
        if set.active(KeyAlg::ES256).is_none() {
            bail!(
                "the key set has no active ES256 key; run `passkey-idp keys rotate` or empty {}",
                dir.display()
            );
        }
        Ok(set)
    }

    pub fn active(&self, alg: KeyAlg) -> Option<&SigningKey> {
        self.keys
            .iter()
            .find(|k| k.entry.alg == alg && k.entry.state == KeyState::Active)
    }

    /// The public JWKS document: published keys only, public parameters only.
    pub fn jwks(&self) -> serde_json::Value {
        let keys: Vec<_> = self.keys.iter().map(|k| k.public_jwk.clone()).collect();
        json!({ "keys": keys })
    }
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

fn key_path(dir: &Path, kid: &str) -> PathBuf {
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
        ".{}.tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("key"),
        std::process::id()
    ));
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
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

/// Generates a key, writes its private part, and adds it to the manifest in `state`.
pub fn generate(dir: &Path, alg: KeyAlg, state: KeyState) -> anyhow::Result<String> {
    let (pem, jwk) = match alg {
        KeyAlg::ES256 => {
            let group = openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1)?;
            let ec = openssl::ec::EcKey::generate(&group)?;
            let pkey = openssl::pkey::PKey::from_ec_key(ec)?;
            (pkey.private_key_to_pem_pkcs8()?, ec_public_jwk(&pkey)?)
        }
    };
    let kid = thumbprint(&jwk)?;
    write_atomic(&key_path(dir, &kid), &pem)?;
    let mut manifest = if dir.join(MANIFEST).exists() {
        read_manifest(dir)?
    } else {
        Manifest::default()
    };
    let now = Utc::now();
    manifest.keys.push(ManifestEntry {
        kid: kid.clone(),
        alg,
        state,
        created_at: now,
        transitions: vec![Transition { state, at: now }],
    });
    write_manifest(dir, &manifest)?;
    Ok(kid)
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
            create_private_dir(dir)?;
            let secret = crate::random::bytes(32);
            write_atomic(&path, &secret)?;
            Ok(secret)
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

fn ec_public_jwk(
    pkey: &openssl::pkey::PKey<openssl::pkey::Private>,
) -> anyhow::Result<serde_json::Value> {
    let ec = pkey.ec_key()?;
    let mut ctx = openssl::bn::BigNumContext::new()?;
    let mut x = openssl::bn::BigNum::new()?;
    let mut y = openssl::bn::BigNum::new()?;
    ec.public_key()
        .affine_coordinates(ec.group(), &mut x, &mut y, &mut ctx)?;
    let mut jwk = json!({
        "kty": "EC",
        "crv": "P-256",
        "x": URL_SAFE_NO_PAD.encode(x.to_vec_padded(32)?),
        "y": URL_SAFE_NO_PAD.encode(y.to_vec_padded(32)?),
        "use": "sig",
        "alg": "ES256",
    });
    let kid = thumbprint(&jwk)?;
    jwk["kid"] = json!(kid);
    Ok(jwk)
}

/// RFC 7638 JWK thumbprint: SHA-256 over the required members in lexicographic order.
fn thumbprint(jwk: &serde_json::Value) -> anyhow::Result<String> {
    let member = |name: &str| {
        jwk.get(name)
            .and_then(|v| v.as_str())
            .ok_or_else(|| anyhow!("JWK without {name}"))
    };
    let canonical = match member("kty")? {
        "EC" => format!(
            r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
            member("crv")?,
            member("x")?,
            member("y")?
        ),
        other => bail!("unsupported key type {other}"),
    };
    Ok(URL_SAFE_NO_PAD.encode(openssl::sha::sha256(canonical.as_bytes())))
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
        let (set, created) = KeySet::load_or_create(&dir).expect("created");
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
        // A second start reuses the same key.
        let (again, created) = KeySet::load_or_create(&dir).expect("reloaded");
        assert!(created.is_none());
        assert_eq!(again.jwks(), jwks);
    }

    #[test]
    fn a_corrupted_manifest_or_key_is_an_error() {
        let dir = tempdir("corrupt");
        let (_, kid) = KeySet::load_or_create(&dir).expect("created");
        fs::write(key_path(&dir, &kid.expect("kid")), b"not a key").expect("write");
        assert!(KeySet::load(&dir).is_err());
        fs::write(dir.join(MANIFEST), b"{").expect("write");
        assert!(KeySet::load(&dir).is_err());
    }
}
