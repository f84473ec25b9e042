//! A bulkhead: at most `max_in_flight` at once, at most `queue_bound` waiting, and an instant reject past that.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::Deadline;

/// The bulkhead could not admit the call: its queue was full, or the caller's deadline passed while queued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{bulkhead} is over capacity ({reason}); retry after {}s", retry_after.as_secs())]
pub struct Overloaded {
    pub bulkhead: &'static str,
    pub reason: &'static str,
    /// A hint for the caller's `Retry-After`.
    pub retry_after: Duration,
}

/// Counters a bulkhead keeps, for metrics and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BulkheadStats {
    pub admitted: u64,
    pub queued: u64,
    pub rejected: u64,
    pub in_flight: usize,
    pub waiting: usize,
}

#[derive(Debug)]
struct Shared {
    name: &'static str,
    permits: Arc<Semaphore>,
    max_in_flight: usize,
    queue_bound: usize,
    waiting: AtomicUsize,
    admitted: AtomicU64,
    queued: AtomicU64,
    rejected: AtomicU64,
}

/// A permit semaphore plus a bounded wait queue. Cheap to clone; clones share one bound.
#[derive(Debug, Clone)]
pub struct Bulkhead {
    shared: Arc<Shared>,
}

/// Holding this is being in flight; dropping it frees the slot.
#[derive(Debug)]
pub struct BulkheadPermit {
    _permit: OwnedSemaphorePermit,
    shared: Arc<Shared>,
}

impl Drop for BulkheadPermit {
    fn drop(&mut self) {
        metrics::gauge!(navigator_metrics::BULKHEAD_IN_FLIGHT.name, "bulkhead" => self.shared.name).decrement(1.0);
    }
}

/// Decrements the wait count however the wait ends: admitted, timed out, or cancelled.
struct WaitSlot<'a>(&'a Shared);

impl<'a> WaitSlot<'a> {
    /// Counts a caller already counted in `waiting` as queued.
    fn enter(shared: &'a Shared) -> Self {
        shared.queued.fetch_add(1, Ordering::Relaxed);
        metrics::gauge!(navigator_metrics::BULKHEAD_QUEUED.name, "bulkhead" => shared.name).increment(1.0);
        Self(shared)
    }
}

impl Drop for WaitSlot<'_> {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::AcqRel);
        metrics::gauge!(navigator_metrics::BULKHEAD_QUEUED.name, "bulkhead" => self.0.name).decrement(1.0);
    }
}

const RETRY_AFTER: Duration = Duration::from_secs(1);

impl Bulkhead {
    /// `max_in_flight` must be at least 1; `queue_bound` may be 0 for fail-fast.
    pub fn new(name: &'static str, max_in_flight: usize, queue_bound: usize) -> Self {
        let max_in_flight = max_in_flight.max(1);
        // Present from the start, so a dashboard shows an idle bulkhead as 0 rather than no data.
        metrics::gauge!(navigator_metrics::BULKHEAD_IN_FLIGHT.name, "bulkhead" => name).increment(0.0);
        metrics::gauge!(navigator_metrics::BULKHEAD_QUEUED.name, "bulkhead" => name).increment(0.0);
        metrics::counter!(navigator_metrics::BULKHEAD_ADMITTED.name, "bulkhead" => name).increment(0);
        metrics::counter!(navigator_metrics::BULKHEAD_REJECTED.name, "bulkhead" => name).increment(0);
        Self {
            shared: Arc::new(Shared {
                name,
                permits: Arc::new(Semaphore::new(max_in_flight)),
                max_in_flight,
                queue_bound,
                waiting: AtomicUsize::new(0),
                admitted: AtomicU64::new(0),
                queued: AtomicU64::new(0),
                rejected: AtomicU64::new(0),
            }),
        }
    }

    pub fn name(&self) -> &'static str {
        self.shared.name
    }

    /// How many holders may run at once.
    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight
    }

    /// Admits at once if a permit is free; otherwise waits in the queue until a permit frees or `deadline` passes;
    /// rejects at once if the queue is full.
    pub async fn acquire(&self, deadline: Deadline) -> Result<BulkheadPermit, Overloaded> {
        let shared = &self.shared;
        if let Ok(permit) = Arc::clone(&shared.permits).try_acquire_owned() {
            return Ok(self.admit(permit));
        }
        if shared.waiting.fetch_add(1, Ordering::AcqRel) >= shared.queue_bound {
            shared.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(self.reject("queue full"));
        }
        let _slot = WaitSlot::enter(shared);
        match deadline.run(Arc::clone(&shared.permits).acquire_owned()).await {
            Ok(Ok(permit)) => Ok(self.admit(permit)),
            // The semaphore is never closed; treat it like a deadline miss all the same.
            Ok(Err(_)) | Err(_) => Err(self.reject("deadline passed while queued")),
        }
    }

    /// Acquires, runs `work`, and frees the slot when `work` ends or is dropped.
    pub async fn run<F: std::future::Future>(&self, deadline: Deadline, work: F) -> Result<F::Output, Overloaded> {
        let _permit = self.acquire(deadline).await?;
        Ok(work.await)
    }

    /// How long a caller arriving now would queue, if each holder keeps its permit for `mean`: zero while a permit
    /// is free; otherwise the waiting callers and the newcomer pass through the permits.
    pub fn expected_wait(&self, mean: Duration) -> Duration {
        let stats = self.stats();
        crate::mean_time::queue_wait(stats.in_flight, stats.waiting, self.shared.max_in_flight, mean)
    }

    pub fn stats(&self) -> BulkheadStats {
        let shared = &self.shared;
        BulkheadStats {
            admitted: shared.admitted.load(Ordering::Relaxed),
            queued: shared.queued.load(Ordering::Relaxed),
            rejected: shared.rejected.load(Ordering::Relaxed),
            in_flight: shared.max_in_flight - shared.permits.available_permits(),
            waiting: shared.waiting.load(Ordering::Relaxed),
        }
    }

    fn admit(&self, permit: OwnedSemaphorePermit) -> BulkheadPermit {
        self.shared.admitted.fetch_add(1, Ordering::Relaxed);
        metrics::counter!(navigator_metrics::BULKHEAD_ADMITTED.name, "bulkhead" => self.shared.name).increment(1);
        metrics::gauge!(navigator_metrics::BULKHEAD_IN_FLIGHT.name, "bulkhead" => self.shared.name).increment(1.0);
        BulkheadPermit {
            _permit: permit,
            shared: Arc::clone(&self.shared),
        }
    }

    fn reject(&self, reason: &'static str) -> Overloaded {
        self.shared.rejected.fetch_add(1, Ordering::Relaxed);
        metrics::counter!(navigator_metrics::BULKHEAD_REJECTED.name, "bulkhead" => self.shared.name).increment(1);
        Overloaded {
            bulkhead: self.shared.name,
            reason,
            retry_after: RETRY_AFTER,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::time::Instant;

    fn far() -> Deadline {
        Deadline::after(Duration::from_secs(60))
    }

    #[tokio::test(start_paused = true)]
    async fn full_queue_rejects_at_once() {
        let bulkhead = Bulkhead::new("test", 2, 1);
        let _a = bulkhead.acquire(far()).await.unwrap();
        let _b = bulkhead.acquire(far()).await.unwrap();
        let waiter = {
            let bulkhead = bulkhead.clone();
            tokio::spawn(async move { bulkhead.acquire(far()).await.map(|_| ()) })
        };
        tokio::task::yield_now().await;
        assert_eq!(bulkhead.stats().waiting, 1);

        let started = Instant::now();
        let rejected = bulkhead.acquire(far()).await.unwrap_err();
        assert_eq!(
            started.elapsed(),
            Duration::ZERO,
            "a full queue must not make the caller wait"
        );
        assert_eq!(rejected.reason, "queue full");
        assert_eq!(bulkhead.stats().rejected, 1);
        waiter.abort();
    }

    #[tokio::test(start_paused = true)]
    async fn queued_call_is_admitted_when_a_permit_frees() {
        let bulkhead = Bulkhead::new("test", 1, 1);
        let first = bulkhead.acquire(far()).await.unwrap();
        let waiter = {
            let bulkhead = bulkhead.clone();
            tokio::spawn(async move {
                let _permit = bulkhead.acquire(far()).await.unwrap();
                Instant::now()
            })
        };
        tokio::time::sleep(Duration::from_millis(250)).await;
        let released_at = Instant::now();
        drop(first);
        assert_eq!(waiter.await.unwrap(), released_at);
        let stats = bulkhead.stats();
        assert_eq!(
            (stats.admitted, stats.queued, stats.rejected, stats.waiting),
            (2, 1, 0, 0)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn queue_wait_ends_at_the_callers_deadline() {
        let bulkhead = Bulkhead::new("test", 1, 4);
        let _held = bulkhead.acquire(far()).await.unwrap();
        let started = Instant::now();
        let err = bulkhead
            .acquire(Deadline::after(Duration::from_millis(300)))
            .await
            .unwrap_err();
        assert_eq!(started.elapsed(), Duration::from_millis(300));
        assert_eq!(err.reason, "deadline passed while queued");
        assert_eq!(bulkhead.stats().waiting, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn cancelled_waiter_gives_back_its_queue_slot() {
        let bulkhead = Bulkhead::new("test", 1, 1);
        let _held = bulkhead.acquire(far()).await.unwrap();
        let waiter = {
            let bulkhead = bulkhead.clone();
            tokio::spawn(async move { bulkhead.acquire(far()).await.map(|_| ()) })
        };
        tokio::task::yield_now().await;
        assert_eq!(bulkhead.stats().waiting, 1);
        waiter.abort();
        let _ = waiter.await;
        assert_eq!(bulkhead.stats().waiting, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn never_more_than_max_in_flight() {
        let bulkhead = Bulkhead::new("test", 3, 100);
        let peak = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let (bulkhead, peak) = (bulkhead.clone(), Arc::clone(&peak));
            tasks.push(tokio::spawn(async move {
                bulkhead
                    .run(far(), async {
                        peak.fetch_max(bulkhead.stats().in_flight, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    })
                    .await
            }));
        }
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        assert_eq!(peak.load(Ordering::SeqCst), 3);
        assert_eq!(bulkhead.stats().in_flight, 0);
    }
}
