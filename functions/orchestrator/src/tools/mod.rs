//! The `ToolInvoker` port (docs/DESIGN.md §3): how the orchestrator reaches translate, guard, retrieve and web-search.
//!
//! Both adapters speak the same wire form, the tool envelope `{request_id, deadline_unix_ms, user_id?, plan_id?, input}` →
//! `{output}` or a typed error, so a turn behaves the same in-process as across Lambda boundaries:
//! - [`in_process`]: the tools' own libraries, called directly (the local server, the CLI, tests);
//! - [`lambda_invoke`]: AWS Lambda `Invoke` (production, and `cargo lambda watch` locally).

mod in_process;
pub(crate) mod lambda_invoke;

pub use in_process::InProcess;
pub use lambda_invoke::LambdaInvoke;

use futures_util::future::BoxFuture;
use navigator_platform::NavigatorError;
use navigator_platform::contracts::ToolName;
use navigator_platform::contracts::{
    GuardInput, GuardOutput, RetrieveInput, RetrieveOutput, TranslateInput, TranslateOutput, WebSearchInput,
    WebSearchOutput,
};
use navigator_platform::envelope::ToolRequest;
use navigator_platform::owner::Readers;
use navigator_platform::section::SectionRef;
use navigator_resilience::Deadline;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// One envelope on the wire: the input already serialised.
pub type WireRequest = ToolRequest<serde_json::Value>;

/// Delivers one tool invocation and returns its `output`, or the tool's typed error.
pub trait ToolInvoker: Send + Sync + 'static {
    /// Whether this deployment has the tool at all. A tool not provided is skipped and named in `degraded`, never
    /// called and timed out.
    fn provides(&self, tool: ToolName) -> bool;

    fn invoke(&self, tool: ToolName, request: WireRequest) -> BoxFuture<'_, Result<serde_json::Value, NavigatorError>>;
}

/// Who is asking: what every call of one turn shares.
#[derive(Debug, Clone)]
pub struct CallContext {
    pub request_id: String,
    pub readers: Readers,
}

/// Typed calls over any invoker. The member's id rides in the envelope of every call, and retrieve's input takes it
/// from there, never from what a member typed.
#[derive(Clone)]
pub struct Tools {
    invoker: Arc<dyn ToolInvoker>,
}

impl Tools {
    pub fn new(invoker: Arc<dyn ToolInvoker>) -> Self {
        Self { invoker }
    }

    pub fn provides(&self, tool: ToolName) -> bool {
        self.invoker.provides(tool)
    }

    pub async fn translate(
        &self,
        cx: &CallContext,
        input: TranslateInput,
        deadline: Deadline,
    ) -> Result<TranslateOutput, NavigatorError> {
        self.call(ToolName::Translate, cx, input, deadline).await
    }

    pub async fn guard(&self, cx: &CallContext, text: &str, deadline: Deadline) -> Result<GuardOutput, NavigatorError> {
        let input = GuardInput { text: text.to_string() };
        self.call(ToolName::Guard, cx, input, deadline).await
    }

    pub async fn retrieve(
        &self,
        cx: &CallContext,
        query: &str,
        top_k: u8,
        deadline: Deadline,
    ) -> Result<RetrieveOutput, NavigatorError> {
        self.retrieve_within(cx, query, None, top_k, deadline).await
    }

    /// Retrieves from one section of the member's documents when `section` names it.
    pub async fn retrieve_within(
        &self,
        cx: &CallContext,
        query: &str,
        section: Option<&SectionRef>,
        top_k: u8,
        deadline: Deadline,
    ) -> Result<RetrieveOutput, NavigatorError> {
        let input = RetrieveInput {
            user_id: cx.readers.member,
            plan_id: cx.readers.plan.clone(),
            query: query.to_string(),
            top_k: Some(top_k),
            section: section.cloned(),
        };
        self.call(ToolName::Retrieve, cx, input, deadline).await
    }

    pub async fn web_search(
        &self,
        cx: &CallContext,
        query: &str,
        max_results: u8,
        deadline: Deadline,
    ) -> Result<WebSearchOutput, NavigatorError> {
        let input = WebSearchInput {
            query: query.to_string(),
            max_results: Some(max_results),
        };
        self.call(ToolName::WebSearch, cx, input, deadline).await
    }

    async fn call<I: Serialize, O: DeserializeOwned>(
        &self,
        tool: ToolName,
        cx: &CallContext,
        input: I,
        deadline: Deadline,
    ) -> Result<O, NavigatorError> {
        if deadline.is_expired() {
            return Err(NavigatorError::timeout(tool.as_str()));
        }
        let input = serde_json::to_value(input).map_err(NavigatorError::internal)?;
        let request = ToolRequest::new(cx.request_id.clone(), deadline, Some(&cx.readers), input);
        // The call never outlives its deadline, whatever the adapter does.
        let output = match deadline.run(self.invoker.invoke(tool, request)).await {
            Ok(result) => result?,
            Err(_) => return Err(NavigatorError::timeout(tool.as_str())),
        };
        serde_json::from_value(output)
            .map_err(|e| NavigatorError::unavailable(tool.as_str(), format!("malformed output: {e}")))
    }
}
