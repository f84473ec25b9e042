//! Translation latency on this machine, printed as P50/P99.
//!
//! `cargo bench -p navigator-tests --bench translate` measures:
//! 1. language detection over the repository's 210-question set (shared/language/data/detection-set.jsonl);
//! 2. the router's own overhead: whole calls (protection, breaker, restore, cache off) through a provider that
//!    answers at once, so everything measured is the router's.
//!
//! Targets: detection P99 ≤ 1 ms; router overhead P99 ≤ 1 ms beyond the provider's own latency.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: a panic is a failed run

use futures_util::future::BoxFuture;
use navigator_resilience::{BreakerConfig, Deadline, TokioClock};
use navigator_tests::print_percentiles;
use std::sync::Arc;
use std::time::{Duration, Instant};
use translate::providers::glossary::GlossaryTranslator;
use translate::providers::{Provider, ProviderFailure};
use translate::router::Router;

struct Echo;

impl Provider for Echo {
    fn name(&self) -> &'static str {
        "instant"
    }

    fn supports(&self, _source: &str, _target: &str) -> bool {
        true
    }

    fn translate<'a>(
        &'a self,
        html: &'a str,
        _source: &'a str,
        _target: &'a str,
        _deadline: Deadline,
    ) -> BoxFuture<'a, Result<String, ProviderFailure>> {
        Box::pin(async move { Ok(html.to_string()) })
    }
}

#[derive(serde::Deserialize)]
struct Item {
    text: String,
}

#[tokio::main]
async fn main() {
    let set = include_str!("../../shared/language/data/detection-set.jsonl");
    let texts: Vec<String> = set
        .lines()
        .map(|l| serde_json::from_str::<Item>(l).unwrap().text)
        .collect();
    let mut samples = Vec::new();
    for _ in 0..10 {
        for text in &texts {
            let started = Instant::now();
            std::hint::black_box(translate::detect::detect(text));
            samples.push(started.elapsed());
        }
    }
    print_percentiles("detection, 210 questions × 10", samples);

    let router = Router::new(vec![Arc::new(Echo)], BreakerConfig::default(), Arc::new(TokioClock));
    let answer = "Your SCAN Classic copay is $20 [SSN] per visit. Call (510) 555-0147 or see https://www.medicare.gov \
                  for the Part B premium. Prior authorization may apply to some services in your plan.";
    let mut samples = Vec::new();
    for _ in 0..2000 {
        let started = Instant::now();
        let (text, _) = router
            .translate(answer, "en", "es", Deadline::after(Duration::from_millis(800)))
            .await
            .unwrap();
        samples.push(started.elapsed());
        assert_eq!(text, answer);
    }
    print_percentiles("router overhead (instant provider, 5 protected spans)", samples);

    // The offline default: every Spanish question of the detection set into English through the glossary.
    let glossary = Router::new(
        vec![Arc::new(GlossaryTranslator)],
        BreakerConfig::default(),
        Arc::new(TokioClock),
    );
    let spanish: Vec<&String> = texts
        .iter()
        .filter(|t| translate::detect::detect(t).language == "es")
        .collect();
    let mut samples = Vec::new();
    for _ in 0..20 {
        for text in &spanish {
            let started = Instant::now();
            let translated = glossary
                .translate(text, "es", "en", Deadline::after(Duration::from_millis(800)))
                .await
                .unwrap();
            samples.push(started.elapsed());
            std::hint::black_box(translated);
        }
    }
    print_percentiles(&format!("glossary es→en ({} questions × 20)", spanish.len()), samples);
}
