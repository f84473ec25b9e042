//! CPU-bound work (ML stage, embeddings, rerank) on a bounded pool of threads, never on the async workers.

use crate::own_threads::{OwnThreads, WarmUp};
use crate::{Bulkhead, Deadline, MeanTime, Overloaded};
use std::panic::AssertUnwindSafe;
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

/// At most `threads` jobs run at once, on tokio's blocking threads or, for a pool lowered with [`CpuPool::niced`] or
/// kept warm with [`CpuPool::on_own_threads`], on threads of its own; at most `queue_bound` wait for a slot.
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
    /// Where jobs run: `None` on tokio's blocking threads, at the caller's priority.
    own_threads: Option<OwnThreads>,
}

impl CpuPool {
    pub fn new(name: &'static str, threads: usize, queue_bound: usize) -> Self {
        Self {
            slots: Bulkhead::new(name, threads, queue_bound),
            runs: MeanTime::default(),
            own_threads: None,
        }
    }

    /// Runs the jobs `niceness` steps below the async workers' scheduling priority (Linux nice values, capped at
    /// 19), so that under CPU saturation a worker that wakes to refuse a request or send a reply gets a core at once.
    /// The jobs run on threads of the pool's own ([`CpuPool::on_own_threads`]): tokio's blocking threads, which other
    /// pools share, keep their priority. 0 leaves the pool on tokio's blocking threads.
    pub fn niced(self, niceness: u8) -> Self {
        if niceness == 0 {
            return self;
        }
        self.on_own_threads(niceness, || ())
    }

    /// Runs the jobs on `threads` threads of the pool's own, lowered `niceness` steps as they start and then
    /// prepared by `warm_up`, which should touch what a job's first run would otherwise build per thread (the
    /// regex engines' caches, the allocator's thread heap). Returns once every thread has warmed up. The threads live
    /// as long as the pool, so unlike tokio's blocking threads (an idle one ends after 10 s) they stay warm.
    ///
    /// Where the system refuses a thread, the pool stays on tokio's blocking threads, at the workers' priority, and
    /// says so in the log. Jobs on the pool's own threads run outside the tokio runtime: no `Handle::current()`, no
    /// `tokio::spawn`, and `tokio::time::Instant` reads the real clock there, not a test's paused one; a paused test
    /// clock also cannot see them running, and advances past a job's budget while it runs, so tests on a paused
    /// clock build pools without them.
    pub fn on_own_threads(mut self, niceness: u8, warm_up: impl Fn() + Send + Sync + 'static) -> Self {
        let warm_up: WarmUp = std::sync::Arc::new(warm_up);
        match OwnThreads::start(self.name(), self.threads(), niceness, warm_up) {
            Ok(threads) => self.own_threads = Some(threads),
            Err(error) => {
                tracing::warn!(pool = self.name(), %error, "no threads of its own: the pool runs at the workers' priority")
            }
        }
        self
    }

    pub fn name(&self) -> &'static str {
        self.slots.name()
    }

    /// How many jobs run at once.
    pub fn threads(&self) -> usize {
        self.slots.max_in_flight()
    }

    /// Runs `job` on one of the pool's threads once a slot is free, and waits for it no later than `deadline`: the queue and
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
        let (result, outcome) = tokio::sync::oneshot::channel();
        let work = move || {
            let started = std::time::Instant::now();
            let value = std::panic::catch_unwind(AssertUnwindSafe(job));
            // Only finished jobs teach the pool how long its work takes, as before the jobs moved threads.
            if value.is_ok() {
                runs.record(started.elapsed());
            }
            // The slot comes back before the caller hears, so that it never sees its own finished job still running.
            // The caller may have given up: then only the slot mattered. A panic drops the sender unsent.
            drop(slot);
            if let Ok(value) = value {
                let _ = result.send(value);
            }
        };
        match &self.own_threads {
            Some(threads) => threads.run(work),
            None => drop(tokio::task::spawn_blocking(work)),
        }
        // A job that panicked, or that no thread could take, drops its result sender unsent.
        match run_deadline.run(outcome).await {
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
        for pool in [
            CpuPool::new("cpu-test", 2, 64),
            CpuPool::new("cpu-test", 2, 64).niced(1),
        ] {
            assert_eq!(peak_concurrency(pool).await, 2);
        }
    }

    async fn peak_concurrency(pool: CpuPool) -> usize {
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
        peak.load(Ordering::SeqCst)
    }

    #[cfg(target_os = "linux")]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn niced_jobs_run_below_the_caller_and_leave_every_other_thread_as_it_was() {
        let nice = || rustix::process::getpriority_process(None).expect("a nice value");
        let caller = nice();
        let deadline = || Deadline::after(Duration::from_secs(5));
        let niced = CpuPool::new("cpu-test", 1, 4).niced(4);
        let plain = CpuPool::new("cpu-test", 1, 4);
        for _ in 0..3 {
            assert_eq!(niced.run(deadline(), nice).await, Ok((caller + 4).min(19)));
            // tokio's blocking threads, which the unlowered pool and everyone else share, were not lowered.
            assert_eq!(plain.run(deadline(), nice).await, Ok(caller));
            assert_eq!(tokio::task::spawn_blocking(nice).await.expect("a blocking job"), caller);
        }
        assert_eq!(nice(), caller);
    }

    #[tokio::test]
    async fn a_niced_pool_survives_a_panicking_job_and_keeps_its_bound() {
        let pool = CpuPool::new("cpu-test", 1, 1).niced(2);
        let deadline = || Deadline::after(Duration::from_secs(5));
        let result: Result<(), _> = pool.run(deadline(), || panic!("model bug")).await;
        assert_eq!(result, Err(CpuPoolError::Panicked));
        assert_eq!(pool.stats().in_flight, 0, "the slot comes back after a panic");
        assert_eq!(
            pool.run(deadline(), || 7).await,
            Ok(7),
            "the pool's thread takes the next job"
        );
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
