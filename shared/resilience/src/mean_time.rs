//! How long something usually takes, and how long a newcomer would queue behind it: what admission needs to refuse
//! at the door rather than fail later.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Weight of the newest sample in the running mean: 1/8, as TCP's smoothed round-trip time.
const SHIFT: u32 = 3;

/// A running mean of durations, shared by clones.
#[derive(Debug, Clone, Default)]
pub struct MeanTime {
    micros: Arc<AtomicU64>,
}

impl MeanTime {
    pub fn record(&self, sample: Duration) {
        let sample = u64::try_from(sample.as_micros()).unwrap_or(u64::MAX);
        // Racing updates may drop a sample; the mean stays a mean of recent samples, which is all a prediction needs.
        let mean = self.micros.load(Ordering::Relaxed);
        let next = if mean == 0 {
            sample
        } else {
            mean - (mean >> SHIFT) + (sample >> SHIFT)
        };
        self.micros.store(next, Ordering::Relaxed);
    }

    /// Zero before the first sample.
    pub fn mean(&self) -> Duration {
        Duration::from_micros(self.micros.load(Ordering::Relaxed))
    }
}

/// The wait ahead of a newcomer to `servers` servers, `in_flight` of them busy and `waiting` queued, each job taking
/// `mean`: zero while a server is free; otherwise the queued jobs and the newcomer pass through the servers.
pub(crate) fn queue_wait(in_flight: usize, waiting: usize, servers: usize, mean: Duration) -> Duration {
    if in_flight < servers {
        return Duration::ZERO;
    }
    let ahead = u32::try_from(waiting).unwrap_or(u32::MAX).saturating_add(1);
    mean * ahead / u32::try_from(servers.max(1)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_expected_wait_is_the_queue_ahead_shared_among_the_servers() {
        let run = Duration::from_millis(20);
        assert_eq!(queue_wait(1, 0, 2, run), Duration::ZERO, "a free server");
        assert_eq!(queue_wait(2, 0, 2, run), Duration::from_millis(10));
        assert_eq!(queue_wait(2, 3, 2, run), Duration::from_millis(40));
        assert_eq!(queue_wait(1, 3, 1, run), Duration::from_millis(80));
    }

    #[test]
    fn the_mean_follows_recent_samples() {
        let mean = MeanTime::default();
        assert_eq!(mean.mean(), Duration::ZERO);
        mean.record(Duration::from_millis(16));
        assert_eq!(mean.mean(), Duration::from_millis(16), "the first sample is the mean");
        for _ in 0..40 {
            mean.record(Duration::from_millis(8));
        }
        let settled = mean.mean();
        assert!(
            settled >= Duration::from_millis(8) && settled < Duration::from_micros(8_100),
            "{settled:?}"
        );
    }
}
