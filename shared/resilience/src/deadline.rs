//! One absolute deadline per request, propagated to every call (docs/DESIGN.md §1 step 2).

use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

/// The work did not finish before its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("deadline exceeded")]
pub struct DeadlineExceeded;

/// An absolute point in time by which a request, or one stage of it, must be done.
///
/// A child deadline is never later than its parent: [`Deadline::child`] and [`Deadline::stage`] only shrink.
///
/// ```
/// # use std::time::Duration;
/// # use navigator_resilience::Deadline;
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let request = Deadline::after(Duration::from_millis(3000));
/// // The guard gets at most 600 ms, and never eats the 1 s kept for the stages after it.
/// let guard = request.stage(Duration::from_millis(600), Duration::from_millis(1000));
/// assert!(guard.remaining() <= Duration::from_millis(600));
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Deadline {
    at: Instant,
}

impl Deadline {
    /// A deadline `budget` from now.
    pub fn after(budget: Duration) -> Self {
        Self {
            at: Instant::now() + budget,
        }
    }

    /// A deadline at an instant of tokio's clock.
    pub fn at(at: Instant) -> Self {
        Self { at }
    }

    /// The deadline carried in a tool envelope as Unix epoch milliseconds (docs/DESIGN.md §3).
    ///
    /// A time already past gives an expired deadline; it never panics.
    pub fn from_unix_ms(unix_ms: u64) -> Self {
        let now_ms = unix_now_ms();
        let now = Instant::now();
        if unix_ms <= now_ms {
            let late = Duration::from_millis(now_ms - unix_ms);
            Self {
                at: now.checked_sub(late).unwrap_or(now),
            }
        } else {
            Self {
                at: now + Duration::from_millis(unix_ms - now_ms),
            }
        }
    }

    /// This deadline as Unix epoch milliseconds, for the envelope of a tool call.
    pub fn to_unix_ms(&self) -> u64 {
        unix_now_ms().saturating_add(self.remaining().as_millis() as u64)
    }

    pub fn instant(&self) -> Instant {
        self.at
    }

    /// Time left; zero once the deadline has passed.
    pub fn remaining(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }

    pub fn is_expired(&self) -> bool {
        Instant::now() >= self.at
    }

    /// The earlier of this deadline and `budget` from now.
    pub fn child(&self, budget: Duration) -> Self {
        Self {
            at: self.at.min(Instant::now() + budget),
        }
    }

    /// A stage's deadline: `min(stage budget, remaining − reserve)`, where `reserve` is kept for the stages after it.
    pub fn stage(&self, budget: Duration, reserve_after: Duration) -> Self {
        let reserved = self
            .at
            .checked_sub(reserve_after)
            .unwrap_or(self.at)
            .max(Instant::now());
        Self {
            at: reserved.min(Instant::now() + budget),
        }
    }

    /// The earlier of two deadlines.
    pub fn min(self, other: Self) -> Self {
        if other.at < self.at { other } else { self }
    }

    /// Runs `work` until it finishes or this deadline passes, whichever is first. On expiry `work` is dropped.
    pub async fn run<F: Future>(&self, work: F) -> Result<F::Output, DeadlineExceeded> {
        tokio::time::timeout_at(self.at, work)
            .await
            .map_err(|_| DeadlineExceeded)
    }
}

fn unix_now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn child_never_outlives_its_parent() {
        let parent = Deadline::after(Duration::from_millis(500));
        assert_eq!(parent.child(Duration::from_secs(10)), parent);
        assert_eq!(
            parent.child(Duration::from_millis(100)).remaining(),
            Duration::from_millis(100)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn stage_keeps_the_reserve_for_later_stages() {
        let request = Deadline::after(Duration::from_millis(3000));
        let stage = request.stage(Duration::from_millis(800), Duration::from_millis(2500));
        assert_eq!(stage.remaining(), Duration::from_millis(500));
        let roomy = request.stage(Duration::from_millis(800), Duration::from_millis(100));
        assert_eq!(roomy.remaining(), Duration::from_millis(800));
        let starved = request.stage(Duration::from_millis(800), Duration::from_millis(5000));
        assert!(starved.is_expired());
    }

    #[tokio::test(start_paused = true)]
    async fn run_drops_work_past_the_deadline() {
        let deadline = Deadline::after(Duration::from_millis(100));
        let slow = tokio::time::sleep(Duration::from_millis(101));
        assert_eq!(deadline.run(slow).await, Err(DeadlineExceeded));
        let fast = Deadline::after(Duration::from_millis(100)).run(async { 7 }).await;
        assert_eq!(fast, Ok(7));
    }

    #[tokio::test]
    async fn unix_ms_round_trips_within_a_millisecond_or_two() {
        let in_a_second = unix_now_ms() + 1000;
        let deadline = Deadline::from_unix_ms(in_a_second);
        assert!(deadline.to_unix_ms().abs_diff(in_a_second) <= 2);
        assert!(Deadline::from_unix_ms(0).is_expired());
    }
}
