//! Structured concurrency for tool calls: one wave runs at most N calls at once under a deadline.
//!
//! The calls are polled inside the runner's own future rather than spawned, so no call can outlive the wave: when
//! the deadline passes, or the caller drops the wave, every unfinished call is dropped, and dropping a future is
//! how tokio cancels it.

use futures_util::stream::{FuturesUnordered, StreamExt};
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

use crate::Deadline;

/// How one call of a wave ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallOutcome<T, E> {
    Ok(T),
    Err(E),
    /// Still running (or still waiting for a slot) when the wave's deadline passed; it was cancelled.
    Timeout,
}

/// One call's outcome with its timing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallReport<T, E> {
    pub name: String,
    pub outcome: CallOutcome<T, E>,
    /// Whether the call got a slot before the deadline.
    pub started: bool,
    /// From the call's start (or the wave's start, if it never started) to its end.
    pub elapsed: Duration,
}

/// Runs waves of calls with at most `max_parallel` in flight.
#[derive(Debug, Clone, Copy)]
pub struct WaveRunner {
    max_parallel: usize,
}

impl WaveRunner {
    pub fn new(max_parallel: usize) -> Self {
        Self {
            max_parallel: max_parallel.max(1),
        }
    }

    pub fn max_parallel(&self) -> usize {
        self.max_parallel
    }

    /// Runs `calls` (name, future) with at most `max_parallel` at once, in the given order, until all finish or
    /// `deadline` passes. Returns one report per call, in the order the calls were given.
    pub async fn run<T, E, F>(&self, calls: Vec<(String, F)>, deadline: Deadline) -> Vec<CallReport<T, E>>
    where
        F: Future<Output = Result<T, E>>,
    {
        let wave_started = Instant::now();
        let mut names = Vec::with_capacity(calls.len());
        let mut started_at: Vec<Option<Instant>> = vec![None; calls.len()];
        let mut finished: Vec<Option<(Result<T, E>, Instant)>> = Vec::with_capacity(calls.len());
        let mut waiting = Vec::with_capacity(calls.len());
        for (index, (name, call)) in calls.into_iter().enumerate() {
            names.push(name);
            finished.push(None);
            waiting.push((index, call));
        }
        let mut waiting = waiting.into_iter();
        let mut running = FuturesUnordered::new();
        let launch = |index: usize, call: F, started_at: &mut Vec<Option<Instant>>| {
            started_at[index] = Some(Instant::now());
            async move { (index, call.await) }
        };

        if !deadline.is_expired() {
            for (index, call) in waiting.by_ref().take(self.max_parallel) {
                running.push(launch(index, call, &mut started_at));
            }
            let expiry = tokio::time::sleep_until(deadline.instant());
            tokio::pin!(expiry);
            loop {
                tokio::select! {
                    biased;
                    next = running.next() => match next {
                        Some((index, result)) => {
                            finished[index] = Some((result, Instant::now()));
                            if let Some((index, call)) = waiting.next() {
                                running.push(launch(index, call, &mut started_at));
                            }
                        }
                        None => break,
                    },
                    () = &mut expiry => break,
                }
            }
        }
        // Cancel whatever is still running before reporting: nothing outlives the wave.
        drop(running);
        drop(waiting);

        let wave_ended = Instant::now();
        names
            .into_iter()
            .zip(finished)
            .zip(started_at)
            .map(|((name, finished), started_at)| {
                let start = started_at.unwrap_or(wave_started);
                let (outcome, end) = match finished {
                    Some((Ok(value), end)) => (CallOutcome::Ok(value), end),
                    Some((Err(error), end)) => (CallOutcome::Err(error), end),
                    None => (CallOutcome::Timeout, wave_ended),
                };
                CallReport {
                    name,
                    outcome,
                    started: started_at.is_some(),
                    elapsed: end.duration_since(start),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    type Call = Pin<Box<dyn Future<Output = Result<u64, String>> + Send>>;

    /// Counts calls alive: +1 when a call starts, −1 when its future is dropped, however that happens.
    #[derive(Clone, Default)]
    struct Liveness(Arc<AtomicUsize>, Arc<AtomicUsize>);

    struct Alive(Arc<AtomicUsize>);

    impl Drop for Alive {
        fn drop(&mut self) {
            self.0.fetch_sub(1, Ordering::SeqCst);
        }
    }

    impl Liveness {
        fn sleeper(&self, ms: u64) -> Call {
            let (live, peak) = (Arc::clone(&self.0), Arc::clone(&self.1));
            Box::pin(async move {
                let now = live.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                let _alive = Alive(live);
                tokio::time::sleep(Duration::from_millis(ms)).await;
                Ok(ms)
            })
        }

        fn live(&self) -> usize {
            self.0.load(Ordering::SeqCst)
        }

        fn peak(&self) -> usize {
            self.1.load(Ordering::SeqCst)
        }
    }

    fn named(calls: Vec<Call>) -> Vec<(String, Call)> {
        calls
            .into_iter()
            .enumerate()
            .map(|(i, call)| (format!("call-{i}"), call))
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn fourth_call_into_a_three_permit_wave_waits_for_a_slot() {
        let liveness = Liveness::default();
        let calls = named(vec![
            liveness.sleeper(100),
            liveness.sleeper(300),
            liveness.sleeper(300),
            liveness.sleeper(100),
        ]);
        let started = Instant::now();
        let reports = WaveRunner::new(3)
            .run(calls, Deadline::after(Duration::from_secs(1)))
            .await;
        assert_eq!(started.elapsed(), Duration::from_millis(300));
        assert!(reports.iter().all(|r| matches!(r.outcome, CallOutcome::Ok(_))));
        // The 4th call started when the 100 ms call freed its slot, so it ran 100..200 ms.
        assert_eq!(reports[3].elapsed, Duration::from_millis(100));
        assert_eq!(liveness.live(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn never_more_than_max_parallel_calls_at_once() {
        let liveness = Liveness::default();
        let calls = (0..7).map(|_| liveness.sleeper(50)).collect();
        let reports = WaveRunner::new(3)
            .run(named(calls), Deadline::after(Duration::from_secs(5)))
            .await;
        assert!(reports.iter().all(|r| matches!(r.outcome, CallOutcome::Ok(50))));
        assert_eq!(liveness.peak(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn wave_cancels_calls_past_its_budget() {
        let liveness = Liveness::default();
        let calls = named(vec![
            liveness.sleeper(100),
            liveness.sleeper(2_000),
            liveness.sleeper(5_000),
        ]);
        let started = Instant::now();
        let reports = WaveRunner::new(3)
            .run(calls, Deadline::after(Duration::from_millis(800)))
            .await;
        assert_eq!(started.elapsed(), Duration::from_millis(800));
        assert_eq!(reports[0].outcome, CallOutcome::Ok(100));
        assert_eq!(reports[1].outcome, CallOutcome::Timeout);
        assert_eq!(reports[2].outcome, CallOutcome::Timeout);
        assert_eq!(reports[1].elapsed, Duration::from_millis(800));
        assert_eq!(liveness.live(), 0, "no call may outlive its wave");
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_that_never_got_a_slot_is_reported_not_started() {
        let liveness = Liveness::default();
        let calls = named(vec![liveness.sleeper(1_000), liveness.sleeper(10)]);
        let reports = WaveRunner::new(1)
            .run(calls, Deadline::after(Duration::from_millis(500)))
            .await;
        assert_eq!(reports[1].outcome, CallOutcome::Timeout);
        assert!(!reports[1].started);
        assert!(reports[0].started);
    }

    #[tokio::test(start_paused = true)]
    async fn errors_are_reported_per_call_and_do_not_stop_the_others() {
        let liveness = Liveness::default();
        let failing: Call = Box::pin(async { Err("boom".to_string()) });
        let calls = named(vec![failing, liveness.sleeper(20)]);
        let reports = WaveRunner::new(3)
            .run(calls, Deadline::after(Duration::from_secs(1)))
            .await;
        assert_eq!(reports[0].outcome, CallOutcome::Err("boom".to_string()));
        assert_eq!(reports[1].outcome, CallOutcome::Ok(20));
    }

    #[tokio::test(start_paused = true)]
    async fn dropping_the_wave_cancels_every_call() {
        let liveness = Liveness::default();
        let calls = named(vec![
            liveness.sleeper(10_000),
            liveness.sleeper(10_000),
            liveness.sleeper(10_000),
        ]);
        let wave = tokio::spawn(async move {
            WaveRunner::new(3)
                .run(calls, Deadline::after(Duration::from_secs(60)))
                .await
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(liveness.live(), 3);
        wave.abort();
        assert!(wave.await.unwrap_err().is_cancelled());
        assert_eq!(liveness.live(), 0, "an aborted caller leaves no call running");
    }

    #[tokio::test(start_paused = true)]
    async fn an_expired_deadline_starts_nothing() {
        let liveness = Liveness::default();
        let deadline = Deadline::after(Duration::from_millis(10));
        tokio::time::sleep(Duration::from_millis(20)).await;
        let reports = WaveRunner::new(3).run(named(vec![liveness.sleeper(1)]), deadline).await;
        assert_eq!(reports[0].outcome, CallOutcome::Timeout);
        assert!(!reports[0].started);
    }
}
