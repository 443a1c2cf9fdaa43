//! Fixed-window limits, counted in the ephemeral store under hashed subjects (no address or
//! username is stored): ceremony starts and OAuth requests per client address, recovery
//! attempts per address and per username. A limit of 0 turns that limit off.

use std::time::Duration;

use crate::ephemeral::{Ephemeral, Key, StoreError};

/// Recovery attempts are counted per user and per client address in this window.
pub const RECOVERY_WINDOW: Duration = Duration::from_secs(15 * 60);
const MINUTE: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub ceremonies_per_minute: u64,
    pub oauth_per_minute: u64,
    pub recovery_per_user: u64,
    pub recovery_per_address: u64,
}

#[derive(Clone)]
pub struct RateLimits {
    store: Ephemeral,
    limits: Limits,
}

impl RateLimits {
    pub fn new(store: Ephemeral, limits: Limits) -> RateLimits {
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
