//! Typed settings: the built-in `config/default.toml`, then the file on disk (or the one named by
//! `PASSKEY_IDP_CONFIG`), then environment variables. Everything is validated once at start so
//! that a bad value stops the process with one line naming the setting and the fix.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use url::Url;

const BUILT_IN: &str = include_str!("../config/default.toml");
const ENV_PREFIX: &str = "PASSKEY_IDP__";

/// Fixed environment names that operators and scripts rely on (API.md, "Running it").
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

fn bad(setting: &str, message: impl Into<String>) -> SettingsError {
    SettingsError {
        setting: setting.to_string(),
        message: message.into(),
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    server: ServerSection,
    database: DatabaseSection,
    redis: RedisSection,
    webauthn: WebauthnSection,
    session: SessionSection,
    tokens: TokensSection,
    keys: KeysSection,
    metadata: MetadataSection,
    oidc: OidcSection,
    rate_limit: RateLimitSection,
    log: LogSection,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerSection {
    issuer: String,
    rp_id: String,
    rp_name: String,
    listen: String,
    workers: usize,
    max_body_bytes: usize,
    shutdown_timeout_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct DatabaseSection {
    url: String,
    embedded_path: String,
    pool_size: u32,
    connect_timeout_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RedisSection {
    url: String,
    key_prefix: String,
    connect_timeout_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct WebauthnSection {
    challenge_ttl_secs: u64,
    user_verification: String,
    resident_key: String,
    attestation: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionSection {
    lifetime_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokensSection {
    access_token_lifetime_secs: u64,
    access_token_alg: String,
    audience: String,
    jwks_max_age_secs: u64,
    clock_skew_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeysSection {
    dir: String,
    reload_interval_secs: u64,
    rotate_every: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct OidcSection {
    clients_file: String,
    code_ttl_secs: u64,
    id_token_lifetime_secs: u64,
    refresh_token_lifetime_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct MetadataSection {
    aaguid_file: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RateLimitSection {
    ceremonies_per_minute: u64,
    recovery_per_user: u64,
    recovery_per_address: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct LogSection {
    format: String,
    level: String,
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
pub enum Attestation {
    None,
    Indirect,
    Direct,
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
    pub shutdown_timeout: Duration,
    pub database: DatabaseBackend,
    pub db_pool_size: u32,
    pub db_connect_timeout: Duration,
    /// `None` means the in-process store.
    pub redis_url: Option<String>,
    pub redis_key_prefix: String,
    pub redis_connect_timeout: Duration,
    pub challenge_ttl: Duration,
    pub user_verification: UserVerification,
    pub resident_key: ResidentKey,
    pub attestation: Attestation,
    pub session_lifetime: Duration,
    pub keys_dir: PathBuf,
    pub keys_reload_interval: Duration,
    /// Scheduled rotation period; `None` means rotation is left to the operator.
    pub keys_rotate_every: Option<Duration>,
    pub access_token_lifetime: Duration,
    pub access_token_alg: crate::tokens::KeyAlg,
    pub audience: String,
    pub jwks_max_age: Duration,
    pub clock_skew: Duration,
    pub ceremonies_per_minute: u64,
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
    pub log_format: LogFormat,
    pub log_level: String,
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
        let raw: RawSettings = toml::Value::Table(value)
            .try_into()
            .map_err(|e: toml::de::Error| bad("settings", e.message().to_string()))?;
        validate(raw)
    }

    pub fn secure_cookies(&self) -> bool {
        self.issuer_url.scheme() == "https"
    }

    /// The longest time any token this service signs stays valid.
    pub fn longest_token_lifetime(&self) -> Duration {
        self.access_token_lifetime.max(self.id_token_lifetime)
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

/// Numbers and booleans are taken as such, anything else as a string.
fn parse_env_value(raw: &str) -> toml::Value {
    if let Ok(n) = raw.parse::<i64>() {
        return toml::Value::Integer(n);
    }
    match raw {
        "true" => toml::Value::Boolean(true),
        "false" => toml::Value::Boolean(false),
        _ => toml::Value::String(raw.to_string()),
    }
}

fn is_loopback_host(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => *d == "localhost" || d.ends_with(".localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

fn secs(setting: &str, v: u64, min: u64, max: u64) -> Result<Duration, SettingsError> {
    if v < min || v > max {
        return Err(bad(
            setting,
            format!("must be between {min} and {max} seconds, got {v}"),
        ));
    }
    Ok(Duration::from_secs(v))
}

fn validate(raw: RawSettings) -> Result<Settings, SettingsError> {
    let issuer_setting = "PASSKEY_IDP_ISSUER (server.issuer)";
    let issuer_url = Url::parse(raw.server.issuer.trim()).map_err(|e| {
        bad(
            issuer_setting,
            format!("{e}; set an origin such as https://id.example.com"),
        )
    })?;
    if !matches!(issuer_url.scheme(), "https" | "http") {
        return Err(bad(issuer_setting, "must be an https:// origin"));
    }
    let host = issuer_url.host().ok_or_else(|| {
        bad(
            issuer_setting,
            "has no host; set an origin such as https://id.example.com",
        )
    })?;
    if issuer_url.scheme() == "http" && !is_loopback_host(&host) {
        return Err(bad(
            issuer_setting,
            "http is allowed only for localhost; use https:// for any other host",
        ));
    }
    if issuer_url.path() != "/" || issuer_url.query().is_some() || issuer_url.fragment().is_some() {
        return Err(bad(
            issuer_setting,
            "must be a bare origin without path, query or fragment",
        ));
    }
    if !issuer_url.username().is_empty() || issuer_url.password().is_some() {
        return Err(bad(issuer_setting, "must not contain credentials"));
    }
    let issuer = issuer_url.as_str().trim_end_matches('/').to_string();
    let host_str = host.to_string();

    let rp_setting = "PASSKEY_IDP_RP_ID (server.rp_id)";
    let rp_id = match raw.server.rp_id.trim() {
        "" => host_str.trim_matches(|c| c == '[' || c == ']').to_string(),
        other => other.to_ascii_lowercase(),
    };
    let rp_ok = rp_id == host_str
        || (matches!(host, url::Host::Domain(_))
            && rp_id.contains('.')
            && host_str.ends_with(&format!(".{rp_id}")));
    if !rp_ok {
        return Err(bad(
            rp_setting,
            format!("'{rp_id}' is neither the issuer's host '{host_str}' nor a registrable suffix of it; leave it empty or set a parent domain of the issuer"),
        ));
    }

    let listen: SocketAddr = raw.server.listen.parse().map_err(|_| {
        bad(
            "PASSKEY_IDP_LISTEN (server.listen)",
            format!(
                "'{}' is not an address such as 127.0.0.1:8080",
                raw.server.listen
            ),
        )
    })?;
    if raw.server.max_body_bytes < 1024 {
        return Err(bad("server.max_body_bytes", "must be at least 1024"));
    }

    let database =
        match raw.database.url.trim() {
            "" => DatabaseBackend::Sqlite {
                path: PathBuf::from(&raw.database.embedded_path),
            },
            url if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                DatabaseBackend::Postgres {
                    url: url.to_string(),
                }
            }
            url if url.starts_with("sqlite://") || url.starts_with("sqlite:") => {
                let path = url
                    .trim_start_matches("sqlite://")
                    .trim_start_matches("sqlite:");
                if path.is_empty() {
                    return Err(bad(
                        "DATABASE_URL",
                        "sqlite:// needs a file path, e.g. sqlite://data/idp.db",
                    ));
                }
                DatabaseBackend::Sqlite {
                    path: PathBuf::from(path),
                }
            }
            _ => return Err(bad(
                "DATABASE_URL",
                "must start with postgres:// or sqlite:// (or be unset for the embedded database)",
            )),
        };
    if raw.database.pool_size == 0 {
        return Err(bad("database.pool_size", "must be at least 1"));
    }

    let redis_url = match raw.redis.url.trim() {
        "" => None,
        url if url.starts_with("redis://") || url.starts_with("rediss://") => Some(url.to_string()),
        _ => {
            return Err(bad(
                "REDIS_URL",
                "must start with redis:// or rediss:// (or be unset for the in-process store)",
            ))
        }
    };

    let user_verification = match raw.webauthn.user_verification.as_str() {
        "required" => UserVerification::Required,
        "preferred" => UserVerification::Preferred,
        other => {
            return Err(bad(
                "webauthn.user_verification",
                format!("'{other}' is not one of: required, preferred"),
            ))
        }
    };
    let resident_key = match raw.webauthn.resident_key.as_str() {
        "required" => ResidentKey::Required,
        "preferred" => ResidentKey::Preferred,
        "discouraged" => ResidentKey::Discouraged,
        other => {
            return Err(bad(
                "webauthn.resident_key",
                format!("'{other}' is not one of: required, preferred, discouraged"),
            ))
        }
    };
    let attestation = match raw.webauthn.attestation.as_str() {
        "none" => Attestation::None,
        "indirect" => Attestation::Indirect,
        "direct" => Attestation::Direct,
        other => {
            return Err(bad(
                "webauthn.attestation",
                format!("'{other}' is not one of: none, indirect, direct"),
            ))
        }
    };
    let log_format = match raw.log.format.as_str() {
        "pretty" => LogFormat::Pretty,
        "json" => LogFormat::Json,
        other => {
            return Err(bad(
                "log.format",
                format!("'{other}' is not one of: pretty, json"),
            ))
        }
    };
    if raw.tokens.audience.trim().is_empty() {
        return Err(bad("tokens.audience", "must not be empty"));
    }
    let access_token_alg =
        crate::tokens::KeyAlg::parse(&raw.tokens.access_token_alg).ok_or_else(|| {
            bad(
                "tokens.access_token_alg",
                format!(
                    "'{}' is not one of: ES256, RS256, EdDSA",
                    raw.tokens.access_token_alg
                ),
            )
        })?;
    let jwks_max_age = secs(
        "tokens.jwks_max_age_secs",
        raw.tokens.jwks_max_age_secs,
        0,
        7 * 86400,
    )?;
    let keys_reload_interval = secs(
        "keys.reload_interval_secs",
        raw.keys.reload_interval_secs,
        1,
        300,
    )?;
    let keys_rotate_every = match raw.keys.rotate_every.trim() {
        "" | "off" => None,
        text => {
            let every = parse_duration(text).ok_or_else(|| {
                bad(
                    "keys.rotate_every",
                    format!("'{text}' is not a duration such as 30d, 12h, 90m or 3600s"),
                )
            })?;
            if every <= jwks_max_age + keys_reload_interval {
                return Err(bad(
                    "keys.rotate_every",
                    "must be longer than tokens.jwks_max_age_secs plus keys.reload_interval_secs, or a new key could never be published long enough before it signs",
                ));
            }
            Some(every)
        }
    };
    if raw.redis.key_prefix.is_empty() {
        return Err(bad("redis.key_prefix", "must not be empty"));
    }

    Ok(Settings {
        issuer,
        issuer_url,
        rp_id,
        rp_name: raw.server.rp_name,
        listen,
        workers: raw.server.workers,
        max_body_bytes: raw.server.max_body_bytes,
        shutdown_timeout: Duration::from_secs(raw.server.shutdown_timeout_secs),
        database,
        db_pool_size: raw.database.pool_size,
        db_connect_timeout: secs(
            "database.connect_timeout_secs",
            raw.database.connect_timeout_secs,
            1,
            300,
        )?,
        redis_url,
        redis_key_prefix: raw.redis.key_prefix,
        redis_connect_timeout: secs(
            "redis.connect_timeout_secs",
            raw.redis.connect_timeout_secs,
            1,
            300,
        )?,
        challenge_ttl: secs(
            "webauthn.challenge_ttl_secs",
            raw.webauthn.challenge_ttl_secs,
            1,
            3600,
        )?,
        user_verification,
        resident_key,
        attestation,
        session_lifetime: secs(
            "session.lifetime_secs",
            raw.session.lifetime_secs,
            60,
            90 * 86400,
        )?,
        keys_dir: PathBuf::from(raw.keys.dir),
        keys_reload_interval,
        keys_rotate_every,
        access_token_lifetime: secs(
            "tokens.access_token_lifetime_secs",
            raw.tokens.access_token_lifetime_secs,
            1,
            86400,
        )?,
        access_token_alg,
        audience: raw.tokens.audience,
        jwks_max_age,
        clock_skew: secs("tokens.clock_skew_secs", raw.tokens.clock_skew_secs, 0, 600)?,
        ceremonies_per_minute: raw.rate_limit.ceremonies_per_minute,
        recovery_per_user: raw.rate_limit.recovery_per_user,
        recovery_per_address: raw.rate_limit.recovery_per_address,
        clients_file: Some(raw.oidc.clients_file.trim())
            .filter(|f| !f.is_empty())
            .map(PathBuf::from),
        code_ttl: secs("oidc.code_ttl_secs", raw.oidc.code_ttl_secs, 1, 60)?,
        id_token_lifetime: secs(
            "oidc.id_token_lifetime_secs",
            raw.oidc.id_token_lifetime_secs,
            1,
            86400,
        )?,
        refresh_token_lifetime: secs(
            "oidc.refresh_token_lifetime_secs",
            raw.oidc.refresh_token_lifetime_secs,
            60,
            365 * 86400,
        )?,
        aaguid_file: Some(raw.metadata.aaguid_file.trim())
            .filter(|f| !f.is_empty())
            .map(PathBuf::from),
        log_format,
        log_level: raw.log.level,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(env: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        Settings::from_sources(
            Some(Path::new("config/default.toml")),
            env.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        )
    }

    #[test]
    fn defaults_are_valid_and_embedded() {
        let s = load(&[]).expect("defaults");
        assert_eq!(s.issuer, "http://localhost:8080");
        assert_eq!(s.rp_id, "localhost");
        assert_eq!(s.challenge_ttl, Duration::from_secs(300));
        assert!(matches!(s.database, DatabaseBackend::Sqlite { .. }));
        assert!(s.redis_url.is_none());
        assert!(!s.secure_cookies());
    }

    #[test]
    fn fixed_and_generic_env_overrides() {
        let s = load(&[
            ("PASSKEY_IDP_ISSUER", "https://id.example.com"),
            ("PASSKEY_IDP_RP_ID", "example.com"),
            ("DATABASE_URL", "postgres://u@db/x"),
            ("REDIS_URL", "redis://cache:6379"),
            ("PASSKEY_IDP__SESSION__LIFETIME_SECS", "3600"),
        ])
        .expect("valid");
        assert_eq!(s.rp_id, "example.com");
        assert!(s.secure_cookies());
        assert_eq!(s.session_lifetime, Duration::from_secs(3600));
        assert_eq!(s.redis_url.as_deref(), Some("redis://cache:6379"));
    }

    #[test]
    fn rejects_bad_values_naming_the_setting() {
        let cases: &[(&str, &str, &str)] = &[
            ("PASSKEY_IDP_ISSUER", "not a url", "PASSKEY_IDP_ISSUER"),
            (
                "PASSKEY_IDP_ISSUER",
                "http://id.example.com",
                "PASSKEY_IDP_ISSUER",
            ),
            (
                "PASSKEY_IDP_ISSUER",
                "https://id.example.com/path",
                "PASSKEY_IDP_ISSUER",
            ),
            ("PASSKEY_IDP_RP_ID", "evil.com", "PASSKEY_IDP_RP_ID"),
            ("DATABASE_URL", "mysql://x", "DATABASE_URL"),
            ("REDIS_URL", "http://x", "REDIS_URL"),
            (
                "PASSKEY_IDP__WEBAUTHN__USER_VERIFICATION",
                "discouraged",
                "webauthn.user_verification",
            ),
            (
                "PASSKEY_IDP__WEBAUTHN__CHALLENGE_TTL_SECS",
                "0",
                "webauthn.challenge_ttl_secs",
            ),
        ];
        for (k, v, setting) in cases {
            let err = load(&[(k, v)]).expect_err(k);
            assert!(err.to_string().contains(setting), "{k}={v}: {err}");
        }
    }

    #[test]
    fn durations_and_rotation_settings() {
        assert_eq!(parse_duration("30d"), Some(Duration::from_secs(30 * 86400)));
        assert_eq!(parse_duration("90m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("45"), Some(Duration::from_secs(45)));
        for bad in ["", "0s", "3w", "d", "-1h"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
        let s = load(&[("PASSKEY_IDP__KEYS__ROTATE_EVERY", "30d")]).expect("valid");
        assert_eq!(s.keys_rotate_every, Some(Duration::from_secs(30 * 86400)));
        let err = load(&[("PASSKEY_IDP__KEYS__ROTATE_EVERY", "60s")])
            .expect_err("too short for the cache");
        assert!(err.to_string().starts_with("keys.rotate_every"), "{err}");
        let err = load(&[("PASSKEY_IDP__TOKENS__ACCESS_TOKEN_ALG", "HS256")])
            .expect_err("no symmetric algs");
        assert!(
            err.to_string().starts_with("tokens.access_token_alg"),
            "{err}"
        );
    }

    #[test]
    fn rp_id_may_be_a_registrable_suffix_only() {
        let ok = load(&[
            ("PASSKEY_IDP_ISSUER", "https://login.id.example.com"),
            ("PASSKEY_IDP_RP_ID", "example.com"),
        ]);
        assert!(ok.is_ok());
        let tld = load(&[
            ("PASSKEY_IDP_ISSUER", "https://id.example.com"),
            ("PASSKEY_IDP_RP_ID", "com"),
        ]);
        assert!(tld.is_err());
        let lookalike = load(&[
            ("PASSKEY_IDP_ISSUER", "https://id.badexample.com"),
            ("PASSKEY_IDP_RP_ID", "example.com"),
        ]);
        assert!(lookalike.is_err());
    }
}
