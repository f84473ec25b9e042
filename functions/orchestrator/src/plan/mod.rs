//! The planner: which tools a turn calls, wave by wave (DESIGN.md §1 step 5).
//!
//! A planner is asked for its next step before each wave, with everything the earlier waves found. It answers
//! with the calls of the next wave, or that it is done. The turn enforces the caps whatever the planner says: at most
//! `MAX_PARALLEL_TOOLS` calls a wave and `MAX_WAVES` waves; the excess is dropped and logged.
//!
//! - [`rules`]: the offline default, deterministic; [`cross_refs`]: the section references it follows.
//! - [`crate::llm::agent`]: a chat model's native tool calls.

pub mod cross_refs;
pub mod rules;

use futures_util::future::BoxFuture;
use navigator_platform::NavigatorError;
use navigator_platform::section::SectionRef;
use navigator_resilience::Deadline;

use crate::api::Turn;
use crate::evidence::Evidence;
use crate::tools::ToolName;

/// One tool call the planner wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolCall {
    Retrieve {
        query: String,
    },
    /// Read one section of the plan documents, ranked by `query`: how a cross-reference ("see Section 2.4 in this
    /// chapter") is followed. The retrieve tool answers it.
    ReadSection {
        section: SectionRef,
        query: String,
    },
    WebSearch {
        query: String,
    },
}

impl ToolCall {
    pub fn tool(&self) -> ToolName {
        match self {
            Self::Retrieve { .. } | Self::ReadSection { .. } => ToolName::Retrieve,
            Self::WebSearch { .. } => ToolName::WebSearch,
        }
    }

    /// Whether the call reads the member's plan documents, by search or by section.
    pub fn is_retrieve(&self) -> bool {
        matches!(self, Self::Retrieve { .. } | Self::ReadSection { .. })
    }

    pub fn is_web_search(&self) -> bool {
        matches!(self, Self::WebSearch { .. })
    }
}

/// A call with the id the planner knows it by (a model's tool-call id, or a generated one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedCall {
    pub id: String,
    pub call: ToolCall,
}

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
