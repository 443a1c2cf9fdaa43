//! In-process store for the embedded default. Same TTL and single-use behaviour as Redis, but
//! local to one process: run Redis when more than one instance serves the same users.
//!
//! Bounded: past `max_entries` or `max_bytes`, expired entries are dropped first, then those
//! that would expire soonest, so no flood of requests can grow the process without limit.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Expired entries are swept every this many writes.
const SWEEP_EVERY: u64 = 256;
/// What an entry costs besides its key and value (map slot, expiry, allocations).
const ENTRY_OVERHEAD: usize = 64;

struct Entries {
    entries: HashMap<String, (String, Instant)>,
    writes: u64,
    bytes: usize,
    max_entries: usize,
    max_bytes: usize,
}

fn cost(key: &str, value: &str) -> usize {
    key.len() + value.len() + ENTRY_OVERHEAD
}

impl Entries {
    fn insert(&mut self, key: &str, value: String, expires: Instant) {
        let added = cost(key, &value);
        if let Some((old, _)) = self.entries.insert(key.to_string(), (value, expires)) {
            self.bytes -= cost(key, &old);
        }
        self.bytes += added;
    }

    fn remove(&mut self, key: &str) -> Option<(String, Instant)> {
        let removed = self.entries.remove(key)?;
        self.bytes -= cost(key, &removed.0);
        Some(removed)
    }

    fn sweep_expired(&mut self, now: Instant) {
        let mut freed = 0;
        self.entries.retain(|k, (v, exp)| {
            let keep = *exp > now;
            if !keep {
                freed += cost(k, v);
            }
            keep
        });
        self.bytes -= freed;
    }

    fn over_cap(&self) -> bool {
        self.entries.len() > self.max_entries || self.bytes > self.max_bytes
    }

    /// Past a cap: expired entries go first, then a tenth of the rest, soonest expiry first
    /// (a tenth at a time, so a store at its cap does not sort on every write).
    fn enforce_caps(&mut self, now: Instant) {
        if !self.over_cap() {
            return;
        }
        self.sweep_expired(now);
        if !self.over_cap() {
            return;
        }
        let mut by_expiry: Vec<(Instant, String)> = self
            .entries
            .iter()
            .map(|(k, (_, exp))| (*exp, k.clone()))
            .collect();
        by_expiry.sort_unstable();
        let target = (self.max_entries.min(self.entries.len()) * 9) / 10;
        for (_, key) in by_expiry {
            if self.entries.len() <= target && self.bytes <= self.max_bytes * 9 / 10 {
                break;
            }
            self.remove(&key);
        }
        tracing::warn!(
            entries = self.entries.len(),
            bytes = self.bytes,
            "in-process store at its cap: dropped the entries that expire soonest"
        );
    }
}

#[derive(Clone)]
pub struct MemoryStore {
    inner: Arc<Mutex<Entries>>,
}

impl MemoryStore {
    pub fn new(max_entries: usize, max_bytes: usize) -> Self {
        MemoryStore {
            inner: Arc::new(Mutex::new(Entries {
                entries: HashMap::new(),
                writes: 0,
                bytes: 0,
                max_entries,
                max_bytes,
            })),
        }
    }

    pub fn entries(&self) -> usize {
        self.lock().entries.len()
    }

    fn lock(&self) -> MutexGuard<'_, Entries> {
        // A panic while holding the lock cannot leave the map inconsistent (every operation
        // is a single insert or remove), so a poisoned lock is still safe to use.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn written(inner: &mut Entries) {
        inner.writes += 1;
        let now = Instant::now();
        if inner.writes.is_multiple_of(SWEEP_EVERY) {
            inner.sweep_expired(now);
        }
        inner.enforce_caps(now);
    }

    pub fn put(&self, key: &str, value: &str, ttl: Duration) {
        let mut inner = self.lock();
        inner.insert(key, value.to_string(), Instant::now() + ttl);
        Self::written(&mut inner);
    }

    pub fn take(&self, key: &str) -> Option<String> {
        let (value, expires) = self.lock().remove(key)?;
        (expires > Instant::now()).then_some(value)
    }

    pub fn get(&self, key: &str) -> Option<String> {
        let inner = self.lock();
        let (value, expires) = inner.entries.get(key)?;
        (*expires > Instant::now()).then(|| value.clone())
    }

    pub fn delete(&self, key: &str) {
        self.lock().remove(key);
    }

    pub fn try_lock(&self, key: &str, holder: &str, ttl: Duration) -> bool {
        let mut inner = self.lock();
        let now = Instant::now();
        if inner.entries.get(key).is_some_and(|(_, exp)| *exp > now) {
            return false;
        }
        inner.insert(key, holder.to_string(), now + ttl);
        Self::written(&mut inner);
        true
    }

    pub fn incr(&self, key: &str, window: Duration) -> u64 {
        let mut inner = self.lock();
        let now = Instant::now();
        let (count, expires) = match inner.entries.get(key) {
            Some((count, exp)) if *exp > now => (count.parse::<u64>().unwrap_or(0), *exp),
            _ => (0, now + window),
        };
        let next = count + 1;
        inner.insert(key, next.to_string(), expires);
        Self::written(&mut inner);
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_is_single_use_and_respects_ttl() {
        let s = MemoryStore::new(1000, 1 << 20);
        s.put("a", "1", Duration::from_secs(60));
        assert_eq!(s.get("a").as_deref(), Some("1"));
        assert_eq!(s.take("a").as_deref(), Some("1"));
        assert_eq!(s.take("a"), None);
        s.put("b", "2", Duration::from_millis(1));
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(s.take("b"), None);
    }

    #[test]
    fn concurrent_takes_have_one_winner() {
        let s = MemoryStore::new(1000, 1 << 20);
        s.put("k", "v", Duration::from_secs(60));
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let s = s.clone();
                std::thread::spawn(move || s.take("k").is_some())
            })
            .collect();
        let wins = handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .filter(|w| *w)
            .count();
        assert_eq!(wins, 1);
    }

    #[test]
    fn caps_hold_and_drop_the_soonest_expiring_first() {
        let s = MemoryStore::new(1000, 1 << 20);
        s.put("long-lived", "v", Duration::from_secs(86_400));
        for i in 0..5000 {
            s.put(&format!("k{i}"), "v", Duration::from_secs(60 + i));
        }
        assert!(s.entries() <= 1000, "{} entries", s.entries());
        assert_eq!(
            s.get("long-lived").as_deref(),
            Some("v"),
            "expires last, kept"
        );
        assert_eq!(s.get("k0"), None, "expires first, dropped");

        let big = "x".repeat(10_000);
        let s = MemoryStore::new(100_000, 1 << 20);
        for i in 0..500 {
            s.put(&format!("b{i}"), &big, Duration::from_secs(60));
        }
        let bytes = s.lock().bytes;
        assert!(bytes <= 1 << 20, "{bytes} bytes");
        let counted: usize = s.lock().entries.iter().map(|(k, (v, _))| cost(k, v)).sum();
        assert_eq!(counted, bytes, "byte count stays exact");
    }

    #[test]
    fn incr_counts_within_a_window() {
        let s = MemoryStore::new(1000, 1 << 20);
        assert_eq!(s.incr("c", Duration::from_secs(60)), 1);
        assert_eq!(s.incr("c", Duration::from_secs(60)), 2);
        s.put("d", "7", Duration::from_millis(1));
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(s.incr("d", Duration::from_secs(60)), 1);
    }
}
