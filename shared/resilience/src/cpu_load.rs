//! The CPU pools one process runs its requests' work on, read together: admission asks how long new work would
//! queue for the CPU before it lets a request in.

use crate::CpuPool;
use std::time::Duration;

/// The busiest pool's expected queue wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuPressure {
    pub pool: &'static str,
    pub wait: Duration,
}

/// A set of CPU pools. Cheap to clone: the pools are handles.
#[derive(Debug, Clone, Default)]
pub struct CpuLoad {
    pools: Vec<CpuPool>,
}

impl CpuLoad {
    pub fn new(pools: impl IntoIterator<Item = CpuPool>) -> Self {
        Self {
            pools: pools.into_iter().collect(),
        }
    }

    /// The longest wait new work would meet in any pool now; `None` when no pool is registered.
    pub fn pressure(&self) -> Option<CpuPressure> {
        self.pools
            .iter()
            .map(|pool| CpuPressure {
                pool: pool.name(),
                wait: pool.expected_wait(),
            })
            .max_by_key(|pressure| pressure.wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Deadline;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_busiest_pool_names_the_pressure() {
        let idle = CpuPool::new("idle", 2, 8);
        let busy = CpuPool::new("busy", 1, 8);
        let load = CpuLoad::new([idle.clone(), busy.clone()]);
        // Teach the busy pool a 20 ms run time, then hold its only thread and queue one job behind it.
        busy.run(Deadline::after(Duration::from_secs(5)), || {
            std::thread::sleep(Duration::from_millis(20))
        })
        .await
        .unwrap();
        assert_eq!(load.pressure().unwrap().wait, Duration::ZERO, "no queue, no wait");
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let holder = {
            let busy = busy.clone();
            tokio::spawn(async move {
                busy.run(Deadline::after(Duration::from_secs(5)), move || hold.recv().ok())
                    .await
            })
        };
        while busy.stats().in_flight == 0 {
            tokio::task::yield_now().await;
        }
        let pressure = load.pressure().unwrap();
        assert_eq!(pressure.pool, "busy");
        assert_eq!(pressure.wait, busy.mean_run(), "one job ahead on one thread");
        assert!(pressure.wait >= Duration::from_millis(20));
        release.send(()).unwrap();
        holder.await.unwrap().unwrap();
        assert!(CpuLoad::default().pressure().is_none());
    }
}
