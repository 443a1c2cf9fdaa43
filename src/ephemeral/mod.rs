//! The ephemeral store: short-lived values with a TTL (ceremony state, sessions, authorization
//! codes, revoked token ids, rate-limit counters, locks). Redis in production, an in-process map
//! for the embedded default. Which keys exist, how long they live and which are single-use is
//! decided in [`keys`], the only place that names them.
//!
//! An enum rather than a trait object: there are exactly two backends, both known here, and
//! `async fn` dispatch stays plain. Every Redis call answers within the command timeout; an
//! outage is logged once when it starts and once when it ends.

pub mod keys;
mod memory;
mod redis;
mod settings;
pub mod topology;

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

pub use self::keys::{CeremonyKind, Key};
pub use self::memory::MemoryStore;
pub use self::redis::RedisStore;
pub use self::settings::{MemoryStoreSettings, RedisSettings};
pub use self::topology::RedisMode;
use crate::outage::Outage;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("redis: {0}")]
    Redis(#[from] ::redis::RedisError),
    #[error("redis did not answer in time")]
    Timeout,
    #[error("a value could not be encoded: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("redis: a connected replica did not acknowledge a change in time")]
    NotReplicated,
}

#[derive(Clone)]
enum Backend {
    Redis(RedisStore),
    Memory(MemoryStore),
}

#[derive(Clone)]
pub struct Ephemeral {
    backend: Backend,
    /// Bound of one Redis command.
    timeout: Duration,
    outage: Outage,
}

impl Ephemeral {
    pub fn redis(store: RedisStore, timeout: Duration) -> Ephemeral {
        Ephemeral {
            backend: Backend::Redis(store),
            timeout,
            outage: Outage::new("redis"),
        }
    }

    pub fn memory(store: MemoryStore) -> Ephemeral {
        Ephemeral {
            backend: Backend::Memory(store),
            timeout: Duration::MAX,
            outage: Outage::new("memory store"),
        }
    }

    /// Runs one Redis call within the command timeout, noting outages and recoveries.
    async fn bounded<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let result = match tokio::time::timeout(self.timeout, call).await {
            Ok(result) => result,
            Err(_) => Err(StoreError::Timeout),
        };
        match &result {
            Ok(_) => {
                self.outage.answered();
            }
            Err(e) => {
                self.outage.failed(e);
            }
        }
        result
    }

    /// How many entries the in-process store holds (`None` for Redis).
    pub fn local_entries(&self) -> Option<usize> {
        match &self.backend {
            Backend::Memory(s) => Some(s.entries()),
            Backend::Redis(_) => None,
        }
    }

    /// Stores `value` under `key` for `ttl`, replacing any previous value.
    pub async fn put(&self, key: Key<'_>, value: &str, ttl: Duration) -> Result<(), StoreError> {
        let confirm = key.is_revocation();
        let key = key.render();
        match &self.backend {
            Backend::Redis(s) => {
                self.bounded(async {
                    s.put(&key, value, ttl).await?;
                    if confirm {
                        s.confirm(&key).await?;
                    }
                    Ok(())
                })
                .await
            }
            Backend::Memory(s) => {
                s.put(&key, value, ttl);
                Ok(())
            }
        }
    }

    /// Reads and deletes in one atomic step: of two concurrent calls at most one gets the value.
    /// With replicas (Sentinel, Cluster), a value is returned only once a replica has seen the
    /// deletion ([`RedisStore::confirm`]), so a failover cannot bring it back.
    pub async fn take(&self, key: Key<'_>) -> Result<Option<String>, StoreError> {
        let key = key.render();
        match &self.backend {
            Backend::Redis(s) => {
                self.bounded(async {
                    let value = s.take(&key).await?;
                    if value.is_some() {
                        s.confirm(&key).await?;
                    }
                    Ok(value)
                })
                .await
            }
            Backend::Memory(s) => Ok(s.take(&key)),
        }
    }

    pub async fn get(&self, key: Key<'_>) -> Result<Option<String>, StoreError> {
        let key = key.render();
        match &self.backend {
            Backend::Redis(s) => self.bounded(s.get(&key)).await,
            Backend::Memory(s) => Ok(s.get(&key)),
        }
    }

    /// Deletes `key`; with replicas, once a replica has seen it (an ended session stays ended
    /// after a failover).
    pub async fn delete(&self, key: Key<'_>) -> Result<(), StoreError> {
        let key = key.render();
        match &self.backend {
            Backend::Redis(s) => {
                self.bounded(async {
                    s.delete(&key).await?;
                    s.confirm(&key).await
                })
                .await
            }
            Backend::Memory(s) => {
                s.delete(&key);
                Ok(())
            }
        }
    }

    /// `value` as JSON under `key` for `ttl`.
    pub async fn put_json<T: Serialize>(
        &self,
        key: Key<'_>,
        value: &T,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        self.put(key, &serde_json::to_string(value)?, ttl).await
    }

    /// Takes a JSON value out once. A value that no longer parses (written by an older
    /// version) counts as gone.
    pub async fn take_json<T: DeserializeOwned>(
        &self,
        key: Key<'_>,
    ) -> Result<Option<T>, StoreError> {
        Ok(self.take(key).await?.and_then(|v| parse(&v)))
    }

    pub async fn get_json<T: DeserializeOwned>(
        &self,
        key: Key<'_>,
    ) -> Result<Option<T>, StoreError> {
        Ok(self.get(key).await?.and_then(|v| parse(&v)))
    }

    /// Increments a counter that expires `window` after its first increment; returns the new count.
    pub async fn incr(&self, key: Key<'_>, window: Duration) -> Result<u64, StoreError> {
        let key = key.render();
        match &self.backend {
            Backend::Redis(s) => self.bounded(s.incr(&key, window)).await,
            Backend::Memory(s) => Ok(s.incr(&key, window)),
        }
    }

    /// Takes `key` as a lock for `ttl` unless someone holds it; true when this caller got it.
    /// The lock simply expires: holders do short, idempotent work.
    pub async fn try_lock(
        &self,
        key: Key<'_>,
        holder: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let key = key.render();
        match &self.backend {
            Backend::Redis(s) => self.bounded(s.try_lock(&key, holder, ttl)).await,
            Backend::Memory(s) => Ok(s.try_lock(&key, holder, ttl)),
        }
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Redis(s) => self.bounded(s.ping()).await,
            Backend::Memory(_) => Ok(()),
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match &self.backend {
            Backend::Redis(_) => "redis",
            Backend::Memory(_) => "memory",
        }
    }
}

fn parse<T: DeserializeOwned>(value: &str) -> Option<T> {
    serde_json::from_str(value)
        .inspect_err(
            |e| tracing::warn!(error = %e, "an ephemeral value did not parse; treated as gone"),
        )
        .ok()
}
