//! Chat models with native tool calling (docs/DESIGN.md §4), behind one port, and its adapters:
//! - [`OpenAiChat`]: an OpenAI-compatible `POST {base}/chat/completions` with `tools`;
//! - [`BedrockChat`]: Amazon Bedrock `Converse` with a `toolConfig`.
//!
//! `crate::agent` drives a model through a turn's waves as planner and composer.

mod bedrock;
mod openai;

pub use bedrock::BedrockChat;
pub use openai::OpenAiChat;

use futures_util::future::BoxFuture;
use navigator_platform::NavigatorError;
use navigator_resilience::Deadline;

/// Who said a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speaker {
    User,
    Assistant,
}

/// One message of a conversation with a model.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    Text {
        speaker: Speaker,
        text: String,
    },
    /// The model's own tool calls, replayed in the next request.
    ToolCalls(Vec<ModelToolCall>),
    /// What one tool call returned.
    ToolResult {
        call_id: String,
        text: String,
    },
}

/// A tool call the model asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelToolCall {
    pub id: String,
    pub name: String,
    pub arguments: serde_json::Value,
}

/// A tool the model may call: its name, what it does, and a JSON Schema of its arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSpec {
    pub name: &'static str,
    pub description: &'static str,
    pub parameters: serde_json::Value,
}

/// What the model answered: text, tool calls, or both.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelReply {
    pub text: Option<String>,
    pub tool_calls: Vec<ModelToolCall>,
}

/// A chat model. Built once per execution environment.
pub trait ChatModel: Send + Sync + 'static {
    /// The provider and model, for logs.
    fn name(&self) -> String;

    fn complete<'a>(
        &'a self,
        system: &'a str,
        messages: &'a [Message],
        tools: &'a [ToolSpec],
        deadline: Deadline,
    ) -> BoxFuture<'a, Result<ModelReply, NavigatorError>>;
}

/// A model's HTTP status as a typed failure: 429 is `Rejected` (with its `Retry-After`), other errors
/// `DependencyUnavailable`.
pub(crate) fn http_failure(provider: &str, status: u16, retry_after: Option<std::time::Duration>) -> NavigatorError {
    if status == 429 {
        NavigatorError::rejected(format!("{provider} is throttling"), retry_after)
    } else {
        NavigatorError::unavailable(provider, format!("HTTP {status}"))
    }
}
