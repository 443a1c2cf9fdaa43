//! The settings loader: built-in defaults, then the file on disk (`config/default.toml`, or the
//! one named by `PASSKEY_IDP_CONFIG`), then environment variables, assembled into one section
//! per concern. Each section is defined, defaulted and checked by the code that uses it
//! ([`crate::config::Section`]); this module only layers the sources and checks what spans two
//! sections. A bad value stops the process with one line naming the setting and the fix.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use crate::brand::UiSettings;
pub use crate::ceremony::{RegistrationSettings, WebauthnSettings};
use crate::config::{bad, Section};
pub use crate::config::{parse_duration, SettingsError};
pub use crate::db::{DatabaseBackend, DatabaseSettings};
pub use crate::ephemeral::{MemoryStoreSettings, RedisSettings};
pub use crate::maintenance::EventsSettings;
pub use crate::metadata::MetadataSettings;
pub use crate::oidc::OidcSettings;
pub use crate::rate_limit::RateLimitSettings;
pub use crate::server::{ServerSettings, Site};
pub use crate::session::SessionSettings;
use crate::signing::policy::Policy;
use crate::signing::IssuerConfig;
pub use crate::signing::{KeySettings, TokenSettings};
pub use crate::telemetry::LogSettings;

const ENV_PREFIX: &str = "PASSKEY_IDP__";

/// Fixed environment names that operators and scripts rely on (docs/api.md, "Running it").
const FIXED_ENV: &[(&str, &str, &str)] = &[
    ("PASSKEY_IDP_ISSUER", "server", "issuer"),
    ("PASSKEY_IDP_RP_ID", "server", "rp_id"),
    ("PASSKEY_IDP_LISTEN", "server", "listen"),
    ("DATABASE_URL", "database", "url"),
    ("REDIS_URL", "redis", "url"),
    ("PASSKEY_IDP_KEYS_DIR", "keys", "dir"),
];

/// Every section, checked.
#[derive(Debug, Clone)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub redis: RedisSettings,
    pub memory_store: MemoryStoreSettings,
    pub webauthn: WebauthnSettings,
    pub registration: RegistrationSettings,
    pub session: SessionSettings,
    pub tokens: TokenSettings,
    pub keys: KeySettings,
    pub metadata: MetadataSettings,
    pub oidc: OidcSettings,
    pub rate_limit: RateLimitSettings,
    pub events: EventsSettings,
    pub ui: UiSettings,
    pub log: LogSettings,
}

/// The sections a settings file may have, for the refusal of an unknown one.
const SECTIONS: &[&str] = &[
    ServerSettings::NAME,
    DatabaseSettings::NAME,
    RedisSettings::NAME,
    MemoryStoreSettings::NAME,
    WebauthnSettings::NAME,
    RegistrationSettings::NAME,
    SessionSettings::NAME,
    TokenSettings::NAME,
    KeySettings::NAME,
    MetadataSettings::NAME,
    OidcSettings::NAME,
    RateLimitSettings::NAME,
    EventsSettings::NAME,
    UiSettings::NAME,
    LogSettings::NAME,
];

impl Settings {
    /// Settings of this process: files plus the real environment.
    pub fn load() -> Result<Settings, SettingsError> {
        let config_file = std::env::var("PASSKEY_IDP_CONFIG").ok().map(PathBuf::from);
        Self::from_sources(config_file.as_deref(), std::env::vars())
    }

    /// Settings from an optional file and a set of environment-like pairs. With no file named,
    /// `config/default.toml` is read when present; what no source sets has its built-in
    /// default.
    pub fn from_sources(
        config_file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, SettingsError> {
        let mut value = toml::Table::new();
        let file = match config_file {
            Some(path) => Some(path.to_path_buf()),
            None => Some(PathBuf::from("config/default.toml")).filter(|p| p.exists()),
        };
        if let Some(path) = file {
            merge(&mut value, read_file(&path)?);
        }
        let env: BTreeMap<String, String> = env.into_iter().collect();
        for (name, raw) in &env {
            if let Some(path) = name.strip_prefix(ENV_PREFIX) {
                let parts: Vec<String> = path.split("__").map(|p| p.to_ascii_lowercase()).collect();
                if parts.len() != 2 || parts.iter().any(|p| p.is_empty()) {
                    return Err(bad(name, "expected PASSKEY_IDP__SECTION__KEY"));
                }
                set(&mut value, &parts[0], &parts[1], parse_env_value(raw));
            }
        }
        for (name, section, key) in FIXED_ENV {
            if let Some(raw) = env.get(*name) {
                set(&mut value, section, key, toml::Value::String(raw.clone()));
            }
        }
        Self::assemble(value)
    }

    /// Each section from its table, then the checks that span sections.
    fn assemble(mut value: toml::Table) -> Result<Settings, SettingsError> {
        if let Some(unknown) = value.keys().find(|k| !SECTIONS.contains(&k.as_str())) {
            return Err(bad(
                unknown,
                format!(
                    "is not a section of the settings (they are: {})",
                    SECTIONS.join(", ")
                ),
            ));
        }
        let server: ServerSettings = section(&mut value)?;
        let tokens: TokenSettings = section(&mut value)?;
        let keys: KeySettings = section(&mut value)?;
        keys.fits(&tokens)?;
        let ui = section::<UiSettings>(&mut value)?.named_by_default(&server.site.rp_name);
        Ok(Settings {
            database: section(&mut value)?,
            redis: section(&mut value)?,
            memory_store: section(&mut value)?,
            webauthn: section(&mut value)?,
            registration: section(&mut value)?,
            session: section(&mut value)?,
            metadata: section(&mut value)?,
            oidc: section(&mut value)?,
            rate_limit: section(&mut value)?,
            events: section(&mut value)?,
            log: section(&mut value)?,
            server,
            tokens,
            keys,
            ui,
        })
    }

    /// Who this service is (`[server]`'s issuer and relying party).
    pub fn site(&self) -> &Site {
        &self.server.site
    }

    /// The longest time any token this service signs stays valid.
    pub fn longest_token_lifetime(&self) -> Duration {
        self.tokens
            .access_token_lifetime
            .max(self.oidc.id_token_lifetime)
    }

    /// When keys may move between states, from the cache and token lifetimes.
    pub fn rotation_policy(&self) -> Policy {
        self.keys
            .rotation_policy(&self.tokens, self.oidc.id_token_lifetime)
    }

    pub fn issuer_config(&self) -> IssuerConfig {
        self.tokens
            .issuer_config(&self.server.site.issuer, self.oidc.id_token_lifetime)
    }
}

/// Section `S` from its table (absent: every default), checked.
fn section<S: Section>(value: &mut toml::Table) -> Result<S, SettingsError> {
    let table = value
        .remove(S::NAME)
        .unwrap_or_else(|| toml::Value::Table(toml::Table::new()));
    let raw: S::Raw = table
        .try_into()
        .map_err(|e: toml::de::Error| bad(S::NAME, e.message().to_string()))?;
    S::check(raw)
}

fn read_file(path: &Path) -> Result<toml::Table, SettingsError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        bad(
            "PASSKEY_IDP_CONFIG",
            format!("cannot read {}: {e}", path.display()),
        )
    })?;
    text.parse().map_err(|e| {
        bad(
            "PASSKEY_IDP_CONFIG",
            format!("{} is not valid TOML: {e}", path.display()),
        )
    })
}

fn merge(base: &mut toml::Table, overlay: toml::Table) {
    for (k, v) in overlay {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

fn set(table: &mut toml::Table, section: &str, key: &str, value: toml::Value) {
    let entry = table
        .entry(section.to_string())
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if let toml::Value::Table(t) = entry {
        t.insert(key.to_string(), value);
    }
}

/// Numbers and booleans are taken as such, a bracketed list (`["10.0.0.0/8", "::1/128"]`, TOML
/// or JSON) as a list, anything else as a string (a list setting splits it at commas).
fn parse_env_value(raw: &str) -> toml::Value {
    if let Ok(n) = raw.parse::<i64>() {
        return toml::Value::Integer(n);
    }
    let trimmed = raw.trim();
    if trimmed.starts_with('[') && trimmed.ends_with(']') {
        if let Ok(mut table) = format!("list = {trimmed}").parse::<toml::Table>() {
            if let Some(list) = table.remove("list") {
                return list;
            }
        }
    }
    match raw {
        "true" => toml::Value::Boolean(true),
        "false" => toml::Value::Boolean(false),
        _ => toml::Value::String(raw.to_string()),
    }
}

#[cfg(test)]
mod tests;
