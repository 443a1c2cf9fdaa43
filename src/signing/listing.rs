//! `keys list`: every key with its state and what may happen to it next, and when.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::keyset::KeyState;
use super::policy::{chrono, Policy};
use super::store::KeyStore;

/// A line of `keys list`, and a key of the admin API's key set: never private material.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KeyInfo {
    pub kid: String,
    #[schema(value_type = String, pattern = "^(ES256|RS256|EdDSA)$")]
    pub alg: &'static str,
    /// `next` (published, not signing), `active` (signs), `retiring` (published, not
    /// signing), `retired` or `revoked` (gone from the JWKS).
    #[schema(value_type = String, pattern = "^(next|active|retiring|retired|revoked)$")]
    pub state: &'static str,
    /// When the key was made (RFC 3339).
    #[schema(value_type = String)]
    pub created: DateTime<Utc>,
    /// When it entered its current state.
    #[schema(value_type = String)]
    pub since: DateTime<Utc>,
    /// What can happen to the key next (`rotate`, `scheduled rotation`, `retire`), and from
    /// when.
    pub next_transition: Option<String>,
    #[schema(value_type = Option<String>)]
    pub next_transition_at: Option<DateTime<Utc>>,
}

pub fn list(store: &KeyStore, policy: &Policy) -> anyhow::Result<Vec<KeyInfo>> {
    let manifest = store
        .manifest()?
        .ok_or_else(|| anyhow::anyhow!("there is no key set yet in {}", store.describe()))?;
    Ok(manifest
        .keys
        .iter()
        .map(|k| {
            let (what, at) = match k.state {
                KeyState::Next => (
                    Some("rotate"),
                    Some(k.since() + chrono(policy.publish_before_signing)),
                ),
                KeyState::Active => match policy.rotate_every {
                    Some(every) => (Some("scheduled rotation"), Some(k.since() + chrono(every))),
                    None => (None, None),
                },
                KeyState::Retiring => (
                    Some("retire"),
                    Some(k.since() + chrono(policy.keep_after_signing)),
                ),
                KeyState::Retired | KeyState::Revoked => (None, None),
            };
            KeyInfo {
                kid: k.kid.clone(),
                alg: k.alg.name(),
                state: k.state.name(),
                created: k.created_at,
                since: k.since(),
                next_transition: what.map(str::to_string),
                next_transition_at: at,
            }
        })
        .collect())
}
