//! The planner: which tools a turn calls, wave by wave (docs/DESIGN.md §1 step 5).
//!
//! A planner is asked for its next step before each wave, with everything the earlier waves found. It answers
//! with the calls of the next wave, or that it is done. The turn enforces the caps whatever the planner says: at most
//! `MAX_PARALLEL_TOOLS` calls a wave and `MAX_WAVES` waves; the excess is dropped and logged.
//!
//! - [`rules`]: the offline default, deterministic.
//! - `crate::agent`: a chat model's native tool calls.

pub mod rules;

use futures_util::future::BoxFuture;
use navigator_platform::NavigatorError;
use navigator_resilience::Deadline;

use crate::chat::Turn;
use crate::evidence::{Evidence, PlannedCall};

/// The planner's next step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Run these calls as the next wave.
    Call(Vec<PlannedCall>),
    /// No more tools. A model planner may already have written its answer from the evidence.
    Done { draft: Option<String> },
}

/// What a planner sees.
#[derive(Debug, Clone, Copy)]
pub struct PlanContext<'a> {
    /// The member's question in English, with personal data already redacted.
    pub question: &'a str,
    /// Earlier turns sent by the client, oldest first.
    pub history: &'a [Turn],
    pub evidence: &'a Evidence,
    /// Waves already run.
    pub waves_done: usize,
    pub max_waves: usize,
    pub max_calls_per_wave: usize,
}

pub trait Planner: Send + Sync + 'static {
    /// The planner's name in logs and timings.
    fn name(&self) -> &'static str;

    fn next_step<'a>(&'a self, cx: PlanContext<'a>, deadline: Deadline) -> BoxFuture<'a, Result<Step, NavigatorError>>;
}
