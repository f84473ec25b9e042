//! The resilience kit every navigator function stands on (docs/DESIGN.md §5).
//!
//! - [`Deadline`]: one absolute deadline per request, split into stage budgets.
//! - [`Bulkhead`]: a permit semaphore plus a bounded wait queue; past the queue it rejects at once.
//! - [`CircuitBreaker`]: closed → open → half-open → closed, with an injectable [`Clock`].
//! - [`CpuPool`]: CPU-bound work on a bounded blocking pool, never on the async workers, and below their scheduling
//!   priority; it learns its run time.
//! - [`CpuLoad`]: a process's pools read together, so admission knows how long new work would queue for the CPU.
//! - [`MeanTime`]: how long things take, from which [`Bulkhead::expected_wait`] predicts a newcomer's queue wait.
//! - [`WaveRunner`]: at most N calls at once under a deadline, a typed outcome for each, and cancellation of
//!   whatever is unfinished when the deadline passes or the caller goes away.
//!
//! Everything here keys off `tokio::time::Instant`, so tests run on tokio's paused clock and are exact.

mod breaker;
mod bulkhead;
mod clock;
mod cpu_load;
mod cpu_pool;
mod deadline;
mod mean_time;
mod own_threads;
mod priority;
mod wave;

pub use breaker::{
    BreakerConfig, BreakerError, BreakerOpen, BreakerPermit, BreakerState, CircuitBreaker, FailureClass,
};
pub use bulkhead::{Bulkhead, BulkheadPermit, BulkheadStats, Overloaded};
pub use clock::{Clock, ManualClock, TokioClock};
pub use cpu_load::{CpuLoad, CpuPressure};
pub use cpu_pool::{CpuPool, CpuPoolError};
pub use deadline::{Deadline, DeadlineExceeded};
pub use mean_time::MeanTime;
pub use wave::{CallOutcome, CallReport, WaveRunner};
