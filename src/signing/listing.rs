//! `keys list`: every key with its state and what may happen to it next, and when.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::keyset::KeyState;
use super::policy::{chrono, Policy};
use super::store::KeyStore;

/// A line of `keys list`.
#[derive(Debug, Serialize)]
pub struct KeyInfo {
    pub kid: String,
    pub alg: &'static str,
    pub state: &'static str,
    pub created: DateTime<Utc>,
    pub since: DateTime<Utc>,
    /// What can happen to the key next, and from when.
    pub next_transition: Option<String>,
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
