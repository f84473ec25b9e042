//! The CPU work of lowered pools ([`crate::CpuPool::niced`]) runs at a lower scheduling priority than the async
//! workers.
//!
//! Under CPU saturation the async workers are what answer admission's 429s, health checks and the replies of
//! finished turns; at equal priority a woken worker waits its turn behind model passes that run for tens of
//! milliseconds. A higher nice value on the threads that run those passes lets the scheduler hand the core to a
//! worker as soon as it wakes, and costs the CPU work nothing when the workers are idle (docs/PERFORMANCE.md).

/// The highest nice value (the lowest priority) Linux knows.
const LOWEST: i32 = 19;

/// Raises the calling thread's nice value by `niceness` (capped at 19). Best effort: where the system refuses, the
/// work runs at the priority it has. A thread cannot be raised back without privilege, so only threads that will
/// run nothing but lowered work call this (`OwnThreads`).
pub(crate) fn lower_this_thread(niceness: u8) {
    if niceness == 0 {
        return;
    }
    if let Err(error) = lower(i32::from(niceness)) {
        tracing::debug!(%error, niceness, "CPU work runs at the async workers' priority");
    }
}

/// On Linux a nice value belongs to a thread, and `setpriority(PRIO_PROCESS, 0)` names the calling thread.
#[cfg(target_os = "linux")]
fn lower(niceness: i32) -> std::io::Result<()> {
    let current = rustix::process::getpriority_process(None)?;
    rustix::process::setpriority_process(None, (current + niceness).min(LOWEST))?;
    Ok(())
}

/// Elsewhere the same call would lower the whole process, async workers too, which gains nothing.
#[cfg(not(target_os = "linux"))]
fn lower(_niceness: i32) -> std::io::Result<()> {
    Ok(())
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn lowering_a_thread_leaves_the_others_as_they_were() {
        let before = rustix::process::getpriority_process(None).expect("the test thread's nice value");
        let lowered = std::thread::spawn(|| {
            lower_this_thread(3);
            rustix::process::getpriority_process(None).expect("nice value")
        })
        .join()
        .expect("the lowered thread");
        assert_eq!(lowered, (before + 3).min(LOWEST));
        assert_eq!(rustix::process::getpriority_process(None).expect("nice value"), before);
    }
}
