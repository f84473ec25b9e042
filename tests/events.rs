//! Every sample event under `events/` is replayed through its function and must give the answer listed here.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test crate: a panic is a failed test

use axum::body::Body;
use lambda_runtime::{Context, LambdaEvent};
use navigator_lambda::{Tool, handle};
use navigator_platform::config::Budgets;
use navigator_platform::contracts::ToolName;
use navigator_retrieval::ingest::ingest;
use navigator_retrieval::retriever::Retriever;
use navigator_retrieval::store::SqliteStore;
use navigator_tests::{HashingEmbedder, sample_plan};
use orchestrator::{AppState, InProcess, Navigator};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower::ServiceExt;

/// What a replayed event must produce: an HTTP status, or a tool's `output`/`errorType`.
#[derive(Debug, Clone, Copy)]
enum Expect {
    Http(u16),
    ToolOk,
    ToolError(&'static str),
}

const EXPECTATIONS: &[(&str, Expect)] = &[
    ("orchestrator/chat-apigw-v2.json", Expect::Http(200)),
    ("orchestrator/chat-apigw-v2-spanish.json", Expect::Http(200)),
    ("orchestrator/chat-apigw-v2-no-claims.json", Expect::Http(401)),
    ("orchestrator/chat-apigw-v2-malformed-json.json", Expect::Http(400)),
    ("orchestrator/chat-apigw-v2-too-long.json", Expect::Http(400)),
    ("orchestrator/health-apigw-v2.json", Expect::Http(200)),
    ("orchestrator/chat-apigw-v1.json", Expect::Http(200)),
    ("orchestrator/chat-apigw-v1-no-claims.json", Expect::Http(401)),
    ("translate/valid.json", Expect::ToolOk),
    ("translate/invalid-target.json", Expect::ToolError("InvalidInput")),
    ("guard/valid.json", Expect::ToolOk),
    ("guard/invalid-empty.json", Expect::ToolError("InvalidInput")),
    ("retrieve/valid.json", Expect::ToolOk),
    ("retrieve/invalid-top-k.json", Expect::ToolError("InvalidInput")),
    ("retrieve/section.json", Expect::ToolOk),
    ("retrieve/invalid-section.json", Expect::ToolError("InvalidInput")),
    ("retrieve/other-member.json", Expect::ToolError("InvalidInput")),
    ("retrieve/other-plan.json", Expect::ToolError("InvalidInput")),
    ("web-search/valid.json", Expect::ToolError("Rejected")),
    ("web-search/invalid-max-results.json", Expect::ToolError("InvalidInput")),
];

fn events_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../events")
}

fn all_event_files() -> Vec<String> {
    let mut files = Vec::new();
    for function in std::fs::read_dir(events_dir()).unwrap() {
        let function = function.unwrap().path();
        for event in std::fs::read_dir(&function).unwrap() {
            let event = event.unwrap().path();
            let name = event.file_name().unwrap().to_string_lossy().to_string();
            files.push(format!("{}/{name}", function.file_name().unwrap().to_string_lossy()));
        }
    }
    files.sort();
    files
}

async fn replay_tool<T: Tool>(tool: T, text: &str) -> Result<(), String> {
    let payload: serde_json::Value = serde_json::from_str(text).unwrap();
    let mut context = Context::default();
    context.request_id = "replay".into();
    handle(&tool, LambdaEvent::new(payload, context))
        .await
        .map(|_| ())
        .map_err(|d| d.error_type)
}

/// The orchestrator's Lambda service over an in-process retrieve tool holding the events' member's plan.
async fn chat_service() -> axum::Router {
    let budgets = Budgets::from_lookup(|_| None).unwrap();
    let guard = guard::Guard::local(&budgets.guard).unwrap();
    let tools = InProcess::new()
        .with(ToolName::Guard, guard)
        .with(ToolName::Retrieve, retrieve_over_sample().await);
    let navigator = Navigator::offline(Arc::new(tools), &budgets);
    orchestrator::lambda_service(Arc::new(AppState::chat_only(budgets, navigator)))
}

/// Replays an API Gateway event through the orchestrator: status and JSON body.
async fn replay_http(text: &str) -> Result<(u16, serde_json::Value), String> {
    let request = lambda_http::request::from_str(text).map_err(|e| format!("not an API Gateway event: {e}"))?;
    let (parts, body) = request.into_parts();
    let request = axum::http::Request::from_parts(parts, Body::from(body.to_vec()));
    let response = chat_service().await.oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    Ok((status, serde_json::from_slice(&bytes).unwrap_or_default()))
}

async fn replay(file: &str, text: &str) -> Result<u16, String> {
    let function = file.split('/').next().unwrap();
    match function {
        "orchestrator" => replay_http(text).await.map(|(status, _)| status),
        "translate" => {
            let tool = translate::Translate::detect_only(&Budgets::from_lookup(|_| None).unwrap().translate);
            replay_tool(tool, text).await.map(|()| 200)
        }
        "guard" => {
            let guard = guard::Guard::local(&Budgets::from_lookup(|_| None).unwrap().guard).unwrap();
            replay_tool(guard, text).await.map(|()| 200)
        }
        "retrieve" => replay_tool(retrieve_over_sample().await, text).await.map(|()| 200),
        // Without a Tavily key the tool is disabled: a valid call is refused with the reason, never answered.
        "web-search" => replay_tool(web_search::WebSearch::disabled(), text).await.map(|()| 200),
        other => Err(format!("no function named {other}")),
    }
}

/// The plan the sample events' member belongs to (their `custom:plan_id` claim, their retrieve input's `plan_id`).
const EVENT_PLAN: &str = "scan-classic-hmo-2025";

/// A retrieve tool over an embedded store holding a small plan document of the events' member's plan.
async fn retrieve_over_sample() -> retrieve::Retrieve<HashingEmbedder, SqliteStore> {
    let dir = std::env::temp_dir().join(format!("navigator-events-{}", uuid::Uuid::new_v4()));
    let store = SqliteStore::open(&dir).await.unwrap();
    let plan = navigator_platform::owner::PlanId::parse(EVENT_PLAN).unwrap();
    ingest(
        &HashingEmbedder,
        &store,
        &navigator_platform::owner::Owner::Plan(plan),
        &sample_plan("events"),
        |_, _| {},
    )
    .await
    .unwrap();
    retrieve::Retrieve::new(Retriever::new(
        HashingEmbedder,
        store,
        Budgets::from_lookup(|_| None).unwrap().retrieve,
    ))
}

#[test]
fn every_event_file_has_an_expectation() {
    let listed: Vec<&str> = EXPECTATIONS.iter().map(|(file, _)| *file).collect();
    for file in all_event_files() {
        assert!(
            listed.contains(&file.as_str()),
            "events/{file} is replayed by no test: add it to EXPECTATIONS"
        );
    }
}

#[tokio::test]
async fn every_event_gives_its_expected_answer() {
    for (file, expect) in EXPECTATIONS {
        let text = std::fs::read_to_string(events_dir().join(file)).unwrap_or_else(|e| panic!("events/{file}: {e}"));
        let got = replay(file, &text).await;
        match expect {
            Expect::Http(status) => assert_eq!(got, Ok(*status), "events/{file}"),
            Expect::ToolOk => assert_eq!(got, Ok(200), "events/{file}"),
            Expect::ToolError(error_type) => {
                assert_eq!(got, Err(error_type.to_string()), "events/{file}")
            }
        }
    }
}

#[tokio::test]
async fn a_chat_event_is_answered_from_the_members_plan_with_page_citations() {
    for file in ["orchestrator/chat-apigw-v2.json", "orchestrator/chat-apigw-v1.json"] {
        let text = std::fs::read_to_string(events_dir().join(file)).unwrap();
        let (status, body) = replay_http(&text).await.unwrap();
        assert_eq!(status, 200, "{file}: {body}");
        assert_eq!(body["status"], "answered", "{file}: {body}");
        assert!(body["citations"][0]["page"].as_u64().is_some(), "{file}: {body}");
        assert_eq!(body["tools"][0]["name"], "retrieve");
    }
}
