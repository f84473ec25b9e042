//! `navigator serve`: the chat API on loopback, for one developer. The same router as on Lambda, behind the
//! admission bulkhead (429 past IN_FLIGHT + QUEUE_BOUND), with `/metrics` in Prometheus text. A local identity layer
//! stands in for API Gateway's authorizer and makes every request the demo member of the sample plan (or `--user`,
//! `--plan`); it lives here, in the CLI, so it is never compiled into a Lambda.

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::Response;
use axum::routing::get;
use navigator_platform::config::Budgets;
use navigator_platform::owner::Readers;
use navigator_platform::telemetry::install_metrics;
use navigator_resilience::CpuLoad;
use navigator_retrieval::document::isolated::ReaderProgram;
use orchestrator::{Admission, AppState, Identity, Navigator, admitted_router, http_metrics};
use std::net::SocketAddr;
use std::sync::Arc;

mod documents;

pub use documents::LocalDocuments;

pub async fn run(address: SocketAddr, readers: Readers) -> Result<(), String> {
    let (settings, tools, retriever) = super::in_process_tools_sharing_retrieval().await?;
    let reader = ReaderProgram::this_binary().map_err(|e| e.to_string())?;
    let documents = Arc::new(LocalDocuments::new(
        retriever,
        navigator_retrieval::setup::data_dir(),
        format!("http://{address}"),
        reader,
    ));
    let cpu = tools.cpu_load();
    let navigator = orchestrator::navigator(&settings, Arc::new(tools))
        .await
        .map_err(|e| e.to_string())?;
    let budgets = settings.budgets;
    budgets.log();
    let member = readers.member;
    let plan = readers
        .plan
        .as_ref()
        .map_or("no plan".to_string(), |p| format!("plan {p}"));
    let app = local_app(budgets, navigator, cpu, readers, Some(documents));
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|e| format!("cannot listen on {address}: {e}"))?;
    eprintln!(
        "navigator serve: http://{address}  (POST /v1/chat, GET /v1/health, /v1/documents, GET /metrics) as member {member} of {plan}"
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown())
        .await
        .map_err(|e| e.to_string())
}

/// The local server's routes: the chat API behind admission (the bulkhead, and the queues of the hosted tools' CPU
/// pools in `cpu`) and the local identity, plus `/metrics`; with `documents`, the member's documents over the local
/// store and the route that receives their uploads.
pub fn local_app(
    budgets: Budgets,
    navigator: Navigator,
    cpu: CpuLoad,
    readers: Readers,
    documents: Option<Arc<LocalDocuments>>,
) -> Router {
    install_metrics();
    let admission = Admission::for_budgets(&budgets.orchestrator).with_cpu(cpu, budgets.orchestrator.cpu_queue);
    let state = match &documents {
        Some(documents) => AppState {
            budgets,
            navigator,
            documents: Arc::clone(documents) as Arc<dyn orchestrator::Documents>,
        },
        None => AppState::chat_only(budgets, navigator),
    };
    let chat = admitted_router(Arc::new(state), Some(admission));
    let uploads = documents.map(LocalDocuments::upload_route).unwrap_or_default();
    Router::new()
        .route("/metrics", get(|| async { install_metrics().render_prometheus() }))
        .merge(uploads)
        .merge(chat)
        .layer(from_fn_with_state(
            Identity {
                user_id: readers.member,
                plan_id: readers.plan,
            },
            local_identity,
        ))
        .layer(from_fn(http_metrics))
}

async fn local_identity(State(identity): State<Identity>, mut request: Request, next: Next) -> Response {
    request.extensions_mut().insert(identity);
    next.run(request).await
}

async fn shutdown() {
    let _ = tokio::signal::ctrl_c().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::StatusCode;
    use navigator_platform::contracts::ToolName;
    use orchestrator::fakes::FakeTools;
    use std::time::Duration;
    use tower::ServiceExt;
    use uuid::Uuid;

    /// The local server over `tools`. Its CPU pools are not lowered: a lowered pool runs on threads of its own, which
    /// tokio's paused clock cannot see, so it would skip ahead while they work.
    fn app(tools: FakeTools, vcpus: &str) -> Router {
        let vcpus = vcpus.to_string();
        let budgets = Budgets::from_lookup(|name| match name {
            "NAVIGATOR_VCPUS" => Some(vcpus.clone()),
            "NAVIGATOR_CPU_NICENESS" => Some("0".to_string()),
            _ => None,
        })
        .unwrap();
        let navigator = Navigator::offline(Arc::new(tools), &budgets);
        let plan = navigator_platform::owner::PlanId::parse("plan-7").ok();
        local_app(
            budgets,
            navigator,
            CpuLoad::default(),
            Readers::new(Uuid::from_u128(7), plan),
            None,
        )
    }

    fn chat() -> Request {
        Request::post("/v1/chat")
            .body(Body::from(r#"{"message": "What does a specialist visit cost?"}"#))
            .unwrap()
    }

    #[tokio::test]
    async fn serves_the_chat_api_as_the_local_member_and_metrics() {
        let tools = FakeTools::answering(Duration::from_millis(1));
        let requests = Arc::clone(&tools.counters);
        let app = app(tools, "2");
        let health = app
            .clone()
            .oneshot(Request::get("/v1/health").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(health.status(), StatusCode::OK);
        // Signed in locally: a bad body is 400, not 401.
        let bad = app
            .clone()
            .oneshot(Request::post("/v1/chat").body(Body::from("{")).unwrap())
            .await
            .unwrap();
        assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
        let answered = app.clone().oneshot(chat()).await.unwrap();
        assert_eq!(answered.status(), StatusCode::OK);
        let retrieve = requests
            .requests()
            .into_iter()
            .find(|(tool, _)| *tool == ToolName::Retrieve)
            .unwrap()
            .1;
        assert_eq!(
            retrieve.input["user_id"],
            Uuid::from_u128(7).to_string(),
            "the local member"
        );
        assert_eq!(retrieve.input["plan_id"], "plan-7", "the local member's plan");
        assert_eq!(
            retrieve.plan_id.as_ref().map(|p| p.as_str()),
            Some("plan-7"),
            "vouched for by the envelope"
        );
        let metrics = app
            .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(metrics.status(), StatusCode::OK);
        let text = String::from_utf8(
            axum::body::to_bytes(metrics.into_body(), usize::MAX)
                .await
                .unwrap()
                .to_vec(),
        )
        .unwrap();
        for metric in [
            "navigator_bulkhead_admitted_total",
            "navigator_chat_turns_total",
            "navigator_chat_stage_duration_seconds_bucket",
            "navigator_tool_calls_total",
            "navigator_http_requests_total",
            "process_resident_memory_bytes",
        ] {
            assert!(text.contains(metric), "{metric} missing: {text}");
        }
        assert!(
            text.contains(r#"navigator_http_requests_total{route="/v1/chat",method="POST",status="200"} 1"#),
            "{text}"
        );
        // Prometheus conventions: a HELP line before every TYPE line.
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if let Some(name) = line.strip_prefix("# TYPE ").and_then(|rest| rest.split(' ').next()) {
                assert!(
                    i > 0 && lines[i - 1].starts_with(&format!("# HELP {name} ")),
                    "{name} has no help text"
                );
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_hundred_at_once_on_slow_tools_get_429_fast_and_none_hangs() {
        // 1 vCPU: IN_FLIGHT 2, QUEUE_BOUND 4. Tools take 500 ms.
        let app = app(FakeTools::answering(Duration::from_millis(500)), "1");
        let replies = orchestrator::fakes::send_at_once(&app, (0..100).map(|_| chat())).await;
        let ok = replies.iter().filter(|(s, _, _)| *s == StatusCode::OK).count();
        let rejected: Vec<_> = replies
            .iter()
            .filter(|(s, _, _)| *s == StatusCode::TOO_MANY_REQUESTS)
            .collect();
        assert_eq!(ok + rejected.len(), 100, "only answers and 429s: {replies:?}");
        assert!((2..=6).contains(&ok), "at most in-flight + queue were served: {ok}");
        assert!(
            rejected.iter().all(|(_, retry_after, _)| *retry_after),
            "every 429 says when to retry"
        );
        let instant = rejected.iter().filter(|(_, _, at)| at.is_zero()).count();
        assert!(instant >= 94, "past the queue, 429 comes at once: {instant}");
        let slowest = replies.iter().map(|(_, _, at)| *at).max().unwrap();
        assert!(
            slowest <= Duration::from_secs(3),
            "none waits past the turn budget: {slowest:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_health_check_is_answered_while_turns_fill_admission() {
        // 1 vCPU: IN_FLIGHT 2, QUEUE_BOUND 4; 20 turns on 500 ms tools fill both, then come 5 health checks.
        let app = app(FakeTools::answering(Duration::from_millis(500)), "1");
        let health = || Request::get("/v1/health").body(Body::empty()).unwrap();
        let requests = (0..20).map(|_| chat()).chain((0..5).map(|_| health()));
        let replies = orchestrator::fakes::send_at_once(&app, requests).await;
        let (turns, checks) = replies.split_at(20);
        assert!(
            turns.iter().any(|(s, _, _)| *s == StatusCode::TOO_MANY_REQUESTS),
            "admission was full: {turns:?}"
        );
        assert!(
            checks.iter().all(|(s, _, at)| *s == StatusCode::OK && at.is_zero()),
            "health is answered at once, not refused or queued: {checks:?}"
        );
    }
}
