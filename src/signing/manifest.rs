//! The manifest of the key set (`keys/manifest.json`): every key's algorithm, state and the
//! history of its transitions.
//!
//! A key's life: `next` (published, not signing) → `active` (signs) → `retiring` (published,
//! not signing) → `retired` (gone, private part deleted); `revoked` is the emergency exit from
//! any state. The rules that decide when a key may move live in [`super::rotation`].

use chrono::{DateTime, Utc};
use jsonwebtoken::Algorithm;
use serde::{Deserialize, Serialize};

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

/// One key's last step, as its `key_changed` event records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyChange {
    pub kid: String,
    pub alg: KeyAlg,
    /// The state it left; `None` when the key was just made.
    pub from: Option<KeyState>,
    pub to: KeyState,
}

impl KeyChange {
    /// The event's `change`: `{"from":"next","to":"active","alg":"ES256"}`, or for a new key
    /// `{"action":"generated","to":"next","alg":"ES256"}`.
    pub fn detail(&self) -> serde_json::Value {
        match self.from {
            Some(from) => serde_json::json!({
                "from": from.name(), "to": self.to.name(), "alg": self.alg.name()
            }),
            None => serde_json::json!({
                "action": "generated", "to": self.to.name(), "alg": self.alg.name()
            }),
        }
    }
}

impl ManifestEntry {
    /// The step that brought the key to its current state.
    pub fn last_change(&self) -> KeyChange {
        let n = self.transitions.len();
        KeyChange {
            kid: self.kid.clone(),
            alg: self.alg,
            from: (n >= 2).then(|| self.transitions[n - 2].state),
            to: self.state,
        }
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
