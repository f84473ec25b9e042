//! An OpenAI-compatible chat completions API with tool calling (OpenAI, vLLM, Ollama, LiteLLM, gateways).
//!
//! Wire format: `POST {base}/chat/completions` with `{model, messages, tools, temperature}`; a tool call comes back in
//! `choices[0].message.tool_calls[] = {id, type: "function", function: {name, arguments}}`, where `arguments` is a
//! JSON *string*; tool results go back as `{role: "tool", tool_call_id, content}`.

use futures_util::future::BoxFuture;
use navigator_platform::NavigatorError;
use navigator_platform::secrets::SecretString;
use navigator_resilience::Deadline;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ChatModel, Message, ModelReply, ModelToolCall, Speaker, ToolSpec, http_failure};

/// Calls an OpenAI-compatible chat API. The HTTP client is shared and built once per environment.
pub struct OpenAiChat {
    client: reqwest::Client,
    base_url: String,
    api_key: Option<SecretString>,
    model: String,
}

#[derive(Deserialize)]
struct Completion {
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    message: ReplyMessage,
}

#[derive(Deserialize)]
struct ReplyMessage {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    tool_calls: Vec<WireToolCall>,
}

#[derive(Deserialize)]
struct WireToolCall {
    id: String,
    function: WireFunction,
}

#[derive(Deserialize)]
struct WireFunction {
    name: String,
    arguments: String,
}

impl OpenAiChat {
    /// `base_url` ends before `/chat/completions`, e.g. `https://api.openai.com/v1`.
    pub fn new(client: reqwest::Client, base_url: &str, api_key: Option<SecretString>, model: &str) -> Self {
        Self {
            client,
            base_url: base_url.trim_end_matches('/').to_string(),
            api_key,
            model: model.to_string(),
        }
    }

    fn body(&self, system: &str, messages: &[Message], tools: &[ToolSpec]) -> Value {
        let mut wire = vec![json!({"role": "system", "content": system})];
        for message in messages {
            wire.push(match message {
                Message::Text { speaker, text } => {
                    let role = match speaker {
                        Speaker::User => "user",
                        Speaker::Assistant => "assistant",
                    };
                    json!({"role": role, "content": text})
                }
                Message::ToolCalls(calls) => json!({
                    "role": "assistant",
                    "content": null,
                    "tool_calls": calls.iter().map(|call| json!({
                        "id": call.id,
                        "type": "function",
                        "function": {"name": call.name, "arguments": call.arguments.to_string()},
                    })).collect::<Vec<_>>(),
                }),
                Message::ToolResult { call_id, text } => {
                    json!({"role": "tool", "tool_call_id": call_id, "content": text})
                }
            });
        }
        let mut body = json!({"model": self.model, "messages": wire, "temperature": 0});
        if !tools.is_empty() {
            body["tools"] = tools
                .iter()
                .map(|tool| {
                    json!({"type": "function", "function": {
                        "name": tool.name, "description": tool.description, "parameters": tool.parameters,
                    }})
                })
                .collect();
        }
        body
    }

    async fn send(&self, body: Value) -> Result<ModelReply, NavigatorError> {
        let mut request = self
            .client
            .post(format!("{}/chat/completions", self.base_url))
            .json(&body);
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key.expose());
        }
        let response = request
            .send()
            .await
            .map_err(|e| NavigatorError::unavailable("openai chat", e.without_url()))?;
        let status = response.status();
        if !status.is_success() {
            let retry_after = navigator_platform::error::parse_retry_after(
                response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok()),
            );
            return Err(http_failure("openai chat", status.as_u16(), retry_after));
        }
        let completion: Completion = response.json().await.map_err(|e| {
            NavigatorError::unavailable("openai chat", format!("malformed response: {}", e.without_url()))
        })?;
        let Some(choice) = completion.choices.into_iter().next() else {
            return Err(NavigatorError::unavailable("openai chat", "a response without choices"));
        };
        let tool_calls = choice
            .message
            .tool_calls
            .into_iter()
            .map(|call| {
                let arguments = serde_json::from_str(&call.function.arguments).map_err(|e| {
                    NavigatorError::unavailable("openai chat", format!("tool arguments are not JSON: {e}"))
                })?;
                Ok(ModelToolCall {
                    id: call.id,
                    name: call.function.name,
                    arguments,
                })
            })
            .collect::<Result<Vec<_>, NavigatorError>>()?;
        let text = choice.message.content.filter(|text| !text.trim().is_empty());
        Ok(ModelReply { text, tool_calls })
    }
}

impl ChatModel for OpenAiChat {
    fn name(&self) -> String {
        format!("openai:{}", self.model)
    }

    fn complete<'a>(
        &'a self,
        system: &'a str,
        messages: &'a [Message],
        tools: &'a [ToolSpec],
        deadline: Deadline,
    ) -> BoxFuture<'a, Result<ModelReply, NavigatorError>> {
        Box::pin(async move {
            let body = self.body(system, messages, tools);
            match deadline.run(self.send(body)).await {
                Ok(result) => result,
                Err(_) => Err(NavigatorError::timeout("openai chat")),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::extract::State;
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::{IntoResponse, Response};
    use axum::routing::post;
    use axum::{Json, Router};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    #[derive(Clone, Default)]
    struct Fake {
        bodies: Arc<Mutex<Vec<Value>>>,
        auth: Arc<Mutex<Vec<String>>>,
    }

    /// Speaks the chat completions API: a tool call first, then an answer; `mode` in the model name injects faults.
    async fn completions(State(fake): State<Fake>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
        let auth = headers
            .get("authorization")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        fake.auth.lock().unwrap().push(auth);
        fake.bodies.lock().unwrap().push(body.clone());
        match body["model"].as_str().unwrap() {
            "throttled" => (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "3")], "slow down").into_response(),
            "broken" => (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response(),
            "garbled" => (StatusCode::OK, "{\"choices\": [").into_response(),
            "slow" => {
                tokio::time::sleep(Duration::from_secs(5)).await;
                Json(json!({})).into_response()
            }
            _ if body["messages"].as_array().unwrap().iter().any(|m| m["role"] == "tool") => Json(json!({
                "id": "chatcmpl-2", "object": "chat.completion", "model": "gpt-4o-mini",
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": "It costs $20 [p. 92]."}}],
            }))
            .into_response(),
            _ => Json(json!({
                "id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o-mini",
                "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": null,
                    "tool_calls": [{"id": "call_abc", "type": "function",
                                    "function": {"name": "retrieve", "arguments": "{\"query\":\"specialist copay\"}"}}]}}],
            }))
            .into_response(),
        }
    }

    async fn serve() -> (String, Fake) {
        let fake = Fake::default();
        let app = Router::new()
            .route("/v1/chat/completions", post(completions))
            .with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/v1", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (url, fake)
    }

    fn chat(url: &str, model: &str) -> OpenAiChat {
        OpenAiChat::new(reqwest::Client::new(), url, Some(SecretString::new("sk-test")), model)
    }

    fn deadline() -> Deadline {
        Deadline::after(Duration::from_secs(5))
    }

    #[tokio::test]
    async fn a_tool_call_round_trip_in_the_wire_format() {
        let (url, fake) = serve().await;
        let model = chat(&url, "gpt-4o-mini");
        let tools = crate::agent::tool_specs();
        let question = vec![Message::Text {
            speaker: Speaker::User,
            text: "What does a specialist cost?".into(),
        }];
        let first = model.complete("be good", &question, &tools, deadline()).await.unwrap();
        assert_eq!(first.text, None);
        assert_eq!(first.tool_calls[0].id, "call_abc");
        assert_eq!(first.tool_calls[0].arguments, json!({"query": "specialist copay"}));

        let mut conversation = question.clone();
        conversation.push(Message::ToolCalls(first.tool_calls.clone()));
        conversation.push(Message::ToolResult {
            call_id: "call_abc".into(),
            text: "[p. 92] Specialist visit $20 copayment".into(),
        });
        let second = model
            .complete("be good", &conversation, &tools, deadline())
            .await
            .unwrap();
        assert_eq!(second.text.as_deref(), Some("It costs $20 [p. 92]."));

        let sent = fake.bodies.lock().unwrap()[1].clone();
        assert_eq!(sent["messages"][0], json!({"role": "system", "content": "be good"}));
        assert_eq!(
            sent["messages"][2]["tool_calls"][0]["function"]["arguments"],
            "{\"query\":\"specialist copay\"}"
        );
        assert_eq!(
            sent["messages"][3],
            json!({"role": "tool", "tool_call_id": "call_abc", "content": "[p. 92] Specialist visit $20 copayment"})
        );
        assert_eq!(sent["tools"][0]["type"], "function");
        assert_eq!(sent["tools"][0]["function"]["name"], "retrieve");
        assert_eq!(sent["tools"][0]["function"]["parameters"]["required"], json!(["query"]));
        assert_eq!(fake.auth.lock().unwrap()[0], "Bearer sk-test");
    }

    #[tokio::test]
    async fn faults_are_typed_and_the_deadline_holds() {
        let (url, _) = serve().await;
        let hello = [Message::Text {
            speaker: Speaker::User,
            text: "hi".into(),
        }];
        let throttled = chat(&url, "throttled")
            .complete("s", &hello, &[], deadline())
            .await
            .unwrap_err();
        assert!(
            matches!(&throttled, NavigatorError::Rejected { retry_after: Some(after), .. } if *after == Duration::from_secs(3)),
            "{throttled:?}"
        );
        let broken = chat(&url, "broken")
            .complete("s", &hello, &[], deadline())
            .await
            .unwrap_err();
        assert_eq!(broken.error_type(), "DependencyUnavailable");
        let garbled = chat(&url, "garbled")
            .complete("s", &hello, &[], deadline())
            .await
            .unwrap_err();
        assert_eq!(
            garbled.error_type(),
            "DependencyUnavailable",
            "a malformed body is an error, not an empty answer"
        );
        let started = std::time::Instant::now();
        let slow = chat(&url, "slow")
            .complete("s", &hello, &[], Deadline::after(Duration::from_millis(150)))
            .await
            .unwrap_err();
        assert_eq!(slow.error_type(), "Timeout");
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
