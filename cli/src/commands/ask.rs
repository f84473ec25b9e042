//! `navigator ask [--json] [--language auto] [--user <uuid>] [--plan <plan_id>] "<question>"`: one whole chat turn in this process.

use navigator_platform::NavigatorError;
use navigator_platform::owner::Readers;
use navigator_resilience::Deadline;
use orchestrator::{ChatRequest, ChatResponse, TurnRequest};
use uuid::Uuid;

use super::navigator_with_sample;

pub async fn run(readers: Readers, language: &str, json: bool, question: &str) -> Result<(), String> {
    let chat = ChatRequest {
        message: question.to_string(),
        language: Some(language.to_string()),
        ..ChatRequest::default()
    };
    chat.validate().map_err(|e| e.public_message())?;
    let (_, navigator) = navigator_with_sample().await?;
    let deadline = Deadline::after(navigator.budgets().total);
    let turn = TurnRequest {
        request_id: Uuid::new_v4().to_string(),
        readers,
        chat,
        deadline,
    };
    let response = navigator
        .answer(turn)
        .await
        .map_err(|e: NavigatorError| format!("{} ({e})", e.public_message()))?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&response).map_err(|e| e.to_string())?
        );
    } else {
        print_human(&response);
    }
    Ok(())
}

fn print_human(response: &ChatResponse) {
    println!("{}\n", response.answer);
    if !response.citations.is_empty() {
        println!("citations:");
        for citation in &response.citations {
            match (&citation.page, &citation.url) {
                (Some(page), _) => println!("  - {}, page {page}", citation.title),
                (None, Some(url)) => println!("  - {} <{url}>", citation.title),
                (None, None) => println!("  - {}", citation.title),
            }
        }
    }
    println!("status: {}   language: {}", response.status.as_str(), response.language);
    for tool in &response.tools {
        println!(
            "tool: {} (wave {}) {} in {:.1} ms",
            tool.name,
            tool.wave,
            tool.outcome.as_str(),
            tool.ms
        );
    }
    if !response.degraded.is_empty() {
        let degraded: Vec<&str> = response.degraded.iter().map(|d| d.as_str()).collect();
        println!("degraded: {}", degraded.join(", "));
    }
    let timings: Vec<String> = response
        .timings_ms
        .iter()
        .map(|(stage, ms)| format!("{stage} {ms:.1} ms"))
        .collect();
    println!("timings: {}", timings.join(", "));
}
