//! The orchestrator binary as one execution environment of Lambda Managed Instances: the Lambda runtime client
//! (`run_concurrent`, `AWS_LAMBDA_MAX_CONCURRENCY=16`) takes 16 invocations at once from a local Runtime API, and the
//! tools answer through Lambda `Invoke` from the same local server (`navigator_load::runtime_api`). Reserved
//! concurrency bounds nothing inside one environment; the audit's in-process bound does: 2 × vCPU turns in flight
//! (4 on the 2 vCPUs given here), 8 waiting, 429 with `Retry-After` past that. Concurrent invocations must never
//! cross: each keeps its member, its deadline, its request id and trace id in its logs.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a panic is a failed test

use navigator_load::runtime_api::{Outcome, RuntimeApi, chat_event, start_environment};
use orchestrator::fakes::FakeTools;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The audit's bound for 2 vCPUs: IN_FLIGHT (2 × vCPU) and QUEUE_BOUND (2 × IN_FLIGHT).
const IN_FLIGHT: usize = 4;
const QUEUE_BOUND: usize = 8;

fn member(n: usize) -> String {
    format!("3f6c1a52-8d1e-4b7a-9c2f-{n:012}")
}

fn invocation_id(n: usize) -> String {
    format!("0b5e0000-0000-4000-8000-{n:012}")
}

async fn environment(
    tools: Arc<FakeTools>,
    concurrency: Option<usize>,
) -> (RuntimeApi, tokio::process::Child, PathBuf) {
    let api = RuntimeApi::start(tools).await.unwrap();
    let log = std::env::temp_dir().join(format!("navigator-mi-{}.log", uuid::Uuid::new_v4().simple()));
    let child = start_environment(
        Path::new(env!("CARGO_BIN_EXE_orchestrator")),
        api.address,
        concurrency,
        &log,
    )
    .unwrap();
    // The first invocation waits for the environment's init; it is not part of what is checked.
    let warm = api
        .invoke(
            &invocation_id(999_999),
            chat_event(&member(999_999), "hello"),
            Duration::from_secs(30),
        )
        .await
        .expect("the environment answers");
    assert!(warm.status().is_some(), "{warm:?}");
    (api, child, log)
}

#[tokio::test(flavor = "multi_thread")]
async fn sixteen_invocations_at_once_meet_the_in_process_bound_and_never_cross() {
    let tools = Arc::new(FakeTools::answering(Duration::from_millis(300)));
    let (api, _environment, log) = environment(Arc::clone(&tools), Some(16)).await;

    let started = Instant::now();
    let outcomes: Vec<(usize, Outcome, Duration)> = futures_util::future::join_all((0..16).map(|n| {
        let api = &api;
        async move {
            let outcome = api
                .invoke(
                    &invocation_id(n),
                    chat_event(&member(n), "What does a specialist visit cost?"),
                    Duration::from_secs(10),
                )
                .await
                .expect("every invocation is answered");
            (n, outcome, started.elapsed())
        }
    }))
    .await;

    let answered: Vec<_> = outcomes.iter().filter(|(_, o, _)| o.status() == Some(200)).collect();
    let refused: Vec<_> = outcomes.iter().filter(|(_, o, _)| o.status() == Some(429)).collect();
    assert_eq!(
        answered.len() + refused.len(),
        16,
        "only answers and 429s: {:?}",
        outcomes.iter().map(|(n, o, _)| (n, o.status())).collect::<Vec<_>>()
    );
    assert!(
        (IN_FLIGHT..=IN_FLIGHT + QUEUE_BOUND).contains(&answered.len()),
        "in flight and queued are served, no more: {}",
        answered.len()
    );
    for (n, outcome, at) in &refused {
        assert!(
            outcome.header("retry-after").is_some(),
            "invocation {n}: 429 without Retry-After"
        );
        assert!(
            *at < Duration::from_millis(300),
            "invocation {n}: refused at the door, not after work ({at:?})"
        );
    }

    // No cross-talk: every tool call of a turn carries that turn's member, and each turn is its own invocation.
    let turn_of: HashMap<String, usize> = answered
        .iter()
        .map(|(n, outcome, _)| (outcome.body()["request_id"].as_str().unwrap().to_string(), *n))
        .collect();
    assert_eq!(turn_of.len(), answered.len(), "one turn id per invocation");
    for (tool, request) in tools.counters.requests() {
        let Some(n) = turn_of.get(&request.request_id) else {
            continue; // the warm-up turn
        };
        if let Some(user) = request.input.get("user_id") {
            assert_eq!(
                user.as_str().unwrap(),
                member(*n),
                "{tool:?} of invocation {n} read another member"
            );
        }
    }
    // Each log line of a turn names that turn's invocation and trace, never another's.
    let logs = std::fs::read_to_string(&log).unwrap();
    let mut seen = HashSet::new();
    for line in logs.lines().filter_map(|line| serde_json::from_str::<Value>(line).ok()) {
        let (Some(turn), Some(invocation)) = (line["request_id"].as_str(), line["aws_request_id"].as_str()) else {
            continue;
        };
        if let Some(n) = turn_of.get(turn) {
            assert_eq!(
                invocation,
                invocation_id(*n),
                "a log line of turn {turn} names another invocation: {line}"
            );
            if let Some(trace) = line["trace_id"].as_str().filter(|t| !t.is_empty()) {
                assert!(
                    trace.contains(&invocation_id(*n).replace('-', "")),
                    "another invocation's trace: {line}"
                );
            }
            seen.insert(*n);
        }
    }
    assert_eq!(
        seen.len(),
        answered.len(),
        "every answered turn logged under its own invocation"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_invocations_keep_their_own_deadlines() {
    let tools = Arc::new(FakeTools::answering(Duration::from_millis(400)));
    let (api, _environment, _log) = environment(tools, Some(16)).await;
    let question = "What does a specialist visit cost?";
    let (first, second) = (invocation_id(1), invocation_id(2));
    let (short, long) = tokio::join!(
        api.invoke(&first, chat_event(&member(1), question), Duration::from_millis(200)),
        api.invoke(&second, chat_event(&member(2), question), Duration::from_secs(10)),
    );
    let (short, long) = (short.unwrap(), long.unwrap());
    assert_eq!(short.status(), Some(504), "the 200 ms invocation runs out: {short:?}");
    assert_eq!(
        long.status(),
        Some(200),
        "its neighbour's deadline is not its own: {long:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn classic_lambda_takes_one_invocation_at_a_time_and_refuses_none() {
    let tools = Arc::new(FakeTools::answering(Duration::from_millis(50)));
    let (api, _environment, _log) = environment(Arc::clone(&tools), None).await;
    let outcomes = futures_util::future::join_all((0..6).map(|n| {
        let api = &api;
        async move {
            api.invoke(
                &invocation_id(n),
                chat_event(&member(n), "What does a specialist visit cost?"),
                Duration::from_secs(10),
            )
            .await
            .unwrap()
        }
    }))
    .await;
    assert!(outcomes.iter().all(|o| o.status() == Some(200)), "{outcomes:?}");
    assert_eq!(
        tools.counters.peak(),
        1,
        "one turn's tool at a time: reserved concurrency is the bound"
    );
}
