//! What one turn's tool calls found, and how each call ended.

use navigator_platform::NavigatorError;
use navigator_platform::contracts::{ChunkHit, RetrieveOutput, WebResult, WebSearchOutput};
use serde::Serialize;
use std::collections::HashSet;

use crate::plan::{PlannedCall, ToolCall};

/// How one tool call ended (DESIGN.md §1 step 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    /// Still running when its wave's budget ran out; cancelled.
    Timeout,
    Error,
    /// Refused without trying: breaker open, throttled, over capacity, or switched off.
    Rejected,
    /// This deployment has no such tool; never called.
    Unavailable,
}

/// What one call returned.
#[derive(Debug, Clone)]
pub enum CallResult {
    Retrieved(RetrieveOutput),
    Searched(WebSearchOutput),
    Failed {
        outcome: Outcome,
        error: Option<NavigatorError>,
    },
}

impl CallResult {
    pub fn outcome(&self) -> Outcome {
        match self {
            Self::Retrieved(_) | Self::Searched(_) => Outcome::Ok,
            Self::Failed { outcome, .. } => *outcome,
        }
    }

    pub fn failed(error: NavigatorError) -> Self {
        let outcome = match &error {
            NavigatorError::Timeout { .. } => Outcome::Timeout,
            NavigatorError::Rejected { .. } => Outcome::Rejected,
            _ => Outcome::Error,
        };
        Self::Failed {
            outcome,
            error: Some(error),
        }
    }
}

/// One call of a wave and its result.
#[derive(Debug, Clone)]
pub struct CallRecord {
    pub wave: usize,
    pub call: PlannedCall,
    pub result: CallResult,
    pub ms: f64,
}

/// Every call of the turn so far, in order.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    pub calls: Vec<CallRecord>,
}

impl Evidence {
    /// The distinct chunks retrieved, best first across calls (by each chunk's best score).
    pub fn chunks(&self) -> Vec<&ChunkHit> {
        let mut seen = HashSet::new();
        let mut chunks: Vec<&ChunkHit> = Vec::new();
        for record in &self.calls {
            if let CallResult::Retrieved(output) = &record.result {
                chunks.extend(output.chunks.iter());
            }
        }
        chunks.sort_by(|a, b| b.score.total_cmp(&a.score));
        chunks.retain(|chunk| seen.insert(chunk.chunk_id));
        chunks
    }

    /// The distinct web results, in the order found.
    pub fn web_results(&self) -> Vec<&WebResult> {
        let mut seen = HashSet::new();
        let mut results = Vec::new();
        for record in &self.calls {
            if let CallResult::Searched(output) = &record.result {
                results.extend(output.results.iter().filter(|r| seen.insert(r.url.as_str())));
            }
        }
        results
    }

    /// The best retrieval score of the turn, if anything was retrieved.
    pub fn best_chunk_score(&self) -> Option<f32> {
        self.chunks().first().map(|chunk| chunk.score)
    }

    /// Whether any call reached a source, even one that found nothing.
    pub fn any_source_answered(&self) -> bool {
        self.calls.iter().any(|record| record.result.outcome() == Outcome::Ok)
    }

    pub fn called(&self, matches: impl Fn(&ToolCall) -> bool) -> bool {
        self.calls.iter().any(|record| matches(&record.call.call))
    }

    /// Whether a call of this kind succeeded.
    pub fn succeeded(&self, matches: impl Fn(&ToolCall) -> bool) -> bool {
        self.calls
            .iter()
            .any(|record| matches(&record.call.call) && record.result.outcome() == Outcome::Ok)
    }

    pub fn waves_run(&self) -> usize {
        self.calls.iter().map(|record| record.wave).max().unwrap_or(0)
    }
}
