//! What the settings file and environment say, as read: one struct per section of
//! `config/default.toml`. Unknown keys are refused.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSettings {
    pub(super) server: ServerSection,
    pub(super) database: DatabaseSection,
    pub(super) redis: RedisSection,
    pub(super) webauthn: WebauthnSection,
    pub(super) session: SessionSection,
    pub(super) tokens: TokensSection,
    pub(super) keys: KeysSection,
    pub(super) metadata: MetadataSection,
    pub(super) oidc: OidcSection,
    pub(super) rate_limit: RateLimitSection,
    pub(super) memory_store: MemoryStoreSection,
    pub(super) log: LogSection,
    pub(super) registration: RegistrationSection,
    pub(super) events: EventsSection,
    pub(super) ui: UiSection,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RegistrationSection {
    pub(super) mode: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EventsSection {
    pub(super) retention_days: u64,
    pub(super) sweep_interval_secs: u64,
}

/// A list setting: a TOML array, or (from the environment) one comma-separated string.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(super) enum List {
    Items(Vec<String>),
    Joined(String),
}

impl List {
    pub(super) fn items(&self) -> Vec<String> {
        let items: Vec<String> = match self {
            List::Items(items) => items.clone(),
            List::Joined(joined) => joined.split(',').map(str::to_string).collect(),
        };
        items
            .into_iter()
            .map(|i| i.trim().to_string())
            .filter(|i| !i.is_empty())
            .collect()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MemoryStoreSection {
    pub(super) max_entries: usize,
    pub(super) max_bytes: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ServerSection {
    pub(super) issuer: String,
    pub(super) rp_id: String,
    pub(super) rp_name: String,
    pub(super) listen: String,
    pub(super) workers: usize,
    pub(super) max_body_bytes: usize,
    pub(super) shutdown_timeout_secs: u64,
    pub(super) request_timeout_secs: u64,
    pub(super) max_connections_per_worker: usize,
    pub(super) trusted_proxies: List,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DatabaseSection {
    pub(super) url: String,
    pub(super) embedded_path: String,
    pub(super) pool_size: u32,
    pub(super) connect_timeout_secs: u64,
    pub(super) query_timeout_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RedisSection {
    pub(super) url: String,
    pub(super) mode: String,
    pub(super) sentinel_master: String,
    pub(super) replica_ack_timeout_ms: u64,
    pub(super) key_prefix: String,
    pub(super) connect_timeout_secs: u64,
    pub(super) command_timeout_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WebauthnSection {
    pub(super) challenge_ttl_secs: u64,
    pub(super) allow_cross_origin: bool,
    pub(super) cloned_credentials: String,
    pub(super) authenticator_attachment: String,
    pub(super) allowed_origins: List,
    pub(super) allowed_top_origins: List,
    pub(super) user_verification: String,
    pub(super) resident_key: String,
    pub(super) attestation: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SessionSection {
    pub(super) lifetime_secs: u64,
    pub(super) reauth_max_age_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TokensSection {
    pub(super) access_token_lifetime_secs: u64,
    pub(super) access_token_alg: String,
    pub(super) audience: String,
    pub(super) jwks_max_age_secs: u64,
    pub(super) clock_skew_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct KeysSection {
    pub(super) store: String,
    pub(super) dir: String,
    pub(super) kek_file: String,
    pub(super) reload_interval_secs: u64,
    pub(super) rotate_every: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct OidcSection {
    pub(super) clients_file: String,
    pub(super) code_ttl_secs: u64,
    pub(super) id_token_lifetime_secs: u64,
    pub(super) refresh_token_lifetime_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MetadataSection {
    pub(super) aaguid_file: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RateLimitSection {
    pub(super) ceremonies_per_minute: u64,
    pub(super) oauth_per_minute: u64,
    pub(super) recovery_per_user: u64,
    pub(super) recovery_per_address: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LogSection {
    pub(super) format: String,
    pub(super) level: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct UiSection {
    pub(super) product_name: String,
    pub(super) logo_file: String,
    pub(super) accent_color: String,
    pub(super) support_url: String,
    pub(super) default_language: String,
}
