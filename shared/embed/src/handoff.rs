//! One vector handed from the reader that made it to the next reader of the same words.
//!
//! In one process (`navigator serve`) the guard reads a member's question with the sentence model, and a moment later
//! retrieval embeds the same question to search with: two forward passes over the same tokens, each as costly as
//! the other. The guard leaves its vector here, keyed by the exact token ids the model read; the search that asks for
//! the same ids takes it instead of computing it again. A vector is taken at most once and kept only briefly, so
//! this is a handoff within a turn, not a cache across turns: a question asked again is embedded again.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;
use tokio::time::Instant;

/// Vectors waiting to be taken. Bounded: a flood of guarded messages whose searches never come pushes out the
/// oldest.
pub const CAPACITY: usize = 64;
/// Longer than a turn (3 s), so a search in the same turn finds it; short enough that nothing lingers.
pub const LIFETIME: Duration = Duration::from_secs(10);

struct Offered<K, V> {
    key: K,
    value: V,
    at: Instant,
}

/// The vectors on offer, oldest first.
pub struct Handoff<K, V> {
    offered: Mutex<VecDeque<Offered<K, V>>>,
}

impl<K: PartialEq, V> Default for Handoff<K, V> {
    fn default() -> Self {
        Self {
            offered: Mutex::new(VecDeque::with_capacity(CAPACITY)),
        }
    }
}

impl<K: PartialEq, V> Handoff<K, V> {
    /// Leaves `value` for one later reader of `key`.
    pub fn offer(&self, key: K, value: V) {
        let now = Instant::now();
        let mut offered = self.offered.lock().unwrap_or_else(PoisonError::into_inner);
        while offered
            .front()
            .is_some_and(|oldest| offered.len() >= CAPACITY || now.duration_since(oldest.at) >= LIFETIME)
        {
            offered.pop_front();
        }
        offered.push_back(Offered { key, value, at: now });
    }

    /// Whether nothing is on offer: a reader can skip working out its key (in a process where the guard does not
    /// run, always).
    pub fn is_empty(&self) -> bool {
        self.offered.lock().unwrap_or_else(PoisonError::into_inner).is_empty()
    }

    /// The value left for `key`, if one is there and fresh; it is no longer on offer.
    pub fn take(&self, key: &K) -> Option<V> {
        let now = Instant::now();
        let mut offered = self.offered.lock().unwrap_or_else(PoisonError::into_inner);
        let position = offered
            .iter()
            .position(|o| o.key == *key && now.duration_since(o.at) < LIFETIME)?;
        offered.remove(position).map(|o| o.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_vector_is_taken_once_by_the_same_key_only() {
        let handoff = Handoff::default();
        assert!(handoff.is_empty());
        handoff.offer(vec![101, 2054, 102], vec![0.5, 0.5]);
        assert_eq!(handoff.take(&vec![101, 2055, 102]), None, "other words");
        assert_eq!(handoff.take(&vec![101, 2054, 102]), Some(vec![0.5, 0.5]));
        assert_eq!(
            handoff.take(&vec![101, 2054, 102]),
            None,
            "a second reader embeds again"
        );
        assert!(handoff.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn a_vector_left_too_long_is_not_taken() {
        let handoff = Handoff::default();
        handoff.offer(1, vec![1.0]);
        tokio::time::advance(LIFETIME).await;
        assert_eq!(handoff.take(&1), None);
        handoff.offer(2, vec![2.0]);
        tokio::time::advance(LIFETIME / 2).await;
        assert_eq!(handoff.take(&2), Some(vec![2.0]));
    }

    #[tokio::test(start_paused = true)]
    async fn a_flood_of_offers_keeps_only_the_newest() {
        let handoff = Handoff::default();
        for key in 0..CAPACITY + 10 {
            handoff.offer(key, vec![key as f32]);
        }
        assert_eq!(handoff.take(&0), None, "pushed out");
        assert_eq!(handoff.take(&9), None, "pushed out");
        assert_eq!(handoff.take(&10), Some(vec![10.0]));
        assert_eq!(handoff.take(&(CAPACITY + 9)), Some(vec![(CAPACITY + 9) as f32]));
        assert!(handoff.offered.lock().unwrap().len() < CAPACITY);
    }
}
