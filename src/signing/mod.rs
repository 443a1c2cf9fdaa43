//! Signing keys and JWTs: the key set behind `/.well-known/jwks.json`, keeping a running
//! instance's copy of it current without a restart, the rotation rules, and the tokens signed
//! and verified with it ([`TokenIssuer`]). OAuth grants, which decide *when* tokens are issued,
//! live in `oidc`.

mod claims;
mod keyfiles;
pub mod keyset;
pub mod listing;
mod manifest;
pub mod policy;
pub mod rotation;
pub mod schedule;
pub mod sealed;
mod settings;
pub mod store;
mod verify;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use jsonwebtoken::Header;

use crate::events::Event;
use serde::Serialize;

pub use claims::{AccessClaims, AccessGrant, Audience, IdGrant, IssuerConfig, TokenIssuer};
pub use keyset::{Jwks, KeyAlg, KeySet, KeyState};
pub use manifest::KeyChange;
pub use settings::{KeySettings, KeyStoreKind, TokenSettings};
pub use store::KeyStore;
pub use verify::VerifyError;

/// Whether the stored key set could be loaded the last time it changed.
#[derive(Debug, Clone)]
pub enum KeyStatus {
    Current,
    /// The stored set changed but is not usable; the last good set is still served.
    Stale {
        error: String,
    },
}

struct Loaded {
    set: Arc<KeySet>,
    fingerprint: String,
    status: KeyStatus,
}

/// The key set in use, replaced whole (never patched) when the stored set changes.
#[derive(Clone)]
pub struct KeyRing {
    store: Arc<KeyStore>,
    required: KeyAlg,
    inner: Arc<RwLock<Loaded>>,
}

impl KeyRing {
    pub fn new(store: Arc<KeyStore>, required: KeyAlg, set: KeySet) -> Self {
        // A fingerprint that cannot be read now makes the first reload check load again.
        let fingerprint = store.fingerprint().unwrap_or_default();
        KeyRing {
            store,
            required,
            inner: Arc::new(RwLock::new(Loaded {
                set: Arc::new(set),
                fingerprint,
                status: KeyStatus::Current,
            })),
        }
    }

    pub fn current(&self) -> Arc<KeySet> {
        self.inner
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .set
            .clone()
    }

    pub fn status(&self) -> KeyStatus {
        self.inner
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .status
            .clone()
    }

    pub fn store(&self) -> &Arc<KeyStore> {
        &self.store
    }

    /// Reloads when the stored set changed. A set that does not load never replaces a good one:
    /// the error is logged (once per change) and reported by `/readyz`. A store that cannot be
    /// read (the database is down) changes nothing: the set in use stays.
    pub fn reload_if_changed(&self) {
        let now = match self.store.fingerprint() {
            Ok(now) => now,
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "the key store could not be checked for changes");
                return;
            }
        };
        if now
            == self
                .inner
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .fingerprint
        {
            return;
        }
        let loaded = self.store.load(self.required);
        let mut inner = self.inner.write().unwrap_or_else(|p| p.into_inner());
        inner.fingerprint = now;
        match loaded {
            Ok(set) => {
                let kids: Vec<String> = set
                    .jwks()
                    .keys
                    .iter()
                    .filter_map(|k| k["kid"].as_str().map(str::to_string))
                    .collect();
                Event::KeysReloaded
                    .now()
                    .detail(format!("published: {}", kids.join(" ")))
                    .report();
                inner.set = Arc::new(set);
                inner.status = KeyStatus::Current;
            }
            Err(e) => {
                Event::KeysReloadFailed
                    .now()
                    .detail(format!("{e:#}"))
                    .report();
                inner.status = KeyStatus::Stale {
                    error: format!("{e:#}"),
                };
            }
        }
    }

    /// Checks the store every `interval` for as long as the process runs.
    pub fn watch(&self, interval: Duration) {
        let ring = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let r = ring.clone();
                // File reads, queries and key parsing are blocking work.
                let _ = tokio::task::spawn_blocking(move || r.reload_if_changed()).await;
            }
        });
    }
}

/// What changes when anything in the folder that a key set is made of changes: the manifest's
/// bytes and each key file's name, size and modification time.
pub(crate) fn fingerprint(dir: &std::path::Path) -> String {
    let mut parts = Vec::new();
    parts.push(std::fs::read(dir.join(keyset::MANIFEST)).unwrap_or_default());
    if let Ok(entries) = std::fs::read_dir(dir) {
        let mut files: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".pem"))
            .map(|e| {
                let meta = e.metadata().ok();
                let modified = meta
                    .as_ref()
                    .and_then(|m| m.modified().ok())
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map(|d| d.as_nanos())
                    .unwrap_or(0);
                format!(
                    "{}:{}:{}",
                    e.file_name().to_string_lossy(),
                    meta.map(|m| m.len()).unwrap_or(0),
                    modified
                )
            })
            .collect();
        files.sort();
        parts.push(files.join("\n").into_bytes());
    }
    crate::random::sha256_hex(&parts.concat())
}

/// Signs `claims` with the active key of `alg`, putting its kid in the header: the JWS compact
/// serialisation (RFC 7515) that jsonwebtoken and every relying party verify. The signature is
/// OpenSSL's, with the key parsed once when the set was loaded.
pub fn sign<T: Serialize>(
    keys: &KeySet,
    alg: KeyAlg,
    typ: &str,
    claims: &T,
) -> anyhow::Result<String> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let key = keys
        .active(alg)
        .ok_or_else(|| anyhow::anyhow!("no active {} signing key", alg.name()))?;
    let private = key
        .private
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("the active {} key has no private part", alg.name()))?;
    let mut header = Header::new(alg.jwt_algorithm());
    header.kid = Some(key.entry.kid.clone());
    header.typ = Some(typ.to_string());
    let mut token = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header)?);
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims)?));
    let signature = private.sign(alg, token.as_bytes())?;
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(signature));
    Ok(token)
}
