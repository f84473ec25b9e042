//! Threads a CPU pool owns, for pools whose jobs run below the async workers' scheduling priority.
//!
//! tokio's blocking threads serve every pool and every `spawn_blocking` caller, and a nice value set on one stays with
//! it (raising it back takes privilege). Lowering them would sooner or later lower work that must not wait, such as
//! the guard's heuristic stage, whose 20 ms budget a lowered thread misses whenever anything at normal priority keeps
//! the cores busy (docs/PERFORMANCE.md, "The heuristic stage at the workers' priority"). A lowered pool therefore runs
//! its jobs on threads of its own, each lowered once as it starts, and leaves tokio's threads as they were.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, PoisonError};

type Job = Box<dyn FnOnce() + Send>;

/// A fixed set of named threads taking jobs from one queue. The threads end when the last handle is dropped.
#[derive(Debug, Clone)]
pub(crate) struct OwnThreads {
    jobs: Sender<Job>,
}

impl OwnThreads {
    /// Starts `count` threads named after the pool, each lowered by `niceness`. Fails only if the system refuses a
    /// thread; the threads already started then end with the returned error's drop of the queue.
    pub(crate) fn start(name: &str, count: usize, niceness: u8) -> std::io::Result<Self> {
        let (jobs, queue) = channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for index in 0..count.max(1) {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("{name}-{index}"))
                .spawn(move || {
                    crate::priority::lower_this_thread(niceness);
                    work(&queue);
                })?;
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
        let threads = OwnThreads::start("own-test", 2, 0).expect("threads start");
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
}
