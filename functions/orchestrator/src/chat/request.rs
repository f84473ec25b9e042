//! The body of `POST /v1/chat` (docs/DESIGN.md §3), parsed and checked, naming the first problem found.

use navigator_platform::NavigatorError;
use navigator_platform::contracts::{MAX_MESSAGE_CHARS, valid_language};
use serde::{Deserialize, Serialize};

/// The most earlier turns a request may carry.
pub const MAX_HISTORY_TURNS: usize = 10;
const MAX_CONVERSATION_ID_LEN: usize = 128;

/// One earlier turn of the conversation, sent by the client (the server keeps no state).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Turn {
    pub role: Role,
    pub content: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
}

/// The body of `POST /v1/chat`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"message": "What does a specialist visit cost me?", "language": "auto"}))]
pub struct ChatRequest {
    /// The member's question, 1 to 4000 characters.
    #[schema(min_length = 1, max_length = 4000)]
    pub message: String,
    /// The client's name for the conversation (1 to 128 characters); the server keeps no state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 128)]
    pub conversation_id: Option<String>,
    /// "auto" (the default: detected) or an ISO 639-1 code such as "es".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Up to 10 earlier turns, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 10)]
    pub history: Vec<Turn>,
}

impl ChatRequest {
    /// Parses and checks a body, naming the first problem found.
    pub fn parse(body: &[u8]) -> Result<Self, NavigatorError> {
        let mut deserializer = serde_json::Deserializer::from_slice(body);
        let request: Self = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if inner.is_syntax() || inner.is_eof() {
                NavigatorError::invalid(format!("the body is not valid JSON: {inner}"))
            } else if path == "." {
                NavigatorError::invalid(format!("body: {inner}"))
            } else {
                NavigatorError::invalid(format!("{path}: {inner}"))
            }
        })?;
        deserializer
            .end()
            .map_err(|_| NavigatorError::invalid("the body holds more than one JSON value"))?;
        request.validate()?;
        Ok(request)
    }

    /// Checks lengths and codes, naming the first problem found.
    pub fn validate(&self) -> Result<(), NavigatorError> {
        let chars = self.message.chars().count();
        if self.message.trim().is_empty() || chars > MAX_MESSAGE_CHARS {
            return Err(NavigatorError::invalid(format!(
                "message must be 1 to {MAX_MESSAGE_CHARS} characters"
            )));
        }
        if let Some(language) = &self.language
            && !valid_language(language, true)
        {
            return Err(NavigatorError::invalid(
                "language must be \"auto\" or an ISO 639-1 code such as \"es\"",
            ));
        }
        if let Some(id) = &self.conversation_id
            && (id.is_empty() || id.len() > MAX_CONVERSATION_ID_LEN)
        {
            return Err(NavigatorError::invalid(format!(
                "conversation_id must be 1 to {MAX_CONVERSATION_ID_LEN} characters"
            )));
        }
        if self.history.len() > MAX_HISTORY_TURNS {
            return Err(NavigatorError::invalid(format!(
                "history may hold at most {MAX_HISTORY_TURNS} turns"
            )));
        }
        if self
            .history
            .iter()
            .any(|turn| turn.content.chars().count() > MAX_MESSAGE_CHARS)
        {
            return Err(NavigatorError::invalid(format!(
                "each history turn must be at most {MAX_MESSAGE_CHARS} characters"
            )));
        }
        Ok(())
    }
}
