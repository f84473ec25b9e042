//! A chat model as the composer: it writes the answer from the tools' results only, and what it writes is checked.

use futures_util::future::BoxFuture;
use navigator_platform::NavigatorError;
use navigator_resilience::Deadline;
use std::sync::Arc;

use super::{ANSWER_NOW, NOT_FOUND, SYSTEM_PROMPT, conversation, tool_specs};
use crate::chat::{Citation, Status};
use crate::compose::{ComposeContext, Composer, Composition};
use crate::evidence::Evidence;
use crate::llm::{ChatModel, Message, Speaker, ToolSpec};

/// Composes with a chat model, from the tools' results only.
pub struct LlmComposer {
    model: Arc<dyn ChatModel>,
    tools: Vec<ToolSpec>,
}

impl LlmComposer {
    pub fn new(model: Arc<dyn ChatModel>) -> Self {
        Self {
            model,
            tools: tool_specs(),
        }
    }

    async fn write(&self, question: &str, evidence: &Evidence, deadline: Deadline) -> Result<String, NavigatorError> {
        let mut messages = conversation(question, &[], evidence);
        // Tool definitions stay in the request: providers refuse tool messages without them.
        let reply = self
            .model
            .complete(SYSTEM_PROMPT, &messages, &self.tools, deadline)
            .await?;
        if reply.tool_calls.is_empty() {
            return reply
                .text
                .ok_or_else(|| NavigatorError::unavailable("llm composer", "an empty answer"));
        }
        tracing::warn!(
            asked = reply.tool_calls.len(),
            "the model asked for a third wave; capped"
        );
        metrics::counter!(navigator_metrics::PLANNER_CAPPED.name, "cap" => "waves").increment(1);
        messages.push(Message::Text {
            speaker: Speaker::User,
            text: ANSWER_NOW.into(),
        });
        let reply = self
            .model
            .complete(SYSTEM_PROMPT, &messages, &self.tools, deadline)
            .await?;
        match (reply.tool_calls.is_empty(), reply.text) {
            (true, Some(text)) => Ok(text),
            _ => Err(NavigatorError::unavailable(
                "llm composer",
                "the model would not answer without tools",
            )),
        }
    }
}

impl Composer for LlmComposer {
    fn name(&self) -> &'static str {
        "llm"
    }

    fn compose<'a>(
        &'a self,
        cx: ComposeContext<'a>,
        deadline: Deadline,
    ) -> BoxFuture<'a, Result<Composition, NavigatorError>> {
        Box::pin(async move {
            let text = match cx.draft {
                Some(draft) => draft.to_string(),
                None => self.write(cx.question, cx.evidence, deadline).await?,
            };
            finish(&text, cx.evidence)
        })
    }
}

/// The model's text as a composition: its status, and citations that point at real sources only. An answer that
/// cites nothing is not accepted (the turn then quotes the sources instead).
pub fn finish(text: &str, evidence: &Evidence) -> Result<Composition, NavigatorError> {
    let trimmed = text.trim();
    let (status, body) = match trimmed.strip_prefix(NOT_FOUND) {
        Some(rest) => (Status::Unanswered, rest.trim()),
        None => (Status::Answered, trimmed),
    };
    let known = known_citations(evidence);
    let mut citations: Vec<Citation> = Vec::new();
    let mut answer = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find(']').map(|c| open + c) else {
            break;
        };
        answer.push_str(&rest[..open]);
        let marker = &rest[open..=close];
        match known.iter().find(|c| c.marker() == marker) {
            Some(citation) => {
                answer.push_str(marker);
                if !citations.contains(citation) {
                    citations.push(citation.clone());
                }
            }
            // A marker no source has is an invented citation: it goes, and its claim is left unsupported.
            None => tracing::warn!("the model cited a source the tools did not return; marker removed"),
        }
        rest = &rest[close + 1..];
    }
    answer.push_str(rest);
    let answer = answer.split_whitespace().collect::<Vec<_>>().join(" ");
    if status == Status::Answered && citations.is_empty() {
        return Err(NavigatorError::unavailable(
            "llm composer",
            "an answer without citations",
        ));
    }
    if answer.is_empty() {
        return Err(NavigatorError::unavailable("llm composer", "an empty answer"));
    }
    Ok(Composition {
        status,
        answer,
        citations,
    })
}

fn known_citations(evidence: &Evidence) -> Vec<Citation> {
    let mut known: Vec<Citation> = evidence
        .chunks()
        .into_iter()
        .map(|chunk| Citation::document_page(&chunk.title, chunk.document_id, chunk.page))
        .collect();
    known.extend(
        evidence
            .web_results()
            .into_iter()
            .map(|result| Citation::web(&result.title, &result.url)),
    );
    known
}
