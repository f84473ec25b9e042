//! CPU-bound work (ML stage, embeddings, rerank) on a bounded blocking pool, never on the async workers.

use crate::{Bulkhead, Deadline, MeanTime, Overloaded};
use std::time::Duration;

/// Why CPU work did not produce a result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CpuPoolError {
    #[error(transparent)]
    Overloaded(#[from] Overloaded),
    #[error("CPU work did not finish before the deadline")]
    Timeout,
    #[error("CPU work panicked")]
    Panicked,
}

/// At most `threads` jobs run at once on tokio's blocking threads, and at most `queue_bound` wait for a slot.
///
/// A job that outlives its caller's deadline keeps its slot until it returns, because a blocking thread cannot be
/// interrupted. The bound therefore holds even when callers give up, which is what keeps a slow model from
/// multiplying its own load.
///
/// The pool also learns how long its jobs run, so that admission can ask, before a request does any work, how long
/// new CPU work would queue here ([`CpuPool::expected_wait`]).
#[derive(Debug, Clone)]
pub struct CpuPool {
    slots: Bulkhead,
    runs: MeanTime,
    /// How far below the async workers its jobs run (a nice value; 0 leaves them equal).
    niceness: u8,
}

impl CpuPool {
    pub fn new(name: &'static str, threads: usize, queue_bound: usize) -> Self {
        Self {
            slots: Bulkhead::new(name, threads, queue_bound),
            runs: MeanTime::default(),
            niceness: 0,
        }
    }

    /// Runs the jobs `niceness` steps below the async workers' scheduling priority (Linux nice values, capped at
    /// 19), so that under CPU saturation a worker that wakes to refuse a request or send a reply gets a core at once.
    /// Every pool runs on tokio's one set of blocking threads, and a thread once lowered stays so (raising it back
    /// takes privilege): give every pool of a process the same value.
    pub fn niced(mut self, niceness: u8) -> Self {
        self.niceness = niceness;
        self
    }

    pub fn name(&self) -> &'static str {
        self.slots.name()
    }

    /// How many jobs run at once.
    pub fn threads(&self) -> usize {
        self.slots.max_in_flight()
    }

    /// Runs `job` on a blocking thread once a slot is free, and waits for it no later than `deadline`: the queue and
    /// the run share one deadline. Stages with a budget of their own use [`CpuPool::run_for`].
    pub async fn run<T, F>(&self, deadline: Deadline, job: F) -> Result<T, CpuPoolError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        self.run_for(deadline, None, job).await
    }

    /// Runs `job` once a slot is free, waiting for the slot no later than `deadline`, and then gives the run itself
    /// `budget` (never past `deadline`). Time spent queued is the admission layer's to bound, not the stage's: a
    /// stage budget measures the work, so a short queue does not turn a 15 ms embedding into a timeout.
    pub async fn run_for<T, F>(&self, deadline: Deadline, budget: Option<Duration>, job: F) -> Result<T, CpuPoolError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        // Work whose caller has already given up is not started.
        if deadline.is_expired() {
            return Err(CpuPoolError::Timeout);
        }
        let slot = self.slots.acquire(deadline).await?;
        let run_deadline = budget.map_or(deadline, |budget| deadline.child(budget));
        if run_deadline.is_expired() {
            return Err(CpuPoolError::Timeout);
        }
        let runs = self.runs.clone();
        let niceness = self.niceness;
        let handle = tokio::task::spawn_blocking(move || {
            let _slot = slot;
            crate::priority::lower_this_thread(niceness);
            let started = std::time::Instant::now();
            let value = job();
            runs.record(started.elapsed());
            value
        });
        match run_deadline.run(handle).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(_)) => Err(CpuPoolError::Panicked),
            Err(_) => Err(CpuPoolError::Timeout),
        }
    }

    /// How long a job submitted now would wait for a slot: the jobs ahead of it, shared among the threads, at the
    /// pool's mean run time. Zero while a slot is free.
    pub fn expected_wait(&self) -> Duration {
        self.slots.expected_wait(self.mean_run())
    }

    /// The running mean of how long a job runs (zero before the first).
    pub fn mean_run(&self) -> Duration {
        self.runs.mean()
    }

    pub fn stats(&self) -> crate::BulkheadStats {
        self.slots.stats()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn runs_at_most_the_configured_number_of_jobs_at_once() {
        let pool = CpuPool::new("cpu-test", 2, 64);
        let (running, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let jobs = (0..12).map(|_| {
            let (pool, running, peak) = (pool.clone(), Arc::clone(&running), Arc::clone(&peak));
            tokio::spawn(async move {
                pool.run(Deadline::after(Duration::from_secs(30)), move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(5));
                    running.fetch_sub(1, Ordering::SeqCst);
                })
                .await
            })
        });
        for job in jobs.collect::<Vec<_>>() {
            job.await.unwrap().unwrap();
        }
        assert_eq!(peak.load(Ordering::SeqCst), 2);
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn niced_jobs_run_below_the_caller_and_leave_it_as_it_was() {
        let caller = rustix::process::getpriority_process(None).expect("the caller's nice value");
        let pool = CpuPool::new("cpu-test", 1, 4).niced(4);
        let in_job = pool
            .run(Deadline::after(Duration::from_secs(5)), || {
                rustix::process::getpriority_process(None)
            })
            .await
            .expect("the job ran")
            .expect("the job's nice value");
        assert_eq!(in_job, (caller + 4).min(19));
        assert_eq!(rustix::process::getpriority_process(None).expect("nice value"), caller);
    }

    #[tokio::test]
    async fn a_panicking_job_is_an_error_not_a_crash() {
        let pool = CpuPool::new("cpu-test", 1, 1);
        let result: Result<(), _> = pool
            .run(Deadline::after(Duration::from_secs(5)), || panic!("model bug"))
            .await;
        assert_eq!(result, Err(CpuPoolError::Panicked));
        assert_eq!(pool.stats().in_flight, 0, "the slot comes back after a panic");
    }

    #[tokio::test]
    async fn an_expired_deadline_is_a_timeout() {
        let pool = CpuPool::new("cpu-test", 1, 1);
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let result = pool
            .run(Deadline::after(Duration::from_millis(20)), move || rx.recv().ok())
            .await;
        assert_eq!(result, Err(CpuPoolError::Timeout));
        assert_eq!(
            pool.stats().in_flight,
            1,
            "the job still holds its slot until it returns"
        );
        drop(tx);
    }

    #[tokio::test(start_paused = true)]
    async fn a_stage_budget_counts_the_run_not_the_queue() {
        let pool = CpuPool::new("cpu-test", 1, 4);
        let far = Deadline::after(Duration::from_secs(60));
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let holder = {
            let pool = pool.clone();
            tokio::spawn(async move { pool.run(far, move || hold.recv().ok()).await })
        };
        let queued = {
            let pool = pool.clone();
            tokio::spawn(async move { pool.run_for(far, Some(Duration::from_millis(50)), || 7).await })
        };
        while pool.stats().waiting == 0 {
            tokio::task::yield_now().await;
        }
        // Queued four times longer than its budget: the budget has not started.
        tokio::time::advance(Duration::from_millis(200)).await;
        release.send(()).unwrap();
        holder.await.unwrap().unwrap();
        assert_eq!(queued.await.unwrap(), Ok(7));
    }
}
