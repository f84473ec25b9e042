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
use navigator_tests::events::{EVENTS_BUCKET, EXPECTATIONS, Expect, all_event_files, events_dir, put_event_objects};
use navigator_tests::{HashingEmbedder, sample_plan};
use orchestrator::{AppState, InProcess, Navigator};
use std::sync::Arc;
use tower::ServiceExt;

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
        "ingest" => replay_ingest(text).await.map(|_| 200),
        "migrate" => Ok(200),
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

/// The ingest function over an embedded store and the local S3 (`NAVIGATOR_TEST_S3_ENDPOINT`), with the bucket the
/// events name holding a small file at each key they name.
async fn replay_ingest(text: &str) -> Result<serde_json::Value, String> {
    let s3 = navigator_tests::local_s3();
    let bucket = EVENTS_BUCKET;
    put_event_objects(&s3).await;
    let dir = std::env::temp_dir().join(format!("navigator-events-{}", uuid::Uuid::new_v4()));
    let store = SqliteStore::open(&dir).await.unwrap();
    let retriever = Retriever::new(HashingEmbedder, store, Budgets::from_lookup(|_| None).unwrap().retrieve);
    let reader = navigator_tests::upload_reader();
    let ingest = ingest::Ingest::new(
        retriever,
        ingest::bucket::UploadsBucket::new(s3, bucket),
        reader,
        navigator_retrieval::document::upload::UploadLimits::default(),
    );
    let payload: serde_json::Value = serde_json::from_str(text).unwrap();
    let mut context = Context::default();
    context.request_id = "replay".into();
    ingest::lambda::handle(&ingest, LambdaEvent::new(payload, context))
        .await
        .map_err(|d| d.error_type)
}

/// Not a test: the entry point of the upload reader children the ingest replays start (this binary, run with
/// `--exact` on this name). Run without the reader's environment, it returns at once.
#[test]
fn upload_reader_entry() {
    navigator_retrieval::document::isolated::serve_if_asked();
}

/// The migrate function on a CloudFormation request, against a migrated-from-empty database, with the request's
/// `ResponseURL` pointed at a local server: the answer it sent.
async fn replay_migrate(text: &str) -> serde_json::Value {
    use axum::routing::put;
    let answers: Arc<std::sync::Mutex<Vec<serde_json::Value>>> = Arc::default();
    let recorder = Arc::clone(&answers);
    let app = axum::Router::new().route(
        "/response",
        put(move |body: axum::body::Bytes| async move {
            recorder.lock().unwrap().push(serde_json::from_slice(&body).unwrap());
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let mut payload: serde_json::Value = serde_json::from_str(text).unwrap();
    payload["ResponseURL"] = serde_json::json!(format!("http://{address}/response"));
    let database = navigator_tests::TestDatabase::empty().await;
    let pool = database.pool(1).await;
    let migrations = || async {
        navigator_retrieval::db::MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| navigator_platform::NavigatorError::unavailable("postgres", e))?;
        Ok("3".to_string())
    };
    let deadline = navigator_resilience::Deadline::after(std::time::Duration::from_secs(60));
    migrate::handle(&reqwest::Client::new(), payload, deadline, migrations)
        .await
        .unwrap();
    let sent = answers.lock().unwrap().clone();
    assert_eq!(sent.len(), 1, "one answer a request");
    sent[0].clone()
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
            Expect::Upload(status) => {
                let records = replay_ingest(&text)
                    .await
                    .unwrap_or_else(|e| panic!("events/{file}: {e}"));
                assert_eq!(records["records"][0]["status"], *status, "events/{file}: {records}");
            }
            Expect::CustomResource(status) => {
                let answer = replay_migrate(&text).await;
                assert_eq!(answer["Status"], *status, "events/{file}: {answer}");
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
