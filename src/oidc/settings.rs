//! `[oidc]`: clients declared as code, and the lifetimes of codes, ID tokens and refresh
//! tokens.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::config::{optional_path, secs, Section, SettingsError};

#[derive(Debug, Clone)]
pub struct OidcSettings {
    /// Clients declared in a file (configuration as code), besides the registered ones.
    pub clients_file: Option<PathBuf>,
    pub code_ttl: Duration,
    pub id_token_lifetime: Duration,
    /// Absolute lifetime of a refresh token family (rotation does not extend it).
    pub refresh_token_lifetime: Duration,
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OidcRaw {
    clients_file: String,
    code_ttl_secs: u64,
    id_token_lifetime_secs: u64,
    refresh_token_lifetime_secs: u64,
}

impl Default for OidcRaw {
    fn default() -> Self {
        OidcRaw {
            clients_file: String::new(),
            code_ttl_secs: 60,
            id_token_lifetime_secs: 300,
            refresh_token_lifetime_secs: 30 * 86400,
        }
    }
}

impl Section for OidcSettings {
    const NAME: &'static str = "oidc";
    type Raw = OidcRaw;

    fn check(raw: OidcRaw) -> Result<OidcSettings, SettingsError> {
        Ok(OidcSettings {
            clients_file: optional_path(&raw.clients_file),
            code_ttl: secs("oidc.code_ttl_secs", raw.code_ttl_secs, 1, 60)?,
            id_token_lifetime: secs(
                "oidc.id_token_lifetime_secs",
                raw.id_token_lifetime_secs,
                1,
                86400,
            )?,
            refresh_token_lifetime: secs(
                "oidc.refresh_token_lifetime_secs",
                raw.refresh_token_lifetime_secs,
                60,
                365 * 86400,
            )?,
        })
    }
}
