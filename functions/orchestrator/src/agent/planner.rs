//! A chat model as the planner: its native tool calls become the turn's waves.

use futures_util::future::BoxFuture;
use navigator_platform::NavigatorError;
use navigator_platform::section::SectionRef;
use navigator_resilience::Deadline;
use std::sync::Arc;

use super::{READ_SECTION, RETRIEVE, SYSTEM_PROMPT, WEB_SEARCH, conversation, tool_specs};
use crate::evidence::{PlannedCall, ToolCall};
use crate::llm::{ChatModel, ModelToolCall, ToolSpec};
use crate::plan::{PlanContext, Planner, Step};

/// The model's tool calls as planned calls; unknown tools and calls without a query are dropped, and logged.
pub(super) fn planned_calls(calls: Vec<ModelToolCall>) -> Vec<PlannedCall> {
    calls
        .into_iter()
        .filter_map(|call| {
            let text = |name: &str| {
                call.arguments
                    .get(name)
                    .and_then(|q| q.as_str())
                    .map(str::trim)
                    .filter(|q| !q.is_empty())
            };
            let section = text("section").map(SectionRef::parse).and_then(Result::ok);
            let planned = match (call.name.as_str(), text("query")) {
                (RETRIEVE, Some(query)) => ToolCall::Retrieve { query: query.into() },
                (READ_SECTION, Some(query)) if section.is_some() => ToolCall::ReadSection {
                    section: section?,
                    query: query.into(),
                },
                (WEB_SEARCH, Some(query)) => ToolCall::WebSearch { query: query.into() },
                (name, _) => {
                    tracing::warn!(
                        tool = name,
                        "the model called an unknown tool, or gave no query or no valid section; ignored"
                    );
                    return None;
                }
            };
            Some(PlannedCall {
                id: call.id,
                call: planned,
            })
        })
        .collect()
}

/// Plans with a chat model's native tool calling.
pub struct LlmPlanner {
    model: Arc<dyn ChatModel>,
    tools: Vec<ToolSpec>,
}

impl LlmPlanner {
    pub fn new(model: Arc<dyn ChatModel>) -> Self {
        Self {
            model,
            tools: tool_specs(),
        }
    }
}

impl Planner for LlmPlanner {
    fn name(&self) -> &'static str {
        "llm"
    }

    fn next_step<'a>(&'a self, cx: PlanContext<'a>, deadline: Deadline) -> BoxFuture<'a, Result<Step, NavigatorError>> {
        Box::pin(async move {
            let messages = conversation(cx.question, cx.history, cx.evidence);
            let reply = self
                .model
                .complete(SYSTEM_PROMPT, &messages, &self.tools, deadline)
                .await?;
            let calls = planned_calls(reply.tool_calls);
            if calls.is_empty() {
                return Ok(Step::Done { draft: reply.text });
            }
            if cx.waves_done >= cx.max_waves {
                tracing::warn!(
                    asked = calls.len(),
                    "the model asked for another wave past the last; capped"
                );
                metrics::counter!(navigator_metrics::PLANNER_CAPPED.name, "cap" => "waves").increment(1);
                return Ok(Step::Done { draft: None });
            }
            Ok(Step::Call(calls))
        })
    }
}
