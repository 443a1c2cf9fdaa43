//! In-process store for the embedded default. Same TTL and single-use behaviour as Redis, but
//! local to one process: run Redis when more than one instance serves the same users.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Expired entries are swept every this many writes, so the map cannot grow without bound.
const SWEEP_EVERY: u64 = 256;

#[derive(Default)]
struct Inner {
    entries: HashMap<String, (String, Instant)>,
    writes: u64,
}

#[derive(Clone, Default)]
pub struct MemoryStore {
    inner: Arc<Mutex<Inner>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the map inconsistent (every operation
        // is a single insert or remove), so a poisoned lock is still safe to use.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn written(inner: &mut Inner) {
        inner.writes += 1;
        if inner.writes.is_multiple_of(SWEEP_EVERY) {
            let now = Instant::now();
            inner.entries.retain(|_, (_, exp)| *exp > now);
        }
    }

    pub fn put(&self, key: &str, value: &str, ttl: Duration) {
        let mut inner = self.lock();
        inner
            .entries
            .insert(key.to_string(), (value.to_string(), Instant::now() + ttl));
        Self::written(&mut inner);
    }

    pub fn take(&self, key: &str) -> Option<String> {
        let (value, expires) = self.lock().entries.remove(key)?;
        (expires > Instant::now()).then_some(value)
    }

    pub fn get(&self, key: &str) -> Option<String> {
        let inner = self.lock();
        let (value, expires) = inner.entries.get(key)?;
        (*expires > Instant::now()).then(|| value.clone())
    }

    pub fn delete(&self, key: &str) {
        self.lock().entries.remove(key);
    }

    pub fn try_lock(&self, key: &str, holder: &str, ttl: Duration) -> bool {
        let mut inner = self.lock();
        let now = Instant::now();
        if inner.entries.get(key).is_some_and(|(_, exp)| *exp > now) {
            return false;
        }
        inner
            .entries
            .insert(key.to_string(), (holder.to_string(), now + ttl));
        Self::written(&mut inner);
        true
    }

    pub fn incr(&self, key: &str, window: Duration) -> u64 {
        let mut inner = self.lock();
        let now = Instant::now();
        let entry = inner
            .entries
            .entry(key.to_string())
            .or_insert_with(|| ("0".to_string(), now + window));
        if entry.1 <= now {
            *entry = ("0".to_string(), now + window);
        }
        let next = entry.0.parse::<u64>().unwrap_or(0) + 1;
        entry.0 = next.to_string();
        Self::written(&mut inner);
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_is_single_use_and_respects_ttl() {
        let s = MemoryStore::new();
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
        let s = MemoryStore::new();
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
    fn incr_counts_within_a_window() {
        let s = MemoryStore::new();
        assert_eq!(s.incr("c", Duration::from_secs(60)), 1);
        assert_eq!(s.incr("c", Duration::from_secs(60)), 2);
        s.put("d", "7", Duration::from_millis(1));
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(s.incr("d", Duration::from_secs(60)), 1);
    }
}
