//! A small LRU with a time-to-live, one per execution environment, for query embeddings and search results.

use lru::LruCache;
use std::hash::Hash;
use std::num::NonZeroUsize;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;
use tokio::time::Instant;

/// Holds at most `capacity` entries, each for at most `ttl`. A capacity of 0 turns the cache off.
pub struct TtlLru<K: Hash + Eq, V: Clone> {
    entries: Option<Mutex<LruCache<K, (V, Instant)>>>,
    ttl: Duration,
}

impl<K: Hash + Eq, V: Clone> TtlLru<K, V> {
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        Self {
            entries: NonZeroUsize::new(capacity).map(|c| Mutex::new(LruCache::new(c))),
            ttl,
        }
    }

    /// Whether it holds anything at all (capacity above 0).
    pub fn is_enabled(&self) -> bool {
        self.entries.is_some()
    }

    pub fn get(&self, key: &K) -> Option<V> {
        let mut entries = self.entries.as_ref()?.lock().unwrap_or_else(PoisonError::into_inner);
        match entries.get(key) {
            Some((value, stored)) if stored.elapsed() < self.ttl => Some(value.clone()),
            Some(_) => {
                entries.pop(key);
                None
            }
            None => None,
        }
    }

    pub fn put(&self, key: K, value: V) {
        if let Some(entries) = &self.entries {
            entries
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .put(key, (value, Instant::now()));
        }
    }

    /// Drops every entry `keep` rejects, e.g. a member's results after they ingest a new document.
    pub fn retain(&self, keep: impl Fn(&K) -> bool)
    where
        K: Clone,
    {
        if let Some(entries) = &self.entries {
            let mut entries = entries.lock().unwrap_or_else(PoisonError::into_inner);
            let stale: Vec<K> = entries
                .iter()
                .filter(|(k, _)| !keep(k))
                .map(|(k, _)| k.clone())
                .collect();
            for key in stale {
                entries.pop(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn entries_expire_after_the_ttl_and_the_oldest_is_evicted() {
        let cache = TtlLru::new(2, Duration::from_secs(10));
        cache.put("a", 1);
        cache.put("b", 2);
        cache.put("c", 3);
        assert_eq!(cache.get(&"a"), None, "the least recently used entry went first");
        assert_eq!(cache.get(&"b"), Some(2));
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(cache.get(&"b"), None);
    }

    #[test]
    fn invocations_sharing_one_environment_read_only_their_own_entries() {
        // Lambda Managed Instances: one cache, many members' invocations at once, keyed by member.
        let cache = TtlLru::new(64, Duration::from_secs(300));
        std::thread::scope(|scope| {
            for member in 0..16u32 {
                let cache = &cache;
                scope.spawn(move || {
                    for round in 0..500u32 {
                        cache.put((member, round % 8), member);
                        if let Some(found) = cache.get(&(member, (round + 3) % 8)) {
                            assert_eq!(found, member, "member {member} read another member's entry");
                        }
                    }
                });
            }
        });
    }

    #[test]
    fn capacity_zero_caches_nothing_and_retain_drops_matches() {
        let off = TtlLru::new(0, Duration::from_secs(10));
        off.put(1, 1);
        assert_eq!(off.get(&1), None);
        let cache = TtlLru::new(4, Duration::from_secs(10));
        cache.put((1, "q"), 1);
        cache.put((2, "q"), 2);
        cache.retain(|(user, _)| *user != 1);
        assert_eq!((cache.get(&(1, "q")), cache.get(&(2, "q"))), (None, Some(2)));
    }
}
