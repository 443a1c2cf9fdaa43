//! Typed settings: the built-in `config/default.toml`, then the file on disk (or the one named by
//! `PASSKEY_IDP_CONFIG`), then environment variables. Everything is validated once at start so
//! that a bad value stops the process with one line naming the setting and the fix.

mod raw;
mod tokens;
mod ui;
mod validate;
mod webauthn;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use url::Url;

pub use ui::{Logo, Ui};

use crate::proxy::Cidr;
use crate::rate_limit::Limits;
use crate::signing::policy::Policy;
use crate::signing::{IssuerConfig, KeyAlg};

const BUILT_IN: &str = include_str!("../../config/default.toml");
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

#[derive(Debug, thiserror::Error)]
#[error("{setting}: {message}")]
pub struct SettingsError {
    pub setting: String,
    pub message: String,
}

pub(super) fn bad(setting: &str, message: impl Into<String>) -> SettingsError {
    SettingsError {
        setting: setting.to_string(),
        message: message.into(),
    }
}

/// Where users and credentials live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseBackend {
    Postgres { url: String },
    Sqlite { path: PathBuf },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserVerification {
    Required,
    Preferred,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResidentKey {
    Required,
    Preferred,
    Discouraged,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attachment {
    Platform,
    CrossPlatform,
}

/// What a credential flagged as possibly cloned may still do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClonedCredentials {
    /// Flagged and shown, still signs in.
    Flag,
    /// Refused with `counter_regression` until the flag is cleared.
    Block,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attestation {
    None,
    Indirect,
    Direct,
}

/// `keys.store`: where the signing key set lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStoreKind {
    Dir,
    Database,
}

/// `registration.mode`: who may create an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationMode {
    /// Anyone who can reach `/register` (an invite, if given, still applies its groups).
    Open,
    /// Only through an invite URL.
    Invite,
    /// Nobody.
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Validated settings; every field is ready to use.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The issuer without a trailing slash, e.g. `https://id.example.com`.
    pub issuer: String,
    pub issuer_url: Url,
    pub rp_id: String,
    pub rp_name: String,
    pub listen: SocketAddr,
    pub workers: usize,
    pub max_body_bytes: usize,
    /// Time a client has to send its request headers, and then its body.
    pub request_timeout: Duration,
    pub max_connections_per_worker: usize,
    /// Proxies whose forwarding headers name the client (for rate limits).
    pub trusted_proxies: Vec<Cidr>,
    pub shutdown_timeout: Duration,
    pub database: DatabaseBackend,
    pub db_pool_size: u32,
    pub db_connect_timeout: Duration,
    /// Bound of everything one request asks of the database, checkout included.
    pub db_query_timeout: Duration,
    /// `None` means the in-process store.
    /// The URL, or in sentinel and cluster mode the comma-separated URLs, as given.
    pub redis_url: Option<String>,
    pub redis_mode: crate::ephemeral::RedisMode,
    pub redis_replica_ack_timeout: Duration,
    pub redis_key_prefix: String,
    pub redis_connect_timeout: Duration,
    pub redis_command_timeout: Duration,
    pub challenge_ttl: Duration,
    /// Whether a ceremony inside a cross-origin frame is accepted, and from which top origins.
    pub allow_cross_origin: bool,
    pub cloned_credentials: ClonedCredentials,
    /// `platform` or `cross-platform` in creation options; `None`: any authenticator.
    pub authenticator_attachment: Option<Attachment>,
    /// Extra origins accepted in clientDataJSON, normalised (`https://app.example.com`,
    /// `android:apk-key-hash:…`).
    pub allowed_origins: Vec<String>,
    pub allowed_top_origins: Vec<String>,
    pub user_verification: UserVerification,
    pub resident_key: ResidentKey,
    pub attestation: Attestation,
    pub session_lifetime: Duration,
    /// How recent a sign-in sensitive account actions need.
    pub reauth_max_age: Duration,
    pub keys_store: KeyStoreKind,
    pub keys_dir: PathBuf,
    /// `keys.kek_file`, read only when the database store needs the KEK and
    /// `PASSKEY_IDP_KEYS_KEK` is not set.
    pub keys_kek_file: Option<PathBuf>,
    pub keys_reload_interval: Duration,
    /// Scheduled rotation period; `None` means rotation is left to the operator.
    pub keys_rotate_every: Option<Duration>,
    pub access_token_lifetime: Duration,
    pub access_token_alg: KeyAlg,
    pub audience: String,
    pub jwks_max_age: Duration,
    pub clock_skew: Duration,
    pub ceremonies_per_minute: u64,
    /// Requests to the OAuth endpoints per client address per minute.
    pub oauth_per_minute: u64,
    /// Recovery attempts allowed per username, and per client address, in 15 minutes.
    pub recovery_per_user: u64,
    pub recovery_per_address: u64,
    /// Operator-supplied AAGUID metadata (names and icons of authenticators).
    pub aaguid_file: Option<PathBuf>,
    /// Clients declared in a file (configuration as code), besides the registered ones.
    pub clients_file: Option<PathBuf>,
    pub code_ttl: Duration,
    pub id_token_lifetime: Duration,
    /// Absolute lifetime of a refresh token family (rotation does not extend it).
    pub refresh_token_lifetime: Duration,
    /// Caps of the in-process store.
    pub memory_store_max_entries: usize,
    pub memory_store_max_bytes: usize,
    pub log_format: LogFormat,
    pub log_level: String,
    /// Who may create an account.
    pub registration_mode: RegistrationMode,
    /// How long stored events are kept.
    pub events_retention: Duration,
    /// How often the housekeeping sweep runs.
    pub sweep_interval: Duration,
    /// The operator's brand and the pages' default language (`[ui]`).
    pub ui: Ui,
}

impl Settings {
    /// Settings of this process: files plus the real environment.
    pub fn load() -> Result<Settings, SettingsError> {
        let config_file = std::env::var("PASSKEY_IDP_CONFIG").ok().map(PathBuf::from);
        Self::from_sources(config_file.as_deref(), std::env::vars())
    }

    /// Settings from an optional file and a set of environment-like pairs. With no file named,
    /// `config/default.toml` is read when present, else the copy built into the binary.
    pub fn from_sources(
        config_file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, SettingsError> {
        let mut value: toml::Table = BUILT_IN.parse().map_err(|e| {
            bad(
                "config/default.toml",
                format!("built-in defaults are invalid: {e}"),
            )
        })?;
        let file = match config_file {
            Some(path) => Some(path.to_path_buf()),
            None => Some(PathBuf::from("config/default.toml")).filter(|p| p.exists()),
        };
        if let Some(path) = file {
            let text = std::fs::read_to_string(&path).map_err(|e| {
                bad(
                    "PASSKEY_IDP_CONFIG",
                    format!("cannot read {}: {e}", path.display()),
                )
            })?;
            let overlay: toml::Table = text.parse().map_err(|e| {
                bad(
                    "PASSKEY_IDP_CONFIG",
                    format!("{} is not valid TOML: {e}", path.display()),
                )
            })?;
            merge(&mut value, overlay);
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
        let raw: raw::RawSettings = toml::Value::Table(value)
            .try_into()
            .map_err(|e: toml::de::Error| bad("settings", e.message().to_string()))?;
        validate::validate(raw)
    }

    /// The allowed origins that are web origins (CORS, related origins).
    pub fn allowed_web_origins(&self) -> impl Iterator<Item = &str> {
        self.allowed_origins
            .iter()
            .map(String::as_str)
            .filter(|o| o.starts_with("https://") || o.starts_with("http://"))
    }

    pub fn secure_cookies(&self) -> bool {
        self.issuer_url.scheme() == "https"
    }

    /// The longest time any token this service signs stays valid.
    pub fn longest_token_lifetime(&self) -> Duration {
        self.access_token_lifetime.max(self.id_token_lifetime)
    }

    /// When keys may move between states, from the cache and token lifetimes.
    pub fn rotation_policy(&self) -> Policy {
        Policy {
            publish_before_signing: self.jwks_max_age + self.keys_reload_interval,
            keep_after_signing: self.longest_token_lifetime()
                + self.clock_skew
                + self.keys_reload_interval,
            rotate_every: self.keys_rotate_every,
            access_token_alg: self.access_token_alg,
        }
    }

    pub fn issuer_config(&self) -> IssuerConfig {
        IssuerConfig {
            issuer: self.issuer.clone(),
            audience: self.audience.clone(),
            access_token_alg: self.access_token_alg,
            access_token_lifetime: self.access_token_lifetime,
            id_token_lifetime: self.id_token_lifetime,
            clock_skew: self.clock_skew,
        }
    }

    pub fn rate_limits(&self) -> Limits {
        Limits {
            ceremonies_per_minute: self.ceremonies_per_minute,
            oauth_per_minute: self.oauth_per_minute,
            recovery_per_user: self.recovery_per_user,
            recovery_per_address: self.recovery_per_address,
        }
    }
}

/// "30d", "12h", "90m", "45s" or plain seconds.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let n: u64 = number.parse().ok()?;
    let factor = match unit.trim() {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return None,
    };
    Some(Duration::from_secs(n.checked_mul(factor)?)).filter(|d| !d.is_zero())
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
