//! The signing key set as loaded from its store ([`super::store`]): every published key with its
//! public JWK, and the private part of the active ones, checked as a whole so that a set that
//! does not hold together is never used.

use std::collections::HashSet;
use std::path::Path;

use anyhow::{bail, Context};

#[cfg(test)]
use super::keyfiles::read_private_key;
pub use super::keyfiles::PrivateKey;
pub use super::keyfiles::{
    create_key, delete_private_key, key_path, load_or_create_secret, lock, read_manifest,
    write_manifest, DirLock, MANIFEST,
};
use super::keyfiles::{public_jwk, signing_key};
pub use super::manifest::{KeyAlg, KeyState, Manifest, ManifestEntry, Transition};
pub use super::store::KeyStore;
use openssl::pkey::{PKey, Private};

/// A JWK Set (RFC 7517 §5): `{"keys": [...]}`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Jwks {
    pub keys: Vec<serde_json::Value>,
}

/// A loaded, published key: its manifest entry, the private part ready for signing (active
/// keys only; no other state signs), and its public JWK.
pub struct SigningKey {
    pub entry: ManifestEntry,
    pub private: Option<PrivateKey>,
    pub public_jwk: serde_json::Value,
}

pub struct KeySet {
    keys: Vec<SigningKey>,
}

impl KeySet {
    /// Loads and checks the set in a key folder.
    pub fn load(dir: &Path, required: KeyAlg) -> anyhow::Result<KeySet> {
        KeyStore::Dir(dir.to_path_buf()).load(required)
    }

    /// Checks the whole set; any inconsistency is an error, never a partial set. `private`
    /// gives each published key's private part. `required` is the algorithm that must have an
    /// active key (the access-token algorithm).
    pub fn build(
        manifest: Manifest,
        mut private: impl FnMut(&ManifestEntry) -> anyhow::Result<PKey<Private>>,
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
            let pkey = private(&entry)?;
            let public_jwk = public_jwk(&pkey, entry.alg).with_context(|| {
                format!("key {}: not a valid {} key", entry.kid, entry.alg.name())
            })?;
            if public_jwk["kid"] != entry.kid.as_str() {
                bail!(
                    "key {}: the private key file does not match its kid",
                    entry.kid
                );
            }
            let private = match entry.state {
                KeyState::Active => Some(signing_key(&pkey, entry.alg)?),
                _ => None,
            };
            keys.push(SigningKey {
                entry,
                private,
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
    pub fn jwks(&self) -> Jwks {
        Jwks {
            keys: self.keys.iter().map(|k| k.public_jwk.clone()).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::PathBuf;

    use super::*;

    /// What a first start does: an active key when there is none, then the set.
    fn load_or_create(dir: &Path, alg: KeyAlg) -> anyhow::Result<(KeySet, Option<String>)> {
        let store = KeyStore::Dir(dir.to_path_buf());
        let created =
            crate::signing::rotation::ensure_active(&store, alg, "test", chrono::Utc::now())?;
        Ok((store.load(alg)?, created.map(|e| e.kid)))
    }

    fn tempdir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("pkidp-keys-{name}-{}", uuid::Uuid::new_v4()));
        fs::create_dir_all(&dir).expect("tempdir");
        dir
    }

    #[test]
    fn first_start_creates_one_active_private_key() {
        let dir = tempdir("create");
        let (set, created) = load_or_create(&dir, KeyAlg::ES256).expect("created");
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
        let key = &jwks.keys[0];
        assert_eq!(key["kid"], kid.as_str());
        assert_eq!(key["use"], "sig");
        assert!(key.get("d").is_none(), "no private parameter in the JWKS");
        let (again, created) = load_or_create(&dir, KeyAlg::ES256).expect("reloaded");
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
            let signed = signing_key(&pkey, alg)
                .and_then(|k| k.sign(alg, b"header.claims"))
                .expect("signs");
            assert!(!signed.is_empty());
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
        let (_, kid) = load_or_create(&dir, KeyAlg::ES256).expect("created");
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
        let (_, kid) = load_or_create(&dir, KeyAlg::ES256).expect("created");
        let other = create_key(&dir, KeyAlg::ES256).expect("another");
        fs::copy(key_path(&dir, &other), key_path(&dir, &kid.expect("kid"))).expect("copy");
        let err = KeySet::load(&dir, KeyAlg::ES256).err().expect("refused");
        assert!(err.to_string().contains("does not match"), "{err}");
    }
}
