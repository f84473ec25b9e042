//! What the orchestrator adds on top of its tools, printed as P50/P95/P99.
//!
//! `cargo bench -p navigator-tests --bench orchestrator` runs whole turns (guard, plan, a wave, extractive compose,
//! grounding, the response) over fake tools, and reports:
//! 1. tools that answer at once: the whole turn is orchestrator overhead;
//! 2. tools with fixed latencies (guard 5 ms, retrieve 40 ms, web 60 ms in one wave): the turn minus its critical
//!    path (5 + 60 ms) is the overhead;
//! 3. 32 turns at once over the zero-latency tools.
//!
//! Target: overhead P99 ≤ 2 ms beyond the critical path.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: a panic is a failed run

use navigator_platform::config::Budgets;
use navigator_platform::contracts::ToolName;
use navigator_resilience::Deadline;
use navigator_tests::print_percentiles;
use orchestrator::fakes::{FakeTools, sample_web_results};
use orchestrator::{ChatRequest, Navigator, TurnRequest};
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

const TURNS: usize = 2000;

fn navigator(tools: FakeTools) -> Arc<Navigator> {
    let budgets = Budgets::from_lookup(|_| None).unwrap();
    Arc::new(Navigator::offline(Arc::new(tools), &budgets))
}

fn request(message: &str) -> TurnRequest {
    TurnRequest {
        request_id: Uuid::new_v4().to_string(),
        readers: navigator_platform::owner::Readers::new(Uuid::from_u128(7), None),
        chat: ChatRequest {
            message: message.into(),
            language: Some("en".into()),
            ..ChatRequest::default()
        },
        deadline: Deadline::after(Duration::from_secs(3)),
    }
}

async fn turn(navigator: &Navigator, message: &str) -> Duration {
    let started = Instant::now();
    let answer = navigator.answer(request(message)).await.unwrap();
    assert!(!answer.answer.is_empty());
    started.elapsed()
}

#[tokio::main]
async fn main() {
    let plan_only = "What does a specialist visit cost?";
    let with_web = "How much is the standard Part B premium this year, and what does a specialist cost?";

    let instant = navigator(FakeTools::answering(Duration::ZERO).web(Duration::ZERO, sample_web_results()));
    for _ in 0..100 {
        turn(&instant, plan_only).await;
    }
    let mut samples = Vec::with_capacity(TURNS);
    for _ in 0..TURNS {
        samples.push(turn(&instant, plan_only).await);
    }
    print_percentiles("zero-latency tools, retrieval only: overhead", samples);
    let mut samples = Vec::with_capacity(TURNS);
    for _ in 0..TURNS {
        samples.push(turn(&instant, with_web).await);
    }
    print_percentiles("zero-latency tools, retrieval + web: overhead", samples);

    let timed = FakeTools::new()
        .guard(navigator_platform::contracts::Verdict::Allow, None)
        .with(
            ToolName::Guard,
            Duration::from_millis(5),
            Ok(serde_json::json!({"verdict": "allow", "text": "", "findings": [], "stages_ms": {}})),
        )
        .retrieve(Duration::from_millis(40), orchestrator::fakes::sample_chunks())
        .web(Duration::from_millis(60), sample_web_results());
    let timed = navigator(timed);
    // The critical path as tokio's 1 ms timer actually realises it: the same sleeps, with no orchestrator around.
    let mut paths = Vec::with_capacity(300);
    for _ in 0..300 {
        let started = Instant::now();
        tokio::time::sleep(Duration::from_millis(5)).await;
        tokio::join!(
            tokio::time::sleep(Duration::from_millis(40)),
            tokio::time::sleep(Duration::from_millis(60))
        );
        paths.push(started.elapsed());
    }
    paths.sort();
    let critical_path = paths[paths.len() / 2];
    println!(
        "critical path of the fake tools' sleeps (median): {:.3} ms",
        critical_path.as_secs_f64() * 1e3
    );
    let mut samples = Vec::with_capacity(300);
    for _ in 0..300 {
        samples.push(turn(&timed, with_web).await.saturating_sub(critical_path));
    }
    print_percentiles("guard 5 ms + wave(retrieve 40 ms, web 60 ms): beyond it", samples);

    let mut samples = Vec::with_capacity(TURNS);
    for _ in 0..TURNS / 32 {
        let batch = (0..32).map(|_| {
            let navigator = Arc::clone(&instant);
            tokio::spawn(async move { turn(&navigator, plan_only).await })
        });
        for handle in futures_util::future::join_all(batch).await {
            samples.push(handle.unwrap());
        }
    }
    print_percentiles("zero-latency tools, 32 turns at once: turn time", samples);
}
