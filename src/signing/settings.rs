//! `[tokens]` and `[keys]`: what tokens look like and how long they live, where the key set is
//! kept, and when keys rotate.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::claims::IssuerConfig;
use super::policy::Policy;
use super::KeyAlg;
use crate::config::{bad, optional_path, parse_duration, secs, Section, SettingsError};

#[derive(Debug, Clone)]
pub struct TokenSettings {
    pub access_token_lifetime: Duration,
    pub access_token_alg: KeyAlg,
    /// `aud` (and `client_id`) of the tokens the service's own sign-in issues.
    pub audience: String,
    pub jwks_max_age: Duration,
    pub clock_skew: Duration,
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TokensRaw {
    access_token_lifetime_secs: u64,
    access_token_alg: String,
    audience: String,
    jwks_max_age_secs: u64,
    clock_skew_secs: u64,
}

impl Default for TokensRaw {
    fn default() -> Self {
        TokensRaw {
            access_token_lifetime_secs: 600,
            access_token_alg: "ES256".into(),
            audience: "passkey-idp".into(),
            jwks_max_age_secs: 300,
            clock_skew_secs: 60,
        }
    }
}

impl Section for TokenSettings {
    const NAME: &'static str = "tokens";
    type Raw = TokensRaw;

    fn check(raw: TokensRaw) -> Result<TokenSettings, SettingsError> {
        if raw.audience.trim().is_empty() {
            return Err(bad("tokens.audience", "must not be empty"));
        }
        let access_token_alg = KeyAlg::parse(&raw.access_token_alg).ok_or_else(|| {
            bad(
                "tokens.access_token_alg",
                format!(
                    "'{}' is not one of: ES256, RS256, EdDSA",
                    raw.access_token_alg
                ),
            )
        })?;
        Ok(TokenSettings {
            access_token_lifetime: secs(
                "tokens.access_token_lifetime_secs",
                raw.access_token_lifetime_secs,
                1,
                86400,
            )?,
            access_token_alg,
            audience: raw.audience,
            jwks_max_age: secs(
                "tokens.jwks_max_age_secs",
                raw.jwks_max_age_secs,
                0,
                7 * 86400,
            )?,
            clock_skew: secs("tokens.clock_skew_secs", raw.clock_skew_secs, 0, 600)?,
        })
    }
}

impl TokenSettings {
    /// What tokens say about their issuer, with the ID tokens' lifetime (`[oidc]`).
    pub fn issuer_config(&self, issuer: &str, id_token_lifetime: Duration) -> IssuerConfig {
        IssuerConfig {
            issuer: issuer.to_string(),
            audience: self.audience.clone(),
            access_token_alg: self.access_token_alg,
            access_token_lifetime: self.access_token_lifetime,
            id_token_lifetime,
            clock_skew: self.clock_skew,
        }
    }
}

/// `keys.store`: where the signing key set lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStoreKind {
    Dir,
    Database,
}

#[derive(Debug, Clone)]
pub struct KeySettings {
    pub store: KeyStoreKind,
    pub dir: PathBuf,
    /// `keys.kek_file`, read only when the database store needs the KEK and
    /// `PASSKEY_IDP_KEYS_KEK` is not set.
    pub kek_file: Option<PathBuf>,
    pub reload_interval: Duration,
    /// Scheduled rotation period; `None` leaves rotation to the operator.
    pub rotate_every: Option<Duration>,
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeysRaw {
    store: String,
    dir: String,
    kek_file: String,
    reload_interval_secs: u64,
    rotate_every: String,
}

impl Default for KeysRaw {
    fn default() -> Self {
        KeysRaw {
            store: "dir".into(),
            dir: "keys".into(),
            kek_file: String::new(),
            reload_interval_secs: 5,
            rotate_every: String::new(),
        }
    }
}

impl Section for KeySettings {
    const NAME: &'static str = "keys";
    type Raw = KeysRaw;

    fn check(raw: KeysRaw) -> Result<KeySettings, SettingsError> {
        let store = match raw.store.as_str() {
            "dir" => KeyStoreKind::Dir,
            "database" => KeyStoreKind::Database,
            other => {
                return Err(bad(
                    "keys.store",
                    format!("'{other}' is not one of dir, database"),
                ))
            }
        };
        let rotate_every = match raw.rotate_every.trim() {
            "" | "off" => None,
            text => Some(parse_duration(text).ok_or_else(|| {
                bad(
                    "keys.rotate_every",
                    format!("'{text}' is not a duration such as 30d, 12h, 90m or 3600s"),
                )
            })?),
        };
        Ok(KeySettings {
            store,
            dir: PathBuf::from(raw.dir),
            kek_file: optional_path(&raw.kek_file),
            reload_interval: secs(
                "keys.reload_interval_secs",
                raw.reload_interval_secs,
                1,
                300,
            )?,
            rotate_every,
        })
    }
}

impl KeySettings {
    /// Scheduled rotation must leave a new key published for a whole cache lifetime before it
    /// signs.
    pub fn fits(&self, tokens: &TokenSettings) -> Result<(), SettingsError> {
        match self.rotate_every {
            Some(every) if every <= tokens.jwks_max_age + self.reload_interval => Err(bad(
                "keys.rotate_every",
                "must be longer than tokens.jwks_max_age_secs plus keys.reload_interval_secs, or a new key could never be published long enough before it signs",
            )),
            _ => Ok(()),
        }
    }

    /// When keys may move between states, from the cache and token lifetimes (the ID tokens'
    /// from `[oidc]`).
    pub fn rotation_policy(&self, tokens: &TokenSettings, id_token_lifetime: Duration) -> Policy {
        let longest_token = tokens.access_token_lifetime.max(id_token_lifetime);
        Policy {
            publish_before_signing: tokens.jwks_max_age + self.reload_interval,
            keep_after_signing: longest_token + tokens.clock_skew + self.reload_interval,
            rotate_every: self.rotate_every,
            access_token_alg: tokens.access_token_alg,
        }
    }
}
