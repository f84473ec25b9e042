//! `navigator ask --endpoint <url> --token <jwt> "<question>"`: one turn against a deployed API (or `navigator
//! serve`), the post-deploy smoke test. It succeeds only when the turn is `answered` with citations; anything else
//! (an error status, a decline, an answer without sources) exits non-zero with what went wrong.

use orchestrator::ChatRequest;
use serde::Deserialize;
use serde_json::Value;
use std::time::Duration;

/// What the smoke test reads of the 200 body (the public contract; other fields are printed with `--json`).
#[derive(Debug, Deserialize)]
pub struct Answer {
    pub status: String,
    pub answer: String,
    #[serde(default)]
    pub citations: Vec<Value>,
    #[serde(default)]
    pub request_id: String,
    #[serde(skip)]
    body: Value,
}

/// The smoke test's own ceiling: the turn's 3 s budget, API Gateway's overhead and a cold start.
const SMOKE_TIMEOUT: Duration = Duration::from_secs(30);

pub async fn run(
    endpoint: &str,
    token: Option<&str>,
    language: &str,
    json: bool,
    question: &str,
) -> Result<(), String> {
    let response = ask(endpoint, token, language, question).await?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&response.body).map_err(|e| e.to_string())?
        );
    } else {
        println!("{}\n", response.answer);
        for citation in &response.citations {
            let title = citation["title"].as_str().unwrap_or("untitled");
            match (citation["page"].as_u64(), citation["url"].as_str()) {
                (Some(page), _) => println!("  - {title}, page {page}"),
                (None, Some(url)) => println!("  - {title} <{url}>"),
                (None, None) => println!("  - {title}"),
            }
        }
        println!("status: {}   request: {}", response.status, response.request_id);
    }
    judge(&response)
}

/// Sends the question and reads the 200 body; an error status is an error that quotes the API's own message.
pub async fn ask(endpoint: &str, token: Option<&str>, language: &str, question: &str) -> Result<Answer, String> {
    let url = format!("{}/v1/chat", endpoint.trim_end_matches('/'));
    let body = ChatRequest {
        message: question.to_string(),
        language: Some(language.to_string()),
        ..ChatRequest::default()
    };
    let client = reqwest::Client::builder()
        .timeout(SMOKE_TIMEOUT)
        .build()
        .map_err(|e| format!("HTTP client: {e}"))?;
    let mut request = client.post(&url).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.map_err(|e| format!("POST {url}: {e}"))?;
    let status = response.status();
    let text = response.text().await.map_err(|e| format!("POST {url}: {e}"))?;
    if !status.is_success() {
        let message = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|body| body["error"]["message"].as_str().map(str::to_string))
            .unwrap_or(text);
        return Err(format!("POST {url}: {status}: {message}"));
    }
    let not_a_chat_response = |e: serde_json::Error| format!("POST {url}: the 200 body is not a chat response: {e}");
    let body: Value = serde_json::from_str(&text).map_err(not_a_chat_response)?;
    let mut answer = Answer::deserialize(&body).map_err(not_a_chat_response)?;
    answer.body = body;
    Ok(answer)
}

/// Passes only an answered turn that cites its sources.
pub fn judge(response: &Answer) -> Result<(), String> {
    match (response.status.as_str(), response.citations.is_empty()) {
        ("answered", false) => Ok(()),
        ("answered", true) => Err("the turn was answered without citations".into()),
        (other, _) => Err(format!("the turn ended {other}, not answered")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::serve::local_app;
    use navigator_platform::config::Budgets;
    use navigator_platform::contracts::{BlockCategory, Verdict};
    use navigator_platform::owner::Readers;
    use navigator_resilience::CpuLoad;
    use orchestrator::Navigator;
    use orchestrator::fakes::FakeTools;
    use std::sync::Arc;
    use uuid::Uuid;

    /// `navigator serve`'s app over fake tools, on a loopback port.
    async fn serve(tools: FakeTools) -> String {
        let budgets = Budgets::from_lookup(|_| None).unwrap();
        let navigator = Navigator::offline(Arc::new(tools), &budgets);
        let app = local_app(
            budgets,
            navigator,
            CpuLoad::default(),
            Readers::new(Uuid::from_u128(7), None),
            None,
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{address}")
    }

    #[tokio::test]
    async fn an_answered_turn_with_citations_passes() {
        let endpoint = serve(FakeTools::answering(Duration::from_millis(5))).await;
        let response = ask(
            &endpoint,
            Some("a.jwt.token"),
            "auto",
            "What does a specialist visit cost?",
        )
        .await
        .unwrap();
        assert_eq!(response.status, "answered");
        assert!(!response.citations.is_empty());
        assert!(judge(&response).is_ok());
        run(&endpoint, None, "auto", true, "What does a specialist visit cost?")
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_refusal_fails_the_smoke_test() {
        let tools = FakeTools::answering(Duration::from_millis(5)).guard(Verdict::Block, Some(BlockCategory::OffTopic));
        let endpoint = serve(tools).await;
        let error = run(&endpoint, None, "auto", false, "Write me a poem about pirates")
            .await
            .unwrap_err();
        assert!(error.contains("not answered"), "{error}");
    }

    #[tokio::test]
    async fn an_error_status_fails_with_the_apis_message() {
        let endpoint = serve(FakeTools::answering(Duration::from_millis(5))).await;
        let error = ask(&endpoint, None, "auto", "").await.unwrap_err();
        assert!(error.contains("400"), "{error}");
        assert!(error.contains("message"), "the API's own words: {error}");
        let nowhere = ask("http://127.0.0.1:9", None, "auto", "hello").await.unwrap_err();
        assert!(nowhere.contains("POST http://127.0.0.1:9/v1/chat"), "{nowhere}");
    }
}
