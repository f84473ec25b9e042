//! The tools, and the input and output of each (docs/DESIGN.md §3). Inputs validate their own limits.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

use crate::NavigatorError;
use crate::envelope::ValidInput;
use crate::owner::{PlanId, Readers};
use crate::section::SectionRef;

/// The most text any tool accepts: the chat API's 64 KiB body bound.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;
/// The most characters of a chat message (docs/DESIGN.md §3).
pub const MAX_MESSAGE_CHARS: usize = 4000;

/// The four tools: the one list every function and the orchestrator share. Every `match` on it is exhaustive, so a
/// new tool makes the compiler name each place that must learn about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ToolName {
    Translate,
    Guard,
    Retrieve,
    WebSearch,
}

impl ToolName {
    pub const ALL: [ToolName; 4] = [Self::Translate, Self::Guard, Self::Retrieve, Self::WebSearch];

    /// The tool's name in the chat API's `tools`, in `degraded`, in metrics and to a chat model.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Translate => "translate",
            Self::Guard => "guard",
            Self::Retrieve => "retrieve",
            Self::WebSearch => "web_search",
        }
    }

    /// The deployed function's name: its crate and binary under `functions/`, and the `function` of its logs and
    /// metrics. Cargo and Lambda names take hyphens, so this is the one place the spelling differs.
    pub const fn function_name(self) -> &'static str {
        match self {
            Self::Translate => "translate",
            Self::Guard => "guard",
            Self::Retrieve => "retrieve",
            Self::WebSearch => "web-search",
        }
    }

    /// The orchestrator's environment variable naming the tool's Lambda function.
    pub const fn function_variable(self) -> &'static str {
        match self {
            Self::Translate => "TRANSLATE_FUNCTION",
            Self::Guard => "GUARD_FUNCTION",
            Self::Retrieve => "RETRIEVE_FUNCTION",
            Self::WebSearch => "WEB_SEARCH_FUNCTION",
        }
    }
}

impl fmt::Display for ToolName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn non_empty_text(field: &str, text: &str, max_bytes: usize) -> Result<(), NavigatorError> {
    if text.trim().is_empty() {
        return Err(NavigatorError::invalid(format!("{field} must not be empty")));
    }
    if text.len() > max_bytes {
        return Err(NavigatorError::invalid(format!(
            "{field} must be at most {max_bytes} bytes"
        )));
    }
    Ok(())
}

/// `"auto"` or a two- or three-letter lowercase ISO 639 code.
pub fn valid_language(code: &str, allow_auto: bool) -> bool {
    (allow_auto && code == "auto") || ((2..=3).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_lowercase()))
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TranslateInput {
    pub text: String,
    #[serde(default = "auto")]
    pub source_lang: String,
    pub target_lang: String,
}

fn auto() -> String {
    "auto".into()
}

impl ValidInput for TranslateInput {
    fn validate(&self) -> Result<(), NavigatorError> {
        non_empty_text("text", &self.text, MAX_TEXT_BYTES)?;
        if !valid_language(&self.source_lang, true) {
            return Err(NavigatorError::invalid(
                "source_lang must be \"auto\" or an ISO 639-1 code such as \"es\"",
            ));
        }
        if !valid_language(&self.target_lang, false) {
            return Err(NavigatorError::invalid(
                "target_lang must be an ISO 639-1 code such as \"en\"",
            ));
        }
        Ok(())
    }
}

/// `TranslateOutput::provider` of the embedded default translator: Spanish rendered as English term by term
/// (`navigator_language::spanish`), the same rendering the guard reads beside a Spanish message.
pub const TERM_BY_TERM_PROVIDER: &str = "glossary";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TranslateOutput {
    pub text: String,
    pub source_lang: String,
    pub target_lang: String,
    pub detected_confidence: f32,
    pub provider: String,
    pub translated: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardInput {
    pub text: String,
}

impl ValidInput for GuardInput {
    fn validate(&self) -> Result<(), NavigatorError> {
        non_empty_text("text", &self.text, MAX_TEXT_BYTES)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Allow,
    Redact,
    Block,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockCategory {
    /// Prompt injection and jailbreaks: attempts to change the assistant's rules or read its instructions.
    Injection,
    /// Asking for another person's or many members' data.
    Privacy,
    /// A clinical decision: a diagnosis, a treatment choice, a dose.
    UnsafeMedical,
    /// A medical emergency happening now.
    Emergency,
    /// Clearly harmful requests: weapons, crime, hacking, violence.
    Harmful,
    /// Harmless, but nothing to do with the health plan.
    OffTopic,
}

impl BlockCategory {
    /// What a member reads when the guard blocks their message: the guard sends it, and the orchestrator falls back
    /// to it when a guard sends none.
    pub fn refusal(self) -> &'static str {
        match self {
            Self::Emergency => {
                "This sounds like it could be an emergency. Call 911 or go to the nearest emergency room now; don't \
                 wait for an answer from me. Your plan covers emergency care anywhere in the United States, and you \
                 never need approval first."
            }
            Self::UnsafeMedical => {
                "I can't give medical advice, such as a diagnosis, which treatment to choose, or whether to start, \
                 stop or change a medicine or its dose. Please ask your doctor or pharmacist; if this might be an \
                 emergency, call 911 now. I can tell you what your plan covers, for example the cost of a visit, a \
                 treatment or a prescription."
            }
            Self::Privacy => {
                "I can't share or look up anyone else's information. I can only help with your own plan and \
                 coverage. If you help someone else with their plan, they can name you as their representative by \
                 calling Member Services."
            }
            Self::Injection => {
                "I can't help with that request. I can answer questions about your own plan's benefits, costs and \
                 how to use your coverage."
            }
            Self::Harmful => "I can't help with that. I can only help with questions about your health plan.",
            Self::OffTopic => {
                "I can only help with questions about your health plan: benefits, costs, doctors, prescriptions and \
                 how to use your coverage."
            }
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Injection => "injection",
            Self::Privacy => "privacy",
            Self::UnsafeMedical => "unsafe_medical",
            Self::Emergency => "emergency",
            Self::Harmful => "harmful",
            Self::OffTopic => "off_topic",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: String,
    pub start: usize,
    pub end: usize,
    pub score: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuardOutput {
    pub verdict: Verdict,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<BlockCategory>,
    /// The text with personal data replaced by typed placeholders.
    pub text: String,
    pub findings: Vec<Finding>,
    pub stages_ms: serde_json::Map<String, serde_json::Value>,
    /// For `block`: a kind refusal the member can read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// A stage ran out of time and the verdict of the stages before it stands.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub degraded: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetrieveInput {
    /// The authenticated member. The orchestrator sets it from the caller's identity, never from a chat body.
    pub user_id: Uuid,
    /// The member's plan, from the same identity: its documents are read with the member's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_id: Option<PlanId>,
    pub query: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u8>,
    /// Read only this section ("Chapter 3, Section 2.4"), ranked by the query: how a cross-reference is followed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section: Option<SectionRef>,
}

/// The most chunks one search may return.
pub const MAX_TOP_K: u8 = 20;

impl RetrieveInput {
    /// Whose documents this search reads.
    pub fn readers(&self) -> Readers {
        Readers::new(self.user_id, self.plan_id.clone())
    }
}

impl ValidInput for RetrieveInput {
    fn validate(&self) -> Result<(), NavigatorError> {
        non_empty_text("query", &self.query, MAX_MESSAGE_CHARS * 4)?;
        match self.top_k {
            Some(k) if k == 0 || k > MAX_TOP_K => {
                Err(NavigatorError::invalid(format!("top_k must be 1 to {MAX_TOP_K}")))
            }
            _ => Ok(()),
        }
    }
}

/// A best `ChunkHit::score` under this suggests the documents do not answer the question (the planner then asks the
/// web). It is a floor, not a classifier: on the dev set and both halves of the answers' sets every question's best
/// score is above it, answerable or negative, with the rerank's word-piece bonus (which only adds) and without it.
/// Plausible negatives score as high as answerable ones: retrieval alone cannot tell them apart, so the composer makes
/// the final call from what the chunks actually say. Under it with no web result, the extractive composer declines
/// (as it does when the LLM composer hands over to it). The value was measured with the local sentence model; another
/// embedder's scores should be checked against it.
pub const ANSWERABLE_SCORE: f32 = 1.1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkHit {
    pub chunk_id: Uuid,
    pub document_id: Uuid,
    pub title: String,
    pub page: u32,
    pub section: String,
    pub text: String,
    pub score: f32,
    /// The cosine similarity of the query's vector, as a query adapter read it, to the chunk's: the scale the
    /// composer's decline threshold is calibrated on. None when no adapter read the query (another embedder, the
    /// adapter switched off) or from a producer that does not report it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub similarity: Option<f32>,
    /// How close each sentence of `text` (as [`crate::text::sentences`] cuts it) is to the query, in order: cosine
    /// similarity of the sentence's own vector, stored at ingest. Empty when the store holds no sentence vectors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub units: Vec<f32>,
    /// For each sentence of `text` (as `units`), for each of the query's word pieces in order, its best cosine
    /// against the sentence's word pieces (late interaction, after the embedding model's last layer). Empty when the
    /// embedder or the store gives no piece states.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub piece_matches: Vec<Vec<f32>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RetrieveTimings {
    pub cache: f64,
    pub embed: f64,
    pub knn: f64,
    pub rerank: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetrieveOutput {
    pub chunks: Vec<ChunkHit>,
    /// The best similarity of any chunk the search weighed (before the rerank kept `chunks`) to the query, as a
    /// query adapter read it: how close the documents come to the question at all, on the scale the composer's
    /// decline threshold is calibrated on. None when no adapter read the query, or from a producer that does not
    /// report it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best_similarity: Option<f32>,
    pub timings_ms: RetrieveTimings,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebSearchInput {
    pub query: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_results: Option<u8>,
}

/// The most web results one search may return.
pub const MAX_WEB_RESULTS: u8 = 10;

impl ValidInput for WebSearchInput {
    fn validate(&self) -> Result<(), NavigatorError> {
        non_empty_text("query", &self.query, 400)?;
        match self.max_results {
            Some(n) if n == 0 || n > MAX_WEB_RESULTS => Err(NavigatorError::invalid(format!(
                "max_results must be 1 to {MAX_WEB_RESULTS}"
            ))),
            _ => Ok(()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebResult {
    pub title: String,
    pub url: String,
    pub snippet: String,
    pub score: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebSearchOutput {
    pub results: Vec<WebResult>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_names_are_listed_once_each() {
        for (position, tool) in ToolName::ALL.into_iter().enumerate() {
            // Exhaustive: a new tool fails to compile here until it has its place in ALL.
            let expected = match tool {
                ToolName::Translate => 0,
                ToolName::Guard => 1,
                ToolName::Retrieve => 2,
                ToolName::WebSearch => 3,
            };
            assert_eq!(position, expected, "{tool}");
            let wire = serde_json::to_value(tool).unwrap();
            assert_eq!(wire, tool.as_str(), "the wire name is the name");
        }
    }

    #[test]
    fn languages_are_auto_or_lowercase_iso_codes() {
        assert!(valid_language("auto", true) && valid_language("es", false) && valid_language("fil", false));
        assert!(!valid_language("auto", false) && !valid_language("ES", false) && !valid_language("e", false));
        assert!(!valid_language("english", false));
    }

    #[test]
    fn inputs_check_their_limits() {
        let user_id = Uuid::nil();
        let retrieve = |top_k| RetrieveInput {
            user_id,
            plan_id: None,
            query: "copay".into(),
            top_k,
            section: None,
        };
        assert!(retrieve(Some(5)).validate().is_ok() && retrieve(None).validate().is_ok());
        assert!(retrieve(Some(0)).validate().is_err() && retrieve(Some(21)).validate().is_err());
        assert!(GuardInput { text: "   ".into() }.validate().is_err());
        assert!(
            GuardInput {
                text: "x".repeat(MAX_TEXT_BYTES + 1)
            }
            .validate()
            .is_err()
        );
        let web = |max_results| WebSearchInput {
            query: "part b premium".into(),
            max_results,
        };
        assert!(web(Some(10)).validate().is_ok() && web(Some(11)).validate().is_err());
        let translate = TranslateInput {
            text: "hola".into(),
            source_lang: "auto".into(),
            target_lang: "auto".into(),
        };
        assert!(translate.validate().is_err(), "the target must be a concrete language");
    }
}
