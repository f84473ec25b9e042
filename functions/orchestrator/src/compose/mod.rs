//! The composer: the member's answer from what the tools found, every claim cited (DESIGN.md §1 step 7).
//!
//! - [`extractive`]: the offline default. It quotes the sentences that answer the question.
//! - [`crate::llm::agent`]: a chat model writing from the retrieved text only.
//! - [`grounding`]: whatever wrote the answer, a dollar amount or phone number that no source holds is removed.
//! - [`passages`]: sources cut into citable sentences.

pub mod extractive;
pub mod grounding;
pub mod passages;

use futures_util::future::BoxFuture;
use navigator_platform::NavigatorError;
use navigator_resilience::Deadline;
use serde::Serialize;

use crate::evidence::Evidence;

/// Whether the turn answered the member (DESIGN.md §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The sources hold the answer.
    Answered,
    /// They do not, and the answer says so.
    Unanswered,
    /// The guard blocked the turn.
    Refused,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CitationKind {
    Document,
    Web,
}

/// Where a claim comes from: a page of a plan document, or a web page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Citation {
    pub kind: CitationKind,
    pub title: String,
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
            page: Some(page),
            url: None,
        }
    }

    pub fn web(title: &str, url: &str) -> Self {
        Self {
            kind: CitationKind::Web,
            title: title.to_string(),
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

/// A composed answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Composition {
    pub status: Status,
    pub answer: String,
    pub citations: Vec<Citation>,
}

/// What a composer sees.
#[derive(Debug, Clone, Copy)]
pub struct ComposeContext<'a> {
    /// The member's question in English, redacted.
    pub question: &'a str,
    pub evidence: &'a Evidence,
    /// An answer a model planner already wrote from the evidence, if any.
    pub draft: Option<&'a str>,
}

pub trait Composer: Send + Sync + 'static {
    fn name(&self) -> &'static str;

    fn compose<'a>(
        &'a self,
        cx: ComposeContext<'a>,
        deadline: Deadline,
    ) -> BoxFuture<'a, Result<Composition, NavigatorError>>;
}
