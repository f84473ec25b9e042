//! Fake tools with set latencies and results, for tests and benchmarks of the turn. They speak the wire form, so
//! the turn cannot tell them from the real adapters. Compiled for tests and with the `fakes` feature only.

use futures_util::future::BoxFuture;
use navigator_platform::NavigatorError;
use navigator_platform::contracts::{
    BlockCategory, ChunkHit, GuardOutput, RetrieveOutput, RetrieveTimings, ToolName, TranslateOutput, Verdict,
    WebResult, WebSearchOutput,
};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use uuid::Uuid;

use crate::tools::{ToolInvoker, WireRequest};

/// How a fake tool answers.
#[derive(Debug, Clone)]
pub struct Behaviour {
    pub latency: Duration,
    pub result: Result<serde_json::Value, NavigatorError>,
}

/// Counts of what reached the fakes.
#[derive(Debug, Default)]
pub struct Counters {
    calls: Mutex<HashMap<ToolName, usize>>,
    requests: Mutex<Vec<(ToolName, WireRequest)>>,
    live: AtomicUsize,
    peak: AtomicUsize,
}

type Mutex<T> = std::sync::Mutex<T>;

impl Counters {
    pub fn calls(&self, tool: ToolName) -> usize {
        self.calls
            .lock()
            .map(|calls| calls.get(&tool).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    pub fn total_calls(&self) -> usize {
        self.calls.lock().map(|calls| calls.values().sum()).unwrap_or(0)
    }

    /// Calls started and not yet finished or dropped.
    pub fn live(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }

    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    /// Every envelope received, in order.
    pub fn requests(&self) -> Vec<(ToolName, WireRequest)> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

struct Alive(Arc<Counters>);

impl Drop for Alive {
    fn drop(&mut self) {
        self.0.live.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A set of fake tools. A tool without a behaviour is not provided.
#[derive(Clone, Default)]
pub struct FakeTools {
    behaviours: HashMap<ToolName, Behaviour>,
    /// What retrieve answers for a section read, by the section's text form.
    sections: HashMap<String, serde_json::Value>,
    pub counters: Arc<Counters>,
}

impl FakeTools {
    pub fn new() -> Self {
        Self::default()
    }

    /// Guard allowing everything, and retrieve answering [`sample_chunks`] after `latency`.
    pub fn answering(latency: Duration) -> Self {
        Self::new()
            .guard(Verdict::Allow, None)
            .retrieve(latency, sample_chunks())
    }

    pub fn with(
        mut self,
        tool: ToolName,
        latency: Duration,
        result: Result<serde_json::Value, NavigatorError>,
    ) -> Self {
        self.behaviours.insert(tool, Behaviour { latency, result });
        self
    }

    pub fn without(mut self, tool: ToolName) -> Self {
        self.behaviours.remove(&tool);
        self
    }

    pub fn retrieve(self, latency: Duration, chunks: Vec<ChunkHit>) -> Self {
        self.with(ToolName::Retrieve, latency, Ok(retrieved(chunks)))
    }

    /// Retrieve answers a read of `section` ("Chapter 3, Section 2.4") with `chunks`, and any other call as before.
    pub fn section(mut self, section: &str, chunks: Vec<ChunkHit>) -> Self {
        self.sections.insert(section.to_string(), retrieved(chunks));
        self
    }

    pub fn web(self, latency: Duration, results: Vec<WebResult>) -> Self {
        self.with(ToolName::WebSearch, latency, Ok(to_value(WebSearchOutput { results })))
    }

    pub fn failing(self, tool: ToolName, latency: Duration, error: NavigatorError) -> Self {
        self.with(tool, latency, Err(error))
    }

    pub fn guard(self, verdict: Verdict, category: Option<BlockCategory>) -> Self {
        let output = GuardOutput {
            verdict,
            category,
            text: String::new(),
            findings: Vec::new(),
            stages_ms: serde_json::Map::new(),
            refusal: None,
            degraded: false,
        };
        self.with(ToolName::Guard, Duration::ZERO, Ok(to_value(output)))
    }

    /// A translator that "translates" by tagging the text, reporting `language` as the source.
    pub fn translator(self, language: &str) -> Self {
        self.translator_named(language, "fake")
    }

    /// The same translator, reporting itself as `provider`.
    pub fn translator_named(self, language: &str, provider: &str) -> Self {
        let output = TranslateOutput {
            text: String::new(),
            source_lang: language.into(),
            target_lang: String::new(),
            detected_confidence: 0.99,
            provider: provider.into(),
            translated: true,
        };
        self.with(ToolName::Translate, Duration::ZERO, Ok(to_value(output)))
    }
}

/// The retrieve tool's output holding `chunks`, on the wire.
fn retrieved(chunks: Vec<ChunkHit>) -> serde_json::Value {
    to_value(RetrieveOutput {
        chunks,
        best_similarity: None,
        timings_ms: RetrieveTimings::default(),
    })
}

fn to_value<T: serde::Serialize>(value: T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

impl ToolInvoker for FakeTools {
    fn provides(&self, tool: ToolName) -> bool {
        self.behaviours.contains_key(&tool)
    }

    fn invoke(&self, tool: ToolName, request: WireRequest) -> BoxFuture<'_, Result<serde_json::Value, NavigatorError>> {
        let counters = Arc::clone(&self.counters);
        if let Ok(mut calls) = counters.calls.lock() {
            *calls.entry(tool).or_default() += 1;
        }
        if let Ok(mut requests) = counters.requests.lock() {
            requests.push((tool, request.clone()));
        }
        let mut behaviour = self.behaviours.get(&tool).cloned();
        let section = request.input.get("section").and_then(|s| s.as_str());
        if let (Some(behaviour), Some(output)) = (behaviour.as_mut(), section.and_then(|s| self.sections.get(s))) {
            behaviour.result = Ok(output.clone());
        }
        Box::pin(async move {
            let now = counters.live.fetch_add(1, Ordering::SeqCst) + 1;
            counters.peak.fetch_max(now, Ordering::SeqCst);
            let _alive = Alive(Arc::clone(&counters));
            let Some(behaviour) = behaviour else {
                return Err(NavigatorError::rejected(format!("{tool} is not configured"), None));
            };
            // tokio's timer rounds a zero sleep up to its 1 ms tick; an instant tool must not pay it.
            if !behaviour.latency.is_zero() {
                tokio::time::sleep(behaviour.latency).await;
            }
            let mut output = behaviour.result?;
            echo_text(tool, &request, &mut output);
            Ok(output)
        })
    }
}

/// Guard and translate answer about the text they were sent: the guard returns it (as if nothing needed redacting)
/// and the translator tags it, unless it reports the question as English.
fn echo_text(tool: ToolName, request: &WireRequest, output: &mut serde_json::Value) {
    let text = request.input.get("text").and_then(|t| t.as_str()).unwrap_or_default();
    match tool {
        ToolName::Guard if output["text"].as_str() == Some("") => output["text"] = text.into(),
        // A question found written in English comes back as it is.
        ToolName::Translate if output["source_lang"] == "en" && request.input["target_lang"] == "en" => {
            output["text"] = text.into();
            output["target_lang"] = request.input["target_lang"].clone();
            output["translated"] = false.into();
        }
        ToolName::Translate => {
            let target = request.input.get("target_lang").cloned().unwrap_or_default();
            output["text"] = format!("[{}] {text}", target.as_str().unwrap_or_default()).into();
            output["target_lang"] = target;
        }
        _ => {}
    }
}

/// Three chunks of a benefits chart: enough for the extractive composer to answer cost questions.
pub fn sample_chunks() -> Vec<ChunkHit> {
    let chunk = |n: u128, page: u32, text: &str, score: f32| ChunkHit {
        chunk_id: Uuid::from_u128(n),
        document_id: Uuid::from_u128(1000),
        title: "Sample Plan Evidence of Coverage".into(),
        page,
        section: "Chapter 4".into(),
        text: text.into(),
        score,
        similarity: None,
        units: Vec::new(),
        piece_matches: Vec::new(),
    };
    vec![
        chunk(
            1,
            92,
            "Physician services\nPrimary care visit\n$0 copayment for each\noffice visit.\nSpecialist visit\n$20 copayment for each\noffice visit.",
            1.6,
        ),
        chunk(
            2,
            71,
            "Emergency care\nYou pay a $90 copayment for each\nemergency room visit.",
            1.3,
        ),
        chunk(3, 12, "You do not pay a separate monthly plan premium.", 1.2),
    ]
}

/// A web result about the Part B premium.
pub fn sample_web_results() -> Vec<WebResult> {
    vec![WebResult {
        title: "Medicare costs".into(),
        url: "https://www.medicare.gov/basics/costs/medicare-costs".into(),
        snippet: "The standard Part B premium amount in 2025 is $185.00.".into(),
        score: 0.9,
    }]
}

/// One reply to a request sent together with others: its status, whether it says when to retry, and how long after
/// they were all sent it came (on tokio's clock, so paused-clock tests read exact times).
pub type AtOnceReply = (axum::http::StatusCode, bool, Duration);

/// Sends every request to `app` at the same moment: how admission tests load a router.
pub async fn send_at_once(
    app: &axum::Router,
    requests: impl IntoIterator<Item = axum::extract::Request>,
) -> Vec<AtOnceReply> {
    use lambda_http::tower::ServiceExt;
    let started = tokio::time::Instant::now();
    futures_util::future::join_all(requests.into_iter().map(|request| {
        let app = app.clone();
        async move {
            let response = match app.oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            let retry_after = response.headers().contains_key("retry-after");
            (response.status(), retry_after, started.elapsed())
        }
    }))
    .await
}
