//! The challenge store: short-lived, single-use values (ceremony state, sessions, rate-limit
//! counters) with a TTL. Redis in production, an in-process map for the embedded default.
//!
//! An enum rather than a trait object: there are exactly two backends, both known here, and
//! `async fn` dispatch stays plain.

mod memory;
mod redis;

use std::time::Duration;

pub use self::memory::MemoryStore;
pub use self::redis::RedisStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("redis: {0}")]
    Redis(#[from] ::redis::RedisError),
    #[error("redis did not answer in time")]
    Timeout,
}

#[derive(Clone)]
pub enum ChallengeStore {
    Redis(RedisStore),
    Memory(MemoryStore),
}

impl ChallengeStore {
    /// Stores `value` under `key` for `ttl`, replacing any previous value.
    pub async fn put(&self, key: &str, value: &str, ttl: Duration) -> Result<(), StoreError> {
        match self {
            ChallengeStore::Redis(s) => s.put(key, value, ttl).await,
            ChallengeStore::Memory(s) => {
                s.put(key, value, ttl);
                Ok(())
            }
        }
    }

    /// Reads and deletes in one atomic step: of two concurrent calls at most one gets the value.
    pub async fn take(&self, key: &str) -> Result<Option<String>, StoreError> {
        match self {
            ChallengeStore::Redis(s) => s.take(key).await,
            ChallengeStore::Memory(s) => Ok(s.take(key)),
        }
    }

    pub async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        match self {
            ChallengeStore::Redis(s) => s.get(key).await,
            ChallengeStore::Memory(s) => Ok(s.get(key)),
        }
    }

    pub async fn delete(&self, key: &str) -> Result<(), StoreError> {
        match self {
            ChallengeStore::Redis(s) => s.delete(key).await,
            ChallengeStore::Memory(s) => {
                s.delete(key);
                Ok(())
            }
        }
    }

    /// Increments a counter that expires `window` after its first increment; returns the new count.
    pub async fn incr(&self, key: &str, window: Duration) -> Result<u64, StoreError> {
        match self {
            ChallengeStore::Redis(s) => s.incr(key, window).await,
            ChallengeStore::Memory(s) => Ok(s.incr(key, window)),
        }
    }

    /// Takes `key` as a lock for `ttl` unless someone holds it; true when this caller got it.
    /// The lock simply expires: holders do short, idempotent work.
    pub async fn try_lock(
        &self,
        key: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        match self {
            ChallengeStore::Redis(s) => s.try_lock(key, holder, ttl).await,
            ChallengeStore::Memory(s) => Ok(s.try_lock(key, holder, ttl)),
        }
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        match self {
            ChallengeStore::Redis(s) => s.ping().await,
            ChallengeStore::Memory(_) => Ok(()),
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            ChallengeStore::Redis(_) => "redis",
            ChallengeStore::Memory(_) => "memory",
        }
    }
}
