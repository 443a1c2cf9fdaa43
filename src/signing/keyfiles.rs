//! The key folder on disk: the manifest, one PKCS#8 private key file per key (mode 0600, in a
//! folder of mode 0700), the folder lock, and turning a private key into its public JWK and
//! signing key. Every write goes to a temporary file that is renamed into place.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openssl::pkey::{PKey, Private};
use serde_json::json;

use super::manifest::{KeyAlg, Manifest};

pub const MANIFEST: &str = "manifest.json";
const LOCK_FILE: &str = ".lock";

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

pub(super) fn read_private_key(dir: &Path, kid: &str) -> anyhow::Result<PKey<Private>> {
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
    let (kid, pkey) = generate_key(alg)?;
    write_private_key(dir, &kid, &pkey)?;
    Ok(kid)
}

/// Writes a key's private part (PKCS#8 PEM, mode 0600) under its kid.
pub(super) fn write_private_key(dir: &Path, kid: &str, pkey: &PKey<Private>) -> anyhow::Result<()> {
    create_private_dir(dir)?;
    write_atomic(&key_path(dir, kid), &pkey.private_key_to_pem_pkcs8()?)
}

/// A new key pair of `alg` and its kid (the RFC 7638 thumbprint of its public key).
pub(super) fn generate_key(alg: KeyAlg) -> anyhow::Result<(String, PKey<Private>)> {
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
    Ok((kid, pkey))
}

/// What jsonwebtoken signs with: PKCS#1 DER for RSA, PKCS#8 DER for the others.
/// A private key ready to sign, parsed once when the set is loaded.
pub enum PrivateKey {
    /// P-256, signed with ECDSA directly (JWS wants `r || s`, not DER).
    Ec(openssl::ec::EcKey<Private>),
    /// RSA (PKCS#1 v1.5 with SHA-256) or Ed25519.
    Other(PKey<Private>),
}

pub(super) fn signing_key(pkey: &PKey<Private>, alg: KeyAlg) -> anyhow::Result<PrivateKey> {
    Ok(match alg {
        KeyAlg::ES256 => PrivateKey::Ec(pkey.ec_key().context("not an EC key")?),
        KeyAlg::RS256 => {
            pkey.rsa().context("not an RSA key")?;
            PrivateKey::Other(pkey.clone())
        }
        KeyAlg::EdDSA => {
            if pkey.id() != openssl::pkey::Id::ED25519 {
                bail!("not an Ed25519 key");
            }
            PrivateKey::Other(pkey.clone())
        }
    })
}

impl PrivateKey {
    /// The JWS signature of `message` (RFC 7518 §3.3, §3.4; RFC 8037 §3.1).
    pub fn sign(&self, alg: KeyAlg, message: &[u8]) -> anyhow::Result<Vec<u8>> {
        match (self, alg) {
            (PrivateKey::Ec(key), KeyAlg::ES256) => {
                let digest = openssl::sha::sha256(message);
                let sig = openssl::ecdsa::EcdsaSig::sign(&digest, key)?;
                Ok([sig.r().to_vec_padded(32)?, sig.s().to_vec_padded(32)?].concat())
            }
            (PrivateKey::Other(key), KeyAlg::RS256) => {
                let mut signer =
                    openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), key)?;
                signer.update(message)?;
                Ok(signer.sign_to_vec()?)
            }
            (PrivateKey::Other(key), KeyAlg::EdDSA) => {
                Ok(openssl::sign::Signer::new_without_digest(key)?.sign_oneshot_to_vec(message)?)
            }
            _ => bail!("the key does not sign {}", alg.name()),
        }
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The public JWK of a private key, with `use`, `alg` and its RFC 7638 thumbprint as `kid`.
/// Checks that the key is of the algorithm it is filed under (and RSA keys of 2048+ bits).
pub(super) fn public_jwk(pkey: &PKey<Private>, alg: KeyAlg) -> anyhow::Result<serde_json::Value> {
    let (members, canonical) = match alg {
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
    let jwk = Jwk {
        key: members,
        kid: b64(&openssl::sha::sha256(canonical.as_bytes())),
        use_: "sig",
        alg: alg.name(),
    };
    Ok(serde_json::to_value(jwk)?)
}

/// A public JWK: the key's own members (`kty`, `crv`, `x`, …), then `kid`, `use` and `alg`.
#[derive(serde::Serialize)]
struct Jwk {
    #[serde(flatten)]
    key: serde_json::Value,
    kid: String,
    #[serde(rename = "use")]
    use_: &'static str,
    alg: &'static str,
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
