//! The 200 body of `POST /v1/chat` (docs/DESIGN.md §3): the answer, its citations, how each tool call ended, what
//! was degraded and how long each stage took.

use navigator_platform::contracts::ToolName;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(example = json!({
    "status": "answered",
    "answer": "Here is what your plan documents say:\n• Specialist visit: $0 copay. [p. 93]",
    "language": "en",
    "citations": [{"kind": "document", "title": "2025 SCAN Classic (HMO) Evidence of Coverage", "page": 93}],
    "tools": [{"name": "retrieve", "wave": 1, "outcome": "ok", "ms": 41.2}],
    "degraded": [],
    "timings_ms": {"guard": 3.1, "translate_in": 0.2, "plan_1": 0.1, "wave_1": 42.0, "compose": 1.9, "total": 48.3},
    "request_id": "7f1c1b8e-2f5a-4a4e-9a53-6f0f2b1d9c11"
}))]
pub struct ChatResponse {
    pub status: Status,
    pub answer: String,
    /// The member's language: the answer is in it, or carries a note saying why not.
    pub language: String,
    pub citations: Vec<Citation>,
    pub tools: Vec<ToolReport>,
    /// What went wrong but did not stop the answer.
    pub degraded: Vec<Degraded>,
    /// Milliseconds per stage, in the order the stages ran (guard, translate_in, plan_N, wave_N, compose,
    /// output_check, translate_out, total).
    #[schema(value_type = std::collections::BTreeMap<String, f64>)]
    pub timings_ms: Timings,
    pub request_id: String,
}

/// Whether the turn answered the member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The sources hold the answer.
    Answered,
    /// They do not, and the answer says so.
    Unanswered,
    /// The guard blocked the turn.
    Refused,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Answered => "answered",
            Self::Unanswered => "unanswered",
            Self::Refused => "refused",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CitationKind {
    Document,
    Web,
}

/// Where a claim comes from: a page of a plan document, or a web page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Citation {
    pub kind: CitationKind,
    pub title: String,
    /// The cited plan document, as `GET /v1/documents` lists it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_id: Option<uuid::Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl Citation {
    pub fn page(title: &str, page: u32) -> Self {
        Self {
            kind: CitationKind::Document,
            title: title.to_string(),
            document_id: None,
            page: Some(page),
            url: None,
        }
    }

    /// A page of a plan document, naming the document.
    pub fn document_page(title: &str, document_id: uuid::Uuid, page: u32) -> Self {
        Self {
            document_id: Some(document_id),
            ..Self::page(title, page)
        }
    }

    pub fn web(title: &str, url: &str) -> Self {
        Self {
            kind: CitationKind::Web,
            title: title.to_string(),
            document_id: None,
            page: None,
            url: Some(url.to_string()),
        }
    }

    /// The marker written after a cited sentence.
    pub fn marker(&self) -> String {
        match (&self.page, &self.url) {
            (Some(page), _) => format!("[p. {page}]"),
            (None, Some(url)) => format!("[{url}]"),
            (None, None) => String::new(),
        }
    }
}

/// One tool call of a wave.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ToolReport {
    pub name: ToolName,
    pub wave: usize,
    pub outcome: Outcome,
    pub ms: f64,
}

/// How one tool call ended (docs/DESIGN.md §1 step 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
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

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Timeout => "timeout",
            Self::Error => "error",
            Self::Rejected => "rejected",
            Self::Unavailable => "unavailable",
        }
    }
}

/// Something that went wrong without stopping the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Degraded {
    /// The question or the answer could not be translated.
    Translation,
    /// The guard was missing, or its ML stage did not finish (its heuristic verdict stood).
    Guard,
    /// Retrieval failed in every wave that called it.
    Retrieve,
    /// Web search failed in every wave that called it.
    WebSearch,
    /// The configured planner failed; the rule planner took over.
    Planner,
    /// The configured composer failed or wrote something unusable; the extractive composer took over.
    Composer,
}

impl Degraded {
    /// A tool that failed in every wave.
    pub fn tool(tool: ToolName) -> Self {
        match tool {
            ToolName::Translate => Self::Translation,
            ToolName::Guard => Self::Guard,
            ToolName::Retrieve => Self::Retrieve,
            ToolName::WebSearch => Self::WebSearch,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Translation => "translation",
            Self::Guard => "guard",
            Self::Retrieve => "retrieve",
            Self::WebSearch => "web_search",
            Self::Planner => "planner",
            Self::Composer => "composer",
        }
    }
}

/// A timed stage of the turn; waves and the plans before them are numbered from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Guard,
    TranslateIn,
    Plan(usize),
    Wave(usize),
    Compose,
    OutputCheck,
    TranslateOut,
    Total,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Guard => f.write_str("guard"),
            Self::TranslateIn => f.write_str("translate_in"),
            Self::Plan(wave) => write!(f, "plan_{wave}"),
            Self::Wave(wave) => write!(f, "wave_{wave}"),
            Self::Compose => f.write_str("compose"),
            Self::OutputCheck => f.write_str("output_check"),
            Self::TranslateOut => f.write_str("translate_out"),
            Self::Total => f.write_str("total"),
        }
    }
}

/// Milliseconds per stage, in the order the stages ran; written as a JSON object `{"guard": 1.2, ...}`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timings(Vec<(Stage, f64)>);

impl Timings {
    /// Records a stage; timing it again replaces the first figure.
    pub fn record(&mut self, stage: Stage, ms: f64) {
        match self.0.iter_mut().find(|(s, _)| *s == stage) {
            Some(entry) => entry.1 = ms,
            None => self.0.push((stage, ms)),
        }
    }

    pub fn get(&self, stage: Stage) -> Option<f64> {
        self.0.iter().find(|(s, _)| *s == stage).map(|(_, ms)| *ms)
    }

    pub fn iter(&self) -> impl Iterator<Item = (Stage, f64)> + '_ {
        self.0.iter().copied()
    }
}

impl Serialize for Timings {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (stage, ms) in &self.0 {
            map.serialize_entry(&stage.to_string(), ms)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timings_serialise_as_an_object_in_stage_order() {
        let mut timings = Timings::default();
        timings.record(Stage::Guard, 1.5);
        timings.record(Stage::Plan(1), 0.1);
        timings.record(Stage::Wave(1), 40.0);
        timings.record(Stage::Guard, 2.0);
        let json = serde_json::to_string(&timings).unwrap();
        assert_eq!(json, r#"{"guard":2.0,"plan_1":0.1,"wave_1":40.0}"#);
        assert_eq!(timings.get(Stage::Wave(1)), Some(40.0));
        assert_eq!(timings.get(Stage::Total), None);
    }

    #[test]
    fn degradations_keep_their_wire_names() {
        for degraded in [
            Degraded::Translation,
            Degraded::Guard,
            Degraded::Retrieve,
            Degraded::WebSearch,
            Degraded::Planner,
            Degraded::Composer,
        ] {
            assert_eq!(serde_json::to_value(degraded).unwrap(), degraded.as_str());
        }
        assert_eq!(Degraded::tool(ToolName::WebSearch), Degraded::WebSearch);
    }
}
