//! The tool calls of one turn: what was asked of each tool, what it found, and how each call ended.

use navigator_platform::NavigatorError;
use navigator_platform::contracts::{ANSWERABLE_SCORE, ChunkHit, RetrieveOutput, ToolName, WebResult, WebSearchOutput};
use navigator_platform::section::SectionRef;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

use crate::chat::Outcome;

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

    /// Each chunk's word-piece matches (`ChunkHit::piece_matches`) made for one query: that of the turn's first call
    /// to the plan documents that found something (the whole question, with the rule planner; if it failed, the next
    /// search that did not). A row holds one match per piece of the query it was made for, so the rows of another
    /// query (a later part's search, whose pieces are others or in another order) cannot be weighed with them, even
    /// when the two queries have as many pieces.
    pub fn question_piece_matches(&self) -> HashMap<Uuid, &[Vec<f32>]> {
        fn query_of(call: &ToolCall) -> Option<&str> {
            match call {
                ToolCall::Retrieve { query } | ToolCall::ReadSection { query, .. } => Some(query),
                ToolCall::WebSearch { .. } => None,
            }
        }
        let searched = |record: &&CallRecord| matches!(record.result, CallResult::Retrieved(_));
        let Some(question) = self
            .calls
            .iter()
            .filter(searched)
            .find_map(|record| query_of(&record.call.call))
        else {
            return HashMap::new();
        };
        let mut matches = HashMap::new();
        for record in &self.calls {
            if let CallResult::Retrieved(output) = &record.result
                && query_of(&record.call.call) == Some(question)
            {
                for chunk in output.chunks.iter().filter(|chunk| !chunk.piece_matches.is_empty()) {
                    matches.entry(chunk.chunk_id).or_insert(chunk.piece_matches.as_slice());
                }
            }
        }
        matches
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

    /// Whether retrieval found nothing good: no chunk, or none scoring [`ANSWERABLE_SCORE`]. The planner then asks the
    /// web, and the extractive composer declines unless the web answered.
    pub fn found_nothing_good(&self) -> bool {
        self.chunks().first().is_none_or(|chunk| chunk.score < ANSWERABLE_SCORE)
    }

    /// How close the documents came to the question at all: the best `RetrieveOutput::best_similarity` of the turn's
    /// searches, if any reported one (only a search a query adapter read does).
    pub fn best_similarity(&self) -> Option<f32> {
        self.calls
            .iter()
            .filter_map(|record| match &record.result {
                CallResult::Retrieved(output) => output.best_similarity,
                _ => None,
            })
            .reduce(f32::max)
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
