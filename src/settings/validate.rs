//! Validation, one function per section of the settings: each turns the raw values into typed
//! ones or stops with one line naming the setting and the fix.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use super::raw::{
    DatabaseSection, EventsSection, LogSection, MemoryStoreSection, OidcSection, RawSettings,
    RedisSection, ServerSection,
};
use crate::ephemeral::RedisMode;

use super::{
    bad, DatabaseBackend, KeyStoreKind, LogFormat, RegistrationMode, Settings, SettingsError,
};
use crate::proxy::Cidr;

use super::tokens::{keys, tokens};
use super::webauthn::webauthn;

pub(super) fn validate(raw: RawSettings) -> Result<Settings, SettingsError> {
    let server = server(&raw.server)?;
    let database = database(&raw.database)?;
    let redis = redis(&raw.redis)?;
    let oidc = oidc(&raw.oidc)?;
    let (memory_store_max_entries, memory_store_max_bytes) = memory_store(&raw.memory_store)?;
    let webauthn = webauthn(&raw.webauthn)?;
    let tokens = tokens(&raw.tokens)?;
    let keys = keys(&raw.keys, tokens.jwks_max_age)?;
    let (events_retention, sweep_interval) = events(&raw.events)?;
    let ui = super::ui::ui(&raw.ui, &raw.server.rp_name)?;
    Ok(Settings {
        issuer: server.issuer,
        issuer_url: server.issuer_url,
        rp_id: server.rp_id,
        rp_name: raw.server.rp_name,
        listen: server.listen,
        workers: raw.server.workers,
        max_body_bytes: raw.server.max_body_bytes,
        shutdown_timeout: Duration::from_secs(raw.server.shutdown_timeout_secs),
        request_timeout: server.request_timeout,
        max_connections_per_worker: raw.server.max_connections_per_worker,
        trusted_proxies: server.trusted_proxies,
        database: database.backend,
        db_pool_size: raw.database.pool_size,
        db_connect_timeout: database.connect_timeout,
        db_query_timeout: database.query_timeout,
        redis_url: redis.url,
        redis_mode: redis.mode,
        redis_replica_ack_timeout: redis.replica_ack_timeout,
        redis_key_prefix: raw.redis.key_prefix,
        redis_connect_timeout: redis.connect_timeout,
        redis_command_timeout: redis.command_timeout,
        challenge_ttl: webauthn.challenge_ttl,
        allow_cross_origin: raw.webauthn.allow_cross_origin,
        cloned_credentials: webauthn.cloned_credentials,
        authenticator_attachment: webauthn.authenticator_attachment,
        allowed_origins: webauthn.allowed_origins,
        allowed_top_origins: webauthn.allowed_top_origins,
        user_verification: webauthn.user_verification,
        resident_key: webauthn.resident_key,
        attestation: webauthn.attestation,
        session_lifetime: secs(
            "session.lifetime_secs",
            raw.session.lifetime_secs,
            60,
            90 * 86400,
        )?,
        reauth_max_age: secs(
            "session.reauth_max_age_secs",
            raw.session.reauth_max_age_secs,
            10,
            86400,
        )?,
        keys_store: match raw.keys.store.as_str() {
            "dir" => KeyStoreKind::Dir,
            "database" => KeyStoreKind::Database,
            other => {
                return Err(bad(
                    "keys.store",
                    format!("'{other}' is not one of dir, database"),
                ))
            }
        },
        keys_dir: PathBuf::from(raw.keys.dir),
        keys_kek_file: (!raw.keys.kek_file.trim().is_empty())
            .then(|| PathBuf::from(raw.keys.kek_file.trim())),
        keys_reload_interval: keys.reload_interval,
        keys_rotate_every: keys.rotate_every,
        access_token_lifetime: tokens.access_token_lifetime,
        access_token_alg: tokens.access_token_alg,
        audience: raw.tokens.audience,
        jwks_max_age: tokens.jwks_max_age,
        clock_skew: tokens.clock_skew,
        ceremonies_per_minute: raw.rate_limit.ceremonies_per_minute,
        oauth_per_minute: raw.rate_limit.oauth_per_minute,
        recovery_per_user: raw.rate_limit.recovery_per_user,
        recovery_per_address: raw.rate_limit.recovery_per_address,
        clients_file: oidc.clients_file,
        code_ttl: oidc.code_ttl,
        id_token_lifetime: oidc.id_token_lifetime,
        refresh_token_lifetime: oidc.refresh_token_lifetime,
        aaguid_file: optional_path(&raw.metadata.aaguid_file),
        memory_store_max_entries,
        memory_store_max_bytes,
        log_format: log(&raw.log)?,
        log_level: raw.log.level,
        registration_mode: registration_mode(&raw.registration.mode)?,
        events_retention,
        sweep_interval,
        ui,
    })
}

fn optional_path(raw: &str) -> Option<PathBuf> {
    Some(raw.trim())
        .filter(|f| !f.is_empty())
        .map(PathBuf::from)
}

pub(super) fn is_loopback_host(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => *d == "localhost" || d.ends_with(".localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

pub(super) fn secs(setting: &str, v: u64, min: u64, max: u64) -> Result<Duration, SettingsError> {
    if v < min || v > max {
        return Err(bad(
            setting,
            format!("must be between {min} and {max} seconds, got {v}"),
        ));
    }
    Ok(Duration::from_secs(v))
}

/// One of `choices` by name, or an error that lists them.
pub(super) fn one_of<T: Copy>(
    setting: &str,
    value: &str,
    choices: &[(&str, T)],
) -> Result<T, SettingsError> {
    choices
        .iter()
        .find(|(name, _)| *name == value)
        .map(|(_, v)| *v)
        .ok_or_else(|| {
            let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
            bad(
                setting,
                format!("'{value}' is not one of: {}", names.join(", ")),
            )
        })
}

struct Server {
    issuer: String,
    issuer_url: Url,
    rp_id: String,
    listen: SocketAddr,
    request_timeout: Duration,
    trusted_proxies: Vec<Cidr>,
}

fn at_least(setting: &str, v: usize, min: usize) -> Result<usize, SettingsError> {
    if v < min {
        return Err(bad(setting, format!("must be at least {min}, got {v}")));
    }
    Ok(v)
}

fn server(raw: &ServerSection) -> Result<Server, SettingsError> {
    let issuer_url = issuer(&raw.issuer)?;
    let host = issuer_url.host().map(|h| h.to_owned());
    let host_str = host.as_ref().map(|h| h.to_string()).unwrap_or_default();
    let rp_id = match raw.rp_id.trim() {
        "" => host_str.trim_matches(|c| c == '[' || c == ']').to_string(),
        other => other.to_ascii_lowercase(),
    };
    let rp_ok = rp_id == host_str
        || (matches!(host, Some(url::Host::Domain(_)))
            && rp_id.contains('.')
            && host_str.ends_with(&format!(".{rp_id}")));
    if !rp_ok {
        return Err(bad(
            "PASSKEY_IDP_RP_ID (server.rp_id)",
            format!("'{rp_id}' is neither the issuer's host '{host_str}' nor a registrable suffix of it; leave it empty or set a parent domain of the issuer"),
        ));
    }
    let listen: SocketAddr = raw.listen.parse().map_err(|_| {
        bad(
            "PASSKEY_IDP_LISTEN (server.listen)",
            format!("'{}' is not an address such as 127.0.0.1:8080", raw.listen),
        )
    })?;
    if raw.max_body_bytes < 1024 {
        return Err(bad("server.max_body_bytes", "must be at least 1024"));
    }
    at_least(
        "server.max_connections_per_worker",
        raw.max_connections_per_worker,
        1,
    )?;
    let trusted_proxies = raw
        .trusted_proxies
        .items()
        .iter()
        .map(|c| c.parse::<Cidr>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad("server.trusted_proxies", e))?;
    Ok(Server {
        issuer: issuer_url.as_str().trim_end_matches('/').to_string(),
        issuer_url,
        rp_id,
        listen,
        request_timeout: secs(
            "server.request_timeout_secs",
            raw.request_timeout_secs,
            1,
            300,
        )?,
        trusted_proxies,
    })
}

/// The issuer: a bare https origin (http only on loopback).
fn issuer(raw: &str) -> Result<Url, SettingsError> {
    let setting = "PASSKEY_IDP_ISSUER (server.issuer)";
    let url = Url::parse(raw.trim()).map_err(|e| {
        bad(
            setting,
            format!("{e}; set an origin such as https://id.example.com"),
        )
    })?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(bad(setting, "must be an https:// origin"));
    }
    let host = url.host().ok_or_else(|| {
        bad(
            setting,
            "has no host; set an origin such as https://id.example.com",
        )
    })?;
    if url.scheme() == "http" && !is_loopback_host(&host) {
        return Err(bad(
            setting,
            "http is allowed only for localhost; use https:// for any other host",
        ));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(bad(
            setting,
            "must be a bare origin without path, query or fragment",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(setting, "must not contain credentials"));
    }
    Ok(url)
}

struct Database {
    backend: DatabaseBackend,
    connect_timeout: Duration,
    query_timeout: Duration,
}

fn database(raw: &DatabaseSection) -> Result<Database, SettingsError> {
    if raw.pool_size == 0 {
        return Err(bad("database.pool_size", "must be at least 1"));
    }
    Ok(Database {
        backend: database_backend(raw)?,
        connect_timeout: secs(
            "database.connect_timeout_secs",
            raw.connect_timeout_secs,
            1,
            300,
        )?,
        query_timeout: secs(
            "database.query_timeout_secs",
            raw.query_timeout_secs,
            1,
            300,
        )?,
    })
}

fn database_backend(raw: &DatabaseSection) -> Result<DatabaseBackend, SettingsError> {
    match raw.url.trim() {
        "" => Ok(DatabaseBackend::Sqlite {
            path: PathBuf::from(&raw.embedded_path),
        }),
        url if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Ok(DatabaseBackend::Postgres {
                url: url.to_string(),
            })
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
            Ok(DatabaseBackend::Sqlite {
                path: PathBuf::from(path),
            })
        }
        _ => Err(bad(
            "DATABASE_URL",
            "must start with postgres:// or sqlite:// (or be unset for the embedded database)",
        )),
    }
}

struct Redis {
    /// `None` means the in-process store.
    url: Option<String>,
    mode: RedisMode,
    replica_ack_timeout: Duration,
    connect_timeout: Duration,
    command_timeout: Duration,
}

fn redis(raw: &RedisSection) -> Result<Redis, SettingsError> {
    if raw.key_prefix.is_empty() {
        return Err(bad("redis.key_prefix", "must not be empty"));
    }
    let mode = match (raw.mode.as_str(), raw.sentinel_master.trim()) {
        ("single", _) => RedisMode::Single,
        ("cluster", _) => RedisMode::Cluster,
        ("sentinel", "") => {
            return Err(bad(
                "redis.sentinel_master",
                "names the master the Sentinels watch; required in sentinel mode",
            ))
        }
        ("sentinel", master) => RedisMode::Sentinel {
            master: master.to_string(),
        },
        (other, _) => {
            return Err(bad(
                "redis.mode",
                format!("'{other}' is not one of single, sentinel, cluster"),
            ))
        }
    };
    let url = match raw.url.trim() {
        "" => None,
        url => {
            let urls: Vec<&str> = url.split(',').map(str::trim).collect();
            if urls
                .iter()
                .any(|u| !(u.starts_with("redis://") || u.starts_with("rediss://")))
            {
                return Err(bad(
                    "REDIS_URL",
                    "must start with redis:// or rediss:// (or be unset for the in-process store)",
                ));
            }
            if urls.len() > 1 && mode == RedisMode::Single {
                return Err(bad(
                    "REDIS_URL",
                    "holds several URLs: set redis.mode to sentinel or cluster, or give one URL",
                ));
            }
            if mode == RedisMode::Cluster
                && urls.iter().any(|u| {
                    // The path (a database index) without a fragment (`#insecure`) or query.
                    let path = u
                        .split("://")
                        .nth(1)
                        .and_then(|r| r.split_once('/'))
                        .map(|(_, p)| p.split(['#', '?']).next().unwrap_or(""));
                    !matches!(path, None | Some("") | Some("0"))
                })
            {
                return Err(bad(
                    "REDIS_URL",
                    "a Redis Cluster has no database index: leave the path off the URLs",
                ));
            }
            Some(urls.join(","))
        }
    };
    if !(1..=5000).contains(&raw.replica_ack_timeout_ms) {
        return Err(bad(
            "redis.replica_ack_timeout_ms",
            "must be between 1 and 5000",
        ));
    }
    Ok(Redis {
        url,
        mode,
        replica_ack_timeout: Duration::from_millis(raw.replica_ack_timeout_ms),
        connect_timeout: secs(
            "redis.connect_timeout_secs",
            raw.connect_timeout_secs,
            1,
            300,
        )?,
        command_timeout: secs(
            "redis.command_timeout_secs",
            raw.command_timeout_secs,
            1,
            60,
        )?,
    })
}

struct Oidc {
    clients_file: Option<PathBuf>,
    code_ttl: Duration,
    id_token_lifetime: Duration,
    refresh_token_lifetime: Duration,
}

fn oidc(raw: &OidcSection) -> Result<Oidc, SettingsError> {
    Ok(Oidc {
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

/// `(max_entries, max_bytes)` of the in-process store.
fn memory_store(raw: &MemoryStoreSection) -> Result<(usize, usize), SettingsError> {
    Ok((
        at_least("memory_store.max_entries", raw.max_entries, 1000)?,
        at_least("memory_store.max_bytes", raw.max_bytes, 1 << 20)?,
    ))
}

fn log(raw: &LogSection) -> Result<LogFormat, SettingsError> {
    one_of(
        "log.format",
        &raw.format,
        &[("pretty", LogFormat::Pretty), ("json", LogFormat::Json)],
    )
}

/// How long events are kept, and how often the sweep runs.
fn events(raw: &EventsSection) -> Result<(Duration, Duration), SettingsError> {
    let retention = raw
        .retention_days
        .checked_mul(86_400)
        .filter(|s| *s > 0)
        .ok_or_else(|| bad("events.retention_days", "must be at least 1"))?;
    let sweep = secs(
        "events.sweep_interval_secs",
        raw.sweep_interval_secs,
        1,
        7 * 86_400,
    )?;
    Ok((Duration::from_secs(retention), sweep))
}

fn registration_mode(raw: &str) -> Result<RegistrationMode, SettingsError> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "open" => Ok(RegistrationMode::Open),
        "invite" => Ok(RegistrationMode::Invite),
        "closed" => Ok(RegistrationMode::Closed),
        other => Err(bad(
            "registration.mode",
            format!("'{other}' is not one of: open, invite, closed"),
        )),
    }
}
