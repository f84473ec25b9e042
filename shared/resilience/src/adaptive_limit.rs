//! A concurrency limit that learns how many turns this machine serves in time: additive increase, multiplicative
//! decrease, driven by the CPU pools' overruns ([`crate::CpuLoad::overruns`]).
//!
//! A fixed in-flight bound is right for one machine and wrong for the next: on a slower CPU, or one shared with
//! PostgreSQL and other processes, the same bound admits turns whose CPU work then waits past its budget, and they
//! fail late with 5xx. Overruns are that signal, read where it happens. Each time new overruns appear, the limit falls
//! by a factor, at most once per cooldown (the turn time: the turns admitted before a cut are still running after it,
//! and their overruns must not cut again); each turn that ends with no new overrun raises it by 1 / limit, so it climbs
//! back by about one per limit's worth of turns, as TCP's congestion window does per round trip. Failures of other
//! dependencies (a slow web, PostgreSQL gone) are not overruns and do not move the limit.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::time::Instant;

/// The factor the limit falls by on new overruns.
const BACKOFF: f64 = 0.75;

/// Cheap to clone: every clone shares one limit.
#[derive(Debug, Clone)]
pub struct AdaptiveLimit {
    state: Arc<Mutex<State>>,
    min: f64,
    max: f64,
}

#[derive(Debug)]
struct State {
    limit: f64,
    overruns_seen: u64,
    last_cut: Option<Instant>,
}

impl AdaptiveLimit {
    /// Starts at `max`, the configured bound, and never leaves `1..=max`.
    pub fn new(max: usize) -> Self {
        let max = max.max(1) as f64;
        Self {
            state: Arc::new(Mutex::new(State {
                limit: max,
                overruns_seen: 0,
                last_cut: None,
            })),
            min: 1.0,
            max,
        }
    }

    /// How many turns may be in flight now.
    pub fn current(&self) -> usize {
        // The limit lies in 1..=max, a usize: the cast neither wraps nor saturates.
        self.lock().limit.floor() as usize
    }

    /// After a turn: `overruns` is the running count of CPU overruns, `cooldown` the least time between two cuts.
    pub fn turn_ended(&self, overruns: u64, cooldown: Duration) {
        let now = Instant::now();
        let mut state = self.lock();
        if overruns > state.overruns_seen {
            state.overruns_seen = overruns;
            if state.last_cut.is_none_or(|cut| now.duration_since(cut) >= cooldown) {
                state.limit = (state.limit * BACKOFF).max(self.min);
                state.last_cut = Some(now);
                metrics::counter!("admission_limit_cuts_total").increment(1);
            }
        } else {
            state.limit = (state.limit + 1.0 / state.limit).min(self.max);
        }
        metrics::gauge!("admission_limit").set(state.limit.floor());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Every edit is a whole assignment: a panic elsewhere cannot leave the state half-changed.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COOLDOWN: Duration = Duration::from_millis(500);

    #[tokio::test(start_paused = true)]
    async fn new_overruns_cut_the_limit_once_per_cooldown() {
        let limit = AdaptiveLimit::new(40);
        assert_eq!(limit.current(), 40);
        limit.turn_ended(3, COOLDOWN);
        assert_eq!(limit.current(), 30, "40 × 0.75");
        // More overruns inside the cooldown come from turns admitted before the cut: no second cut.
        tokio::time::advance(Duration::from_millis(100)).await;
        limit.turn_ended(7, COOLDOWN);
        assert_eq!(limit.current(), 30);
        tokio::time::advance(COOLDOWN).await;
        limit.turn_ended(8, COOLDOWN);
        assert_eq!(limit.current(), 22, "30 × 0.75 = 22.5");
    }

    #[tokio::test(start_paused = true)]
    async fn turns_without_overruns_raise_it_by_about_one_per_limit_of_turns_up_to_the_bound() {
        let limit = AdaptiveLimit::new(40);
        limit.turn_ended(1, COOLDOWN);
        limit.turn_ended(1, COOLDOWN);
        assert_eq!(limit.current(), 30, "a count already seen is not new");
        for _ in 0..31 {
            limit.turn_ended(1, COOLDOWN);
        }
        assert_eq!(limit.current(), 31, "31 clean turns at ~30 add one");
        for _ in 0..1_000 {
            limit.turn_ended(1, COOLDOWN);
        }
        assert_eq!(limit.current(), 40, "never past the configured bound");
    }

    #[tokio::test(start_paused = true)]
    async fn it_never_falls_below_one() {
        let limit = AdaptiveLimit::new(4);
        for overruns in 1..=20 {
            limit.turn_ended(overruns, COOLDOWN);
            tokio::time::advance(COOLDOWN).await;
        }
        assert_eq!(limit.current(), 1);
    }
}
