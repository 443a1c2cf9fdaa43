//! JWT issuing and the signing key set behind `/.well-known/jwks.json`.

pub mod keyset;

use std::sync::{Arc, RwLock};

use jsonwebtoken::Header;
use serde::{Deserialize, Serialize};

pub use keyset::{KeyAlg, KeySet, KeyState};

/// The key set in use. Behind a lock so that a reloaded set can replace it without a restart.
#[derive(Clone)]
pub struct KeyRing {
    current: Arc<RwLock<Arc<KeySet>>>,
}

impl KeyRing {
    pub fn new(set: KeySet) -> Self {
        KeyRing {
            current: Arc::new(RwLock::new(Arc::new(set))),
        }
    }

    pub fn current(&self) -> Arc<KeySet> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// Claims of an access token, in the RFC 9068 profile.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    pub auth_time: i64,
    pub amr: Vec<String>,
    pub client_id: String,
    pub scope: String,
}

/// Signs `claims` with the active key of `alg`, putting its kid in the header.
pub fn sign<T: Serialize>(
    keys: &KeySet,
    alg: KeyAlg,
    typ: &str,
    claims: &T,
) -> anyhow::Result<String> {
    let key = keys
        .active(alg)
        .ok_or_else(|| anyhow::anyhow!("no active {} signing key", alg.name()))?;
    let mut header = Header::new(alg.jwt_algorithm());
    header.kid = Some(key.entry.kid.clone());
    header.typ = Some(typ.to_string());
    Ok(jsonwebtoken::encode(&header, claims, &key.encoding)?)
}
