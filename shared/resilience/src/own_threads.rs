//! Threads a CPU pool owns: for pools whose jobs run below the async workers' scheduling priority, and for pools whose
//! jobs need per-thread state that is already warm.
//!
//! tokio's blocking threads serve every pool and every `spawn_blocking` caller, and a nice value set on one stays with
//! it (raising it back takes privilege). Lowering them would sooner or later lower work that must not wait, such as
//! the guard's heuristic stage, whose 20 ms budget a lowered thread misses whenever anything at normal priority keeps
//! the cores busy (docs/PERFORMANCE.md, "The heuristic stage at the workers' priority"). A lowered pool therefore runs
//! its jobs on threads of its own, each lowered once as it starts, and leaves tokio's threads as they were.
//!
//! tokio's blocking threads also come and go (an idle one ends after 10 s), and a new thread's first job pays for
//! every lazy per-thread cache it touches: the regex engines' search caches, the allocator's thread heap. Threads of
//! a pool's own live as long as the pool and run a warm-up as they start, so no job meets a cold one.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, PoisonError};

type Job = Box<dyn FnOnce() + Send>;

/// What each of a pool's own threads runs once as it starts, before any job.
pub(crate) type WarmUp = std::sync::Arc<dyn Fn() + Send + Sync>;

/// A fixed set of named threads taking jobs from one queue. The threads end when the last handle is dropped.
#[derive(Debug, Clone)]
pub(crate) struct OwnThreads {
    jobs: Sender<Job>,
}

impl OwnThreads {
    /// Starts `count` threads named after the pool, each lowered by `niceness` and then running `warm_up`, and returns
    /// once every thread has warmed up, so that the pool is ready when its function starts taking requests. Fails
    /// only if the system refuses a thread; the threads already started then end with the returned error's drop of
    /// the queue. A warm-up that panics leaves its thread cold, not dead.
    pub(crate) fn start(name: &str, count: usize, niceness: u8, warm_up: WarmUp) -> std::io::Result<Self> {
        let (jobs, queue) = channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let (warm, warmed) = channel::<()>();
        let count = count.max(1);
        for index in 0..count {
            let (queue, warm_up, warm) = (Arc::clone(&queue), Arc::clone(&warm_up), warm.clone());
            std::thread::Builder::new()
                .name(format!("{name}-{index}"))
                .spawn(move || {
                    crate::priority::lower_this_thread(niceness);
                    let _ = std::panic::catch_unwind(AssertUnwindSafe(|| warm_up()));
                    let _ = warm.send(());
                    work(&queue);
                })?;
        }
        drop(warm);
        // Every thread reports once; a thread that ended early closes its sender, which ends the wait as well.
        for _ in 0..count {
            if warmed.recv().is_err() {
                break;
            }
        }
        Ok(Self { jobs })
    }

    /// Queues `job`. A job the threads can no longer take (they have all ended) is dropped unrun, which its caller
    /// sees as its result channel closing.
    pub(crate) fn run(&self, job: impl FnOnce() + Send + 'static) {
        let _ = self.jobs.send(Box::new(job));
    }
}

fn work(queue: &Mutex<Receiver<Job>>) {
    loop {
        // The lock is held only while waiting for the next job, never while one runs, so a panicking job cannot
        // poison it; recovering from poison is for completeness.
        let next = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(job) = next else {
            return;
        };
        // A panicking job ends only itself: its caller sees its result channel close, and the thread takes the next
        // job, as a blocking thread of tokio would. (Release builds abort on panic.)
        let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::sync_channel;
    use std::time::Duration;

    #[test]
    fn jobs_run_on_the_pools_named_threads_and_a_panic_leaves_them_working() {
        let threads = OwnThreads::start("own-test", 2, 0, Arc::new(|| ())).expect("threads start");
        threads.run(|| panic!("a job's bug"));
        let (sender, names) = sync_channel(4);
        for _ in 0..4 {
            let sender = sender.clone();
            threads.run(move || {
                let name = std::thread::current().name().map(str::to_string);
                sender.send(name).expect("the test waits");
            });
        }
        for _ in 0..4 {
            let name = names.recv_timeout(Duration::from_secs(5)).expect("every job runs");
            let name = name.expect("a named thread");
            assert!(name == "own-test-0" || name == "own-test-1", "{name}");
        }
    }

    thread_local! {
        static WARMED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }

    #[test]
    fn every_thread_warms_up_once_before_start_returns_and_before_its_first_job() {
        let warm_ups = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = Arc::clone(&warm_ups);
        let warm_up: WarmUp = Arc::new(move || {
            // Slow enough that a start which did not wait would be seen returning early.
            std::thread::sleep(Duration::from_millis(20));
            WARMED.with(|warmed| warmed.set(true));
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        });
        let threads = OwnThreads::start("own-warm", 3, 0, warm_up).expect("threads start");
        assert_eq!(
            warm_ups.load(std::sync::atomic::Ordering::SeqCst),
            3,
            "start waits for every thread"
        );
        let (sender, warmed) = sync_channel(12);
        for _ in 0..12 {
            let sender = sender.clone();
            threads.run(move || sender.send(WARMED.with(std::cell::Cell::get)).expect("the test waits"));
        }
        for _ in 0..12 {
            assert_eq!(
                warmed.recv_timeout(Duration::from_secs(5)),
                Ok(true),
                "no job runs on a cold thread"
            );
        }
        assert_eq!(
            warm_ups.load(std::sync::atomic::Ordering::SeqCst),
            3,
            "once per thread, not per job"
        );
    }

    #[test]
    fn a_warm_up_that_panics_leaves_its_thread_working() {
        let threads =
            OwnThreads::start("own-warm-panic", 1, 0, Arc::new(|| panic!("a warm-up bug"))).expect("threads start");
        let (sender, answer) = sync_channel(1);
        threads.run(move || sender.send(7).expect("the test waits"));
        assert_eq!(answer.recv_timeout(Duration::from_secs(5)), Ok(7));
    }
}
