//! Amazon Bedrock `Converse` with tool use: one API across the models Bedrock hosts.
//!
//! Wire format (through the AWS SDK): `POST /model/{modelId}/converse` with `system`, `messages` of content blocks
//! (`text`, `toolUse {toolUseId, name, input}`, `toolResult {toolUseId, content}`) and `toolConfig.tools[].toolSpec
//! {name, description, inputSchema.json}`; the reply is `output.message` with the same blocks. Tool results go back in
//! a user message.

use aws_sdk_bedrockruntime::Client;
use aws_sdk_bedrockruntime::error::{DisplayErrorContext, SdkError};
use aws_sdk_bedrockruntime::operation::converse::ConverseError;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ConversationRole, ConverseOutput, InferenceConfiguration, Message as WireMessage, SystemContentBlock,
    Tool, ToolConfiguration, ToolInputSchema, ToolResultBlock, ToolResultContentBlock, ToolSpecification, ToolUseBlock,
};
use aws_smithy_types::{Document, Number};
use futures_util::future::BoxFuture;
use navigator_platform::NavigatorError;
use navigator_resilience::Deadline;
use serde_json::Value;
use std::collections::HashMap;

use super::{ChatModel, Message, ModelReply, ModelToolCall, Speaker, ToolSpec};

/// Bedrock's Converse API for one model.
pub struct BedrockChat {
    client: Client,
    model: String,
}

impl BedrockChat {
    pub fn new(client: Client, model: &str) -> Self {
        Self {
            client,
            model: model.to_string(),
        }
    }

    async fn send(&self, system: &str, messages: &[Message], tools: &[ToolSpec]) -> Result<ModelReply, NavigatorError> {
        let mut request = self
            .client
            .converse()
            .model_id(&self.model)
            .system(SystemContentBlock::Text(system.to_string()))
            .inference_config(InferenceConfiguration::builder().temperature(0.0).build());
        for message in wire_messages(messages)? {
            request = request.messages(message);
        }
        if !tools.is_empty() {
            let mut config = ToolConfiguration::builder();
            for tool in tools {
                let spec = ToolSpecification::builder()
                    .name(tool.name)
                    .description(tool.description)
                    .input_schema(ToolInputSchema::Json(to_document(&tool.parameters)))
                    .build()
                    .map_err(NavigatorError::internal)?;
                config = config.tools(Tool::ToolSpec(spec));
            }
            request = request.tool_config(config.build().map_err(NavigatorError::internal)?);
        }
        let answer = request.send().await.map_err(converse_failure)?;
        let Some(ConverseOutput::Message(message)) = answer.output() else {
            return Err(NavigatorError::unavailable(
                "bedrock converse",
                "a reply without a message",
            ));
        };
        let mut reply = ModelReply::default();
        let mut text = String::new();
        for block in message.content() {
            match block {
                ContentBlock::Text(part) => text.push_str(part),
                ContentBlock::ToolUse(call) => reply.tool_calls.push(ModelToolCall {
                    id: call.tool_use_id().to_string(),
                    name: call.name().to_string(),
                    arguments: to_value(call.input()),
                }),
                _ => {}
            }
        }
        reply.text = (!text.trim().is_empty()).then_some(text);
        Ok(reply)
    }
}

/// Our messages as Converse messages. Consecutive tool results form one user message, as Converse requires.
fn wire_messages(messages: &[Message]) -> Result<Vec<WireMessage>, NavigatorError> {
    let mut wire: Vec<(ConversationRole, Vec<ContentBlock>)> = Vec::new();
    for message in messages {
        let (role, block) = match message {
            Message::Text { speaker, text } => {
                let role = match speaker {
                    Speaker::User => ConversationRole::User,
                    Speaker::Assistant => ConversationRole::Assistant,
                };
                (role, vec![ContentBlock::Text(text.clone())])
            }
            Message::ToolCalls(calls) => {
                let blocks = calls
                    .iter()
                    .map(|call| {
                        ToolUseBlock::builder()
                            .tool_use_id(&call.id)
                            .name(&call.name)
                            .input(to_document(&call.arguments))
                            .build()
                            .map(ContentBlock::ToolUse)
                            .map_err(NavigatorError::internal)
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                (ConversationRole::Assistant, blocks)
            }
            Message::ToolResult { call_id, text } => {
                let block = ToolResultBlock::builder()
                    .tool_use_id(call_id)
                    .content(ToolResultContentBlock::Text(text.clone()))
                    .build()
                    .map_err(NavigatorError::internal)?;
                (ConversationRole::User, vec![ContentBlock::ToolResult(block)])
            }
        };
        match wire.last_mut() {
            Some((last_role, blocks)) if *last_role == role => blocks.extend(block),
            _ => wire.push((role, block)),
        }
    }
    wire.into_iter()
        .map(|(role, content)| {
            WireMessage::builder()
                .role(role)
                .set_content(Some(content))
                .build()
                .map_err(NavigatorError::internal)
        })
        .collect()
}

fn converse_failure(error: SdkError<ConverseError>) -> NavigatorError {
    if let Some(ConverseError::ThrottlingException(_)) = error.as_service_error() {
        return NavigatorError::rejected("bedrock converse is throttling", None);
    }
    NavigatorError::unavailable("bedrock converse", DisplayErrorContext(&error))
}

/// JSON as a Smithy document.
pub fn to_document(value: &Value) -> Document {
    match value {
        Value::Null => Document::Null,
        Value::Bool(b) => Document::Bool(*b),
        Value::Number(n) => Document::Number(if let Some(u) = n.as_u64() {
            Number::PosInt(u)
        } else if let Some(i) = n.as_i64() {
            Number::NegInt(i)
        } else {
            Number::Float(n.as_f64().unwrap_or_default())
        }),
        Value::String(s) => Document::String(s.clone()),
        Value::Array(items) => Document::Array(items.iter().map(to_document).collect()),
        Value::Object(fields) => Document::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), to_document(v)))
                .collect::<HashMap<_, _>>(),
        ),
    }
}

/// A Smithy document as JSON.
pub fn to_value(document: &Document) -> Value {
    match document {
        Document::Null => Value::Null,
        Document::Bool(b) => Value::Bool(*b),
        Document::Number(Number::PosInt(u)) => Value::from(*u),
        Document::Number(Number::NegInt(i)) => Value::from(*i),
        Document::Number(Number::Float(f)) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        Document::String(s) => Value::String(s.clone()),
        Document::Array(items) => Value::Array(items.iter().map(to_value).collect()),
        Document::Object(fields) => Value::Object(fields.iter().map(|(k, v)| (k.clone(), to_value(v))).collect()),
    }
}

impl ChatModel for BedrockChat {
    fn name(&self) -> String {
        format!("bedrock:{}", self.model)
    }

    fn complete<'a>(
        &'a self,
        system: &'a str,
        messages: &'a [Message],
        tools: &'a [ToolSpec],
        deadline: Deadline,
    ) -> BoxFuture<'a, Result<ModelReply, NavigatorError>> {
        Box::pin(async move {
            match deadline.run(self.send(system, messages, tools)).await {
                Ok(result) => result,
                Err(_) => Err(NavigatorError::timeout("bedrock converse")),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_bedrockruntime::config::{BehaviorVersion, Credentials, Region};
    use axum::extract::{Path, State};
    use axum::http::StatusCode;
    use axum::response::{IntoResponse, Response};
    use axum::routing::post;
    use axum::{Json, Router};
    use serde_json::json;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    type Seen = Arc<Mutex<Vec<(String, Value)>>>;

    /// Speaks Converse: `POST /model/{modelId}/converse`. A tool use first, then an answer once a tool result came.
    async fn converse(State(seen): State<Seen>, Path(model): Path<String>, Json(body): Json<Value>) -> Response {
        seen.lock().unwrap().push((model.clone(), body.clone()));
        if model == "throttled" {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [("x-amzn-errortype", "ThrottlingException")],
                Json(json!({"message": "Too many requests"})),
            )
                .into_response();
        }
        let has_result = body["messages"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|m| m["content"].as_array().unwrap().clone())
            .any(|block| block.get("toolResult").is_some());
        let content = if has_result {
            json!([{"text": "It costs $20 [p. 92]."}])
        } else {
            json!([{"text": "Let me look."}, {"toolUse": {"toolUseId": "tooluse_1", "name": "retrieve", "input": {"query": "specialist copay", "top": 3}}}])
        };
        Json(json!({
            "output": {"message": {"role": "assistant", "content": content}},
            "stopReason": if has_result { "end_turn" } else { "tool_use" },
            "usage": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15},
            "metrics": {"latencyMs": 12}
        }))
        .into_response()
    }

    async fn serve() -> (Client, Seen) {
        let seen = Seen::default();
        let app = Router::new()
            .route("/model/{model}/converse", post(converse))
            .with_state(seen.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let config = aws_sdk_bedrockruntime::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "test"))
            .endpoint_url(url)
            .retry_config(navigator_platform::aws::retry_policy())
            .build();
        (Client::from_conf(config), seen)
    }

    #[tokio::test]
    async fn a_tool_use_round_trip_in_the_converse_format() {
        let (client, seen) = serve().await;
        let model = BedrockChat::new(client, "amazon.nova-lite-v1:0");
        let tools = crate::agent::tool_specs();
        let deadline = Deadline::after(Duration::from_secs(5));
        let question = vec![Message::Text {
            speaker: Speaker::User,
            text: "What does a specialist cost?".into(),
        }];
        let first = model.complete("be good", &question, &tools, deadline).await.unwrap();
        assert_eq!(first.text.as_deref(), Some("Let me look."));
        assert_eq!(first.tool_calls[0].id, "tooluse_1");
        assert_eq!(
            first.tool_calls[0].arguments,
            json!({"query": "specialist copay", "top": 3})
        );

        let mut conversation = question;
        conversation.push(Message::ToolCalls(first.tool_calls.clone()));
        conversation.push(Message::ToolResult {
            call_id: "tooluse_1".into(),
            text: "[p. 92] Specialist visit $20 copayment".into(),
        });
        let second = model
            .complete("be good", &conversation, &tools, deadline)
            .await
            .unwrap();
        assert_eq!(second.text.as_deref(), Some("It costs $20 [p. 92]."));
        assert!(second.tool_calls.is_empty());

        let (path_model, sent) = seen.lock().unwrap()[1].clone();
        assert_eq!(path_model, "amazon.nova-lite-v1:0");
        assert_eq!(sent["system"], json!([{"text": "be good"}]));
        assert_eq!(sent["messages"][1]["role"], "assistant");
        assert_eq!(sent["messages"][1]["content"][0]["toolUse"]["toolUseId"], "tooluse_1");
        assert_eq!(sent["messages"][2]["role"], "user");
        assert_eq!(
            sent["messages"][2]["content"][0]["toolResult"],
            json!({"toolUseId": "tooluse_1", "content": [{"text": "[p. 92] Specialist visit $20 copayment"}]})
        );
        assert_eq!(sent["toolConfig"]["tools"][0]["toolSpec"]["name"], "retrieve");
        assert_eq!(
            sent["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"]["required"],
            json!(["query"])
        );
    }

    #[tokio::test]
    async fn throttling_is_rejected() {
        let (client, _) = serve().await;
        let model = BedrockChat::new(client, "throttled");
        let hello = [Message::Text {
            speaker: Speaker::User,
            text: "hi".into(),
        }];
        let error = model
            .complete("s", &hello, &[], Deadline::after(Duration::from_secs(5)))
            .await
            .unwrap_err();
        assert_eq!(error.error_type(), "Rejected", "{error:?}");
    }

    #[test]
    fn json_survives_the_document_round_trip() {
        let value = json!({"a": [1, -2, 2.5, "x", null, true], "b": {"c": {}}});
        assert_eq!(to_value(&to_document(&value)), value);
    }
}
