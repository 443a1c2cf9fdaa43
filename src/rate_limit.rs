//! Fixed-window limits, counted in the ephemeral store under hashed subjects (no address or
//! username is stored): ceremony starts and OAuth requests per client address, recovery
//! attempts per address and per username. A limit of 0 turns that limit off.

use std::time::Duration;

use serde::Deserialize;

use crate::config::{Section, SettingsError};
use crate::ephemeral::{Ephemeral, Key, StoreError};

/// Recovery attempts are counted per user and per client address in this window.
pub const RECOVERY_WINDOW: Duration = Duration::from_secs(15 * 60);
const MINUTE: Duration = Duration::from_secs(60);

/// `[rate_limit]`: every limit counts per client address (behind `server.trusted_proxies`, the
/// address they forward); 0 turns a limit off.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitSettings {
    /// Ceremony starts (`register/begin`, `login/begin`) per minute.
    pub ceremonies_per_minute: u64,
    /// Requests to `/authorize`, `/token`, `/revoke` and `/userinfo` per minute.
    pub oauth_per_minute: u64,
    /// Requests to the admin API (`/api/admin/v1`) per minute.
    pub admin_per_minute: u64,
    /// Recovery attempts per username, and per address, in [`RECOVERY_WINDOW`].
    pub recovery_per_user: u64,
    pub recovery_per_address: u64,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        RateLimitSettings {
            ceremonies_per_minute: 300,
            oauth_per_minute: 600,
            admin_per_minute: 600,
            recovery_per_user: 5,
            recovery_per_address: 50,
        }
    }
}

impl Section for RateLimitSettings {
    const NAME: &'static str = "rate_limit";
    type Raw = RateLimitSettings;

    /// Any count is a limit; 0 turns it off.
    fn check(raw: RateLimitSettings) -> Result<RateLimitSettings, SettingsError> {
        Ok(raw)
    }
}

#[derive(Clone)]
pub struct RateLimits {
    store: Ephemeral,
    limits: RateLimitSettings,
}

impl RateLimits {
    pub fn new(store: Ephemeral, limits: RateLimitSettings) -> RateLimits {
        RateLimits { store, limits }
    }

    /// Counts a ceremony start from `addr`; false once the address is over its limit.
    pub async fn allow_ceremony_start(&self, addr: &str) -> Result<bool, StoreError> {
        self.count(
            Key::CeremonyStarts(addr),
            self.limits.ceremonies_per_minute,
            MINUTE,
        )
        .await
    }

    /// Counts a request to an OAuth endpoint (`/authorize`, `/token`, `/revoke`, `/userinfo`)
    /// from `addr`; false once the address is over its limit.
    pub async fn allow_oauth_request(&self, addr: &str) -> Result<bool, StoreError> {
        self.count(
            Key::OAuthRequests(addr),
            self.limits.oauth_per_minute,
            MINUTE,
        )
        .await
    }

    /// Counts a request to the admin API from `addr`; false once the address is over its limit.
    pub async fn allow_admin_request(&self, addr: &str) -> Result<bool, StoreError> {
        self.count(
            Key::AdminRequests(addr),
            self.limits.admin_per_minute,
            MINUTE,
        )
        .await
    }

    /// Counts a recovery attempt from `addr` for `username`; false once either is over its limit.
    pub async fn allow_recovery(&self, addr: &str, username: &str) -> Result<bool, StoreError> {
        let by_address = self
            .count(
                Key::RecoveryByAddress(addr),
                self.limits.recovery_per_address,
                RECOVERY_WINDOW,
            )
            .await?;
        if !by_address {
            return Ok(false);
        }
        self.count(
            Key::RecoveryByUser(username),
            self.limits.recovery_per_user,
            RECOVERY_WINDOW,
        )
        .await
    }

    /// Counts a recovery-link attempt from `addr` (links name no user); false once the address
    /// is over its recovery limit.
    pub async fn allow_recovery_link(&self, addr: &str) -> Result<bool, StoreError> {
        self.count(
            Key::RecoveryByAddress(addr),
            self.limits.recovery_per_address,
            RECOVERY_WINDOW,
        )
        .await
    }

    async fn count(&self, key: Key<'_>, limit: u64, window: Duration) -> Result<bool, StoreError> {
        if limit == 0 {
            return Ok(true);
        }
        let allowed = self.store.incr(key, window).await? <= limit;
        if !allowed {
            crate::events::Event::RateLimited.now().report();
        }
        Ok(allowed)
    }
}
