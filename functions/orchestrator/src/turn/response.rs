//! The 200 body of `POST /v1/chat` (DESIGN.md §3).

use serde::Serialize;
use std::collections::BTreeMap;

use crate::compose::{Citation, Status};
use crate::evidence::Outcome;
use crate::tools::ToolName;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatResponse {
    pub status: Status,
    pub answer: String,
    /// The member's language: the answer is in it, or carries a note saying why not.
    pub language: String,
    pub citations: Vec<Citation>,
    pub tools: Vec<ToolReport>,
    /// What went wrong but did not stop the answer: `translation`, `guard`, `retrieve`, `web_search`, `planner`,
    /// `composer`.
    pub degraded: Vec<String>,
    pub timings_ms: BTreeMap<String, f64>,
    pub request_id: String,
}

/// One tool call of a wave.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolReport {
    pub name: ToolName,
    pub wave: usize,
    pub outcome: Outcome,
    pub ms: f64,
}
