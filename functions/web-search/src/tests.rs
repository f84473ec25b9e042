//! The tool against a local server speaking Tavily's API, with faults injected; the breaker on a manual clock.

use super::*;
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use navigator_platform::config::Budgets;
use navigator_resilience::ManualClock;
use serde_json::{Value, json};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Ok,
    Slow(u64),
    ServerError,
    RateLimited,
    BadRequest,
    Malformed,
    Huge,
}

#[derive(Clone)]
struct FakeTavily {
    mode: Arc<Mutex<Mode>>,
    requests: Arc<AtomicUsize>,
    live: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
    bodies: Arc<Mutex<Vec<(String, Value)>>>,
}

impl FakeTavily {
    fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

async fn search(State(fake): State<FakeTavily>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    fake.requests.fetch_add(1, Ordering::SeqCst);
    let now = fake.live.fetch_add(1, Ordering::SeqCst) + 1;
    fake.peak.fetch_max(now, Ordering::SeqCst);
    let auth = headers
        .get("authorization")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    fake.bodies.lock().unwrap().push((auth, body.clone()));
    let mode = *fake.mode.lock().unwrap();
    let response = match mode {
        Mode::Ok | Mode::Slow(_) => {
            if let Mode::Slow(ms) = mode {
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            Json(json!({
                "query": body["query"], "answer": null, "response_time": 0.42, "images": [],
                "results": [
                    {"title": "Medicare costs", "url": "https://www.medicare.gov/basics/costs",
                     "content": "<p>The standard Part B premium in 2025 is $185.00.</p><script>x()</script>", "score": 0.62},
                    {"title": "Premiums blog", "url": "https://blog.example.com/premiums",
                     "content": "Premiums explained.", "score": 0.81},
                    {"title": "Medicare costs (dup)", "url": "https://medicare.gov/basics/costs/",
                     "content": "duplicate", "score": 0.5}
                ]
            }))
            .into_response()
        }
        Mode::ServerError => (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response(),
        Mode::RateLimited => (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "7")], "slow down").into_response(),
        Mode::BadRequest => (StatusCode::BAD_REQUEST, Json(json!({"detail": {"error": "bad query"}}))).into_response(),
        Mode::Malformed => (StatusCode::OK, "{\"results\": [ {\"title\": ").into_response(),
        Mode::Huge => (StatusCode::OK, "x".repeat(tavily::MAX_BODY_BYTES + 1)).into_response(),
    };
    fake.live.fetch_sub(1, Ordering::SeqCst);
    response
}

async fn serve() -> (String, FakeTavily) {
    let fake = FakeTavily {
        mode: Arc::new(Mutex::new(Mode::Ok)),
        requests: Arc::default(),
        live: Arc::default(),
        peak: Arc::default(),
        bodies: Arc::default(),
    };
    let app = Router::new().route("/search", post(search)).with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, fake)
}

fn budgets() -> WebSearchBudgets {
    Budgets::from_lookup(|_| None).unwrap().web_search
}

fn tool(url: &str, budgets: &WebSearchBudgets, clock: &ManualClock) -> WebSearch {
    let tavily = Tavily::new(
        reqwest::Client::new(),
        url,
        navigator_platform::secrets::SecretString::new("tvly-test"),
        budgets.search,
        budgets.parse,
    );
    let policy = DomainPolicy {
        boost: vec!["medicare.gov".into()],
        allow: Vec::new(),
    };
    WebSearch::new(tavily, budgets, policy, Arc::new(clock.clone()))
}

fn input(query: &str) -> WebSearchInput {
    WebSearchInput {
        query: query.into(),
        max_results: Some(5),
    }
}

fn deadline() -> Deadline {
    Deadline::after(Duration::from_secs(5))
}

const QUERY: &str = "standard Medicare Part B premium 2025";

#[tokio::test]
async fn a_search_speaks_tavilys_format_and_returns_clean_results() {
    let (url, fake) = serve().await;
    let tool = tool(&url, &budgets(), &ManualClock::new());
    let output = tool.search(&input(QUERY), deadline()).await.unwrap();
    let urls: Vec<&str> = output.results.iter().map(|r| r.url.as_str()).collect();
    assert_eq!(
        urls,
        vec![
            "https://www.medicare.gov/basics/costs",
            "https://blog.example.com/premiums"
        ]
    );
    assert_eq!(
        output.results[0].snippet,
        "The standard Part B premium in 2025 is $185.00."
    );
    let (auth, body) = fake.bodies.lock().unwrap()[0].clone();
    assert_eq!(auth, "Bearer tvly-test");
    assert_eq!(body["query"], QUERY);
    assert_eq!(body["search_depth"], "basic");
    assert_eq!(body["max_results"], 5);
    assert_eq!(body["include_answer"], false);
}

#[tokio::test]
async fn five_failures_open_the_breaker_and_then_no_call_goes_out() {
    let (url, fake) = serve().await;
    let tool = tool(&url, &budgets(), &ManualClock::new());
    fake.set(Mode::ServerError);
    for _ in 0..5 {
        let error = tool.search(&input(QUERY), deadline()).await.unwrap_err();
        assert_eq!(error.error_type(), "DependencyUnavailable");
    }
    assert_eq!(tool.breaker_state(), Some(BreakerState::Open));
    fake.set(Mode::Ok);
    for _ in 0..10 {
        let error = tool.search(&input(QUERY), deadline()).await.unwrap_err();
        assert!(
            matches!(
                error,
                NavigatorError::Rejected {
                    retry_after: Some(_),
                    ..
                }
            ),
            "{error:?}"
        );
    }
    assert_eq!(fake.requests(), 5, "an open breaker makes no network call");
}

#[tokio::test]
async fn after_the_recovery_time_exactly_three_probes_go_out_and_success_closes() {
    let (url, fake) = serve().await;
    let clock = ManualClock::new();
    let tool = tool(&url, &budgets(), &clock);
    fake.set(Mode::ServerError);
    for _ in 0..5 {
        let _ = tool.search(&input(QUERY), deadline()).await;
    }
    clock.advance(Duration::from_secs(29));
    assert!(tool.search(&input(QUERY), deadline()).await.is_err());
    assert_eq!(fake.requests(), 5, "still open at 29 s");
    clock.advance(Duration::from_secs(1));
    fake.set(Mode::Slow(100));
    let calls = (0..6).map(|_| async { tool.search(&input(QUERY), deadline()).await });
    let outcomes = futures_util::future::join_all(calls).await;
    assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 3);
    assert_eq!(fake.requests(), 5 + 3, "exactly three probes");
    assert_eq!(tool.breaker_state(), Some(BreakerState::Closed));
    assert!(tool.search(&input(QUERY), deadline()).await.is_ok());
}

#[tokio::test]
async fn a_failed_probe_reopens_the_breaker() {
    let (url, fake) = serve().await;
    let clock = ManualClock::new();
    let tool = tool(&url, &budgets(), &clock);
    fake.set(Mode::ServerError);
    for _ in 0..5 {
        let _ = tool.search(&input(QUERY), deadline()).await;
    }
    clock.advance(Duration::from_secs(30));
    assert!(tool.search(&input(QUERY), deadline()).await.is_err());
    assert_eq!(fake.requests(), 6, "one probe went out");
    assert_eq!(tool.breaker_state(), Some(BreakerState::Open));
    fake.set(Mode::Ok);
    assert!(tool.search(&input(QUERY), deadline()).await.is_err());
    assert_eq!(fake.requests(), 6, "reopened: no call");
}

#[tokio::test]
async fn rate_limits_carry_retry_after_and_count_as_failures() {
    let (url, fake) = serve().await;
    let tool = tool(&url, &budgets(), &ManualClock::new());
    fake.set(Mode::RateLimited);
    let error = tool.search(&input(QUERY), deadline()).await.unwrap_err();
    assert!(
        matches!(error, NavigatorError::Rejected { retry_after: Some(after), .. } if after == Duration::from_secs(7)),
        "{error:?}"
    );
    for _ in 0..4 {
        let _ = tool.search(&input(QUERY), deadline()).await;
    }
    assert_eq!(tool.breaker_state(), Some(BreakerState::Open));
}

#[tokio::test]
async fn a_bad_request_is_invalid_input_and_does_not_trip_the_breaker() {
    let (url, fake) = serve().await;
    let tool = tool(&url, &budgets(), &ManualClock::new());
    fake.set(Mode::BadRequest);
    for _ in 0..8 {
        let error = tool.search(&input(QUERY), deadline()).await.unwrap_err();
        assert_eq!(error.error_type(), "InvalidInput");
    }
    assert_eq!(tool.breaker_state(), Some(BreakerState::Closed));
}

#[tokio::test]
async fn malformed_and_huge_bodies_are_errors_not_empty_results() {
    let (url, fake) = serve().await;
    let tool = tool(&url, &budgets(), &ManualClock::new());
    fake.set(Mode::Malformed);
    let error = tool.search(&input(QUERY), deadline()).await.unwrap_err();
    assert_eq!(error.error_type(), "DependencyUnavailable", "{error:?}");
    fake.set(Mode::Huge);
    let error = tool.search(&input(QUERY), deadline()).await.unwrap_err();
    assert_eq!(error.error_type(), "DependencyUnavailable", "{error:?}");
}

#[tokio::test]
async fn a_slow_search_times_out_at_its_budget() {
    let (url, fake) = serve().await;
    let mut budgets = budgets();
    budgets.search = Duration::from_millis(100);
    let tool = tool(&url, &budgets, &ManualClock::new());
    fake.set(Mode::Slow(2_000));
    let started = std::time::Instant::now();
    let error = tool.search(&input(QUERY), deadline()).await.unwrap_err();
    assert_eq!(error.error_type(), "Timeout");
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn a_reset_connection_is_a_failure() {
    // A server that accepts and hangs up at once.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            drop(socket);
        }
    });
    let tool = tool(&url, &budgets(), &ManualClock::new());
    for _ in 0..5 {
        let error = tool.search(&input(QUERY), deadline()).await.unwrap_err();
        assert_eq!(error.error_type(), "DependencyUnavailable");
    }
    assert_eq!(tool.breaker_state(), Some(BreakerState::Open));
}

#[tokio::test]
async fn personal_data_never_reaches_the_server() {
    let (url, fake) = serve().await;
    let tool = tool(&url, &budgets(), &ManualClock::new());
    let values = [
        "499-64-2995",
        "3AN2-Y71-QK79",
        "(510) 555-0147",
        "maria.flores62@example.com",
        "04/17/1951",
    ];
    for value in values {
        let error = tool
            .search(&input(&format!("Part B premium for {value}")), deadline())
            .await
            .unwrap_err();
        assert_eq!(error.error_type(), "InvalidInput");
    }
    assert_eq!(fake.requests(), 0);
    tool.search(&input("what is my Part B premium with [MBI]"), deadline())
        .await
        .unwrap();
    let (_, body) = fake.bodies.lock().unwrap()[0].clone();
    assert_eq!(body["query"], "what is Part B premium with");
    for (_, body) in fake.bodies.lock().unwrap().iter() {
        let sent = body.to_string();
        assert!(values.iter().all(|v| !sent.contains(v)), "{sent}");
    }
}

#[tokio::test]
async fn a_hundred_calls_at_once_never_exceed_the_bulkhead_at_the_server() {
    let (url, fake) = serve().await;
    let mut budgets = budgets();
    budgets.max_concurrent = 12;
    budgets.queue_bound = 200;
    let tool = tool(&url, &budgets, &ManualClock::new());
    fake.set(Mode::Slow(30));
    let calls = (0..100).map(|_| async { tool.search(&input(QUERY), deadline()).await });
    let outcomes = futures_util::future::join_all(calls).await;
    assert!(outcomes.iter().all(Result::is_ok));
    assert_eq!(fake.requests(), 100);
    assert!(
        fake.peak.load(Ordering::SeqCst) <= 12,
        "peak {}",
        fake.peak.load(Ordering::SeqCst)
    );
}

#[tokio::test]
async fn past_its_queue_the_bulkhead_rejects_at_once() {
    let (url, fake) = serve().await;
    let mut budgets = budgets();
    budgets.max_concurrent = 2;
    budgets.queue_bound = 2;
    let tool = tool(&url, &budgets, &ManualClock::new());
    fake.set(Mode::Slow(200));
    let calls = (0..10).map(|_| async { tool.search(&input(QUERY), deadline()).await });
    let outcomes = futures_util::future::join_all(calls).await;
    let rejected = outcomes
        .iter()
        .filter(|o| matches!(o, Err(NavigatorError::Rejected { .. })))
        .count();
    assert_eq!(rejected, 6);
    assert_eq!(fake.requests(), 4);
}

#[tokio::test]
async fn without_a_key_the_tool_is_disabled_and_invents_nothing() {
    let error = WebSearch::disabled()
        .search(&input(QUERY), deadline())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, NavigatorError::Rejected { reason, .. } if reason.contains("disabled")),
        "{error:?}"
    );
}
