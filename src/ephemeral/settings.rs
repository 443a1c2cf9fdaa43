//! `[redis]` and `[memory_store]`: the challenge store behind every instance, or the
//! in-process one of a single instance.

use std::time::Duration;

use serde::Deserialize;

use super::RedisMode;
use crate::config::{at_least, bad, secs, Section, SettingsError};

#[derive(Debug, Clone)]
pub struct RedisSettings {
    /// The URL, or in sentinel and cluster mode the comma-separated URLs, as given; `None`
    /// means the in-process store.
    pub url: Option<String>,
    pub mode: RedisMode,
    /// In sentinel and cluster mode, how long a consumption waits for a replica's ack.
    pub replica_ack_timeout: Duration,
    pub key_prefix: String,
    pub connect_timeout: Duration,
    pub command_timeout: Duration,
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedisRaw {
    url: String,
    mode: String,
    sentinel_master: String,
    replica_ack_timeout_ms: u64,
    key_prefix: String,
    connect_timeout_secs: u64,
    command_timeout_secs: u64,
}

impl Default for RedisRaw {
    fn default() -> Self {
        RedisRaw {
            url: String::new(),
            mode: "single".into(),
            sentinel_master: String::new(),
            replica_ack_timeout_ms: 200,
            key_prefix: "passkey-idp:".into(),
            connect_timeout_secs: 3,
            command_timeout_secs: 2,
        }
    }
}

impl Section for RedisSettings {
    const NAME: &'static str = "redis";
    type Raw = RedisRaw;

    fn check(raw: RedisRaw) -> Result<RedisSettings, SettingsError> {
        if raw.key_prefix.is_empty() {
            return Err(bad("redis.key_prefix", "must not be empty"));
        }
        let mode = mode(&raw.mode, raw.sentinel_master.trim())?;
        if !(1..=5000).contains(&raw.replica_ack_timeout_ms) {
            return Err(bad(
                "redis.replica_ack_timeout_ms",
                "must be between 1 and 5000",
            ));
        }
        Ok(RedisSettings {
            url: urls(&raw.url, &mode)?,
            mode,
            replica_ack_timeout: Duration::from_millis(raw.replica_ack_timeout_ms),
            key_prefix: raw.key_prefix,
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
}

fn mode(mode: &str, sentinel_master: &str) -> Result<RedisMode, SettingsError> {
    match (mode, sentinel_master) {
        ("single", _) => Ok(RedisMode::Single),
        ("cluster", _) => Ok(RedisMode::Cluster),
        ("sentinel", "") => Err(bad(
            "redis.sentinel_master",
            "names the master the Sentinels watch; required in sentinel mode",
        )),
        ("sentinel", master) => Ok(RedisMode::Sentinel {
            master: master.to_string(),
        }),
        (other, _) => Err(bad(
            "redis.mode",
            format!("'{other}' is not one of single, sentinel, cluster"),
        )),
    }
}

/// `REDIS_URL`: one URL, or in sentinel and cluster mode several, comma-separated.
fn urls(url: &str, mode: &RedisMode) -> Result<Option<String>, SettingsError> {
    let url = url.trim();
    if url.is_empty() {
        return Ok(None);
    }
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
    if urls.len() > 1 && *mode == RedisMode::Single {
        return Err(bad(
            "REDIS_URL",
            "holds several URLs: set redis.mode to sentinel or cluster, or give one URL",
        ));
    }
    let with_index = |u: &&str| {
        // The path (a database index) without a fragment (`#insecure`) or query.
        let path = u
            .split("://")
            .nth(1)
            .and_then(|r| r.split_once('/'))
            .map(|(_, p)| p.split(['#', '?']).next().unwrap_or(""));
        !matches!(path, None | Some("") | Some("0"))
    };
    if *mode == RedisMode::Cluster && urls.iter().any(with_index) {
        return Err(bad(
            "REDIS_URL",
            "a Redis Cluster has no database index: leave the path off the URLs",
        ));
    }
    Ok(Some(urls.join(",")))
}

/// The caps of the in-process store.
#[derive(Debug, Clone)]
pub struct MemoryStoreSettings {
    pub max_entries: usize,
    pub max_bytes: usize,
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MemoryStoreRaw {
    max_entries: usize,
    max_bytes: usize,
}

impl Default for MemoryStoreRaw {
    fn default() -> Self {
        MemoryStoreRaw {
            max_entries: 100_000,
            max_bytes: 64 << 20,
        }
    }
}

impl Section for MemoryStoreSettings {
    const NAME: &'static str = "memory_store";
    type Raw = MemoryStoreRaw;

    fn check(raw: MemoryStoreRaw) -> Result<MemoryStoreSettings, SettingsError> {
        Ok(MemoryStoreSettings {
            max_entries: at_least("memory_store.max_entries", raw.max_entries, 1000)?,
            max_bytes: at_least("memory_store.max_bytes", raw.max_bytes, 1 << 20)?,
        })
    }
}
