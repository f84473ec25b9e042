//! Ingest throughput with a remote embedder, per number of embedding calls in flight.
//!
//! `cargo bench -p navigator-tests --bench ingest` ingests the 232-page sample plan into a fresh SQLite store, once
//! per value of `EMBEDDINGS_CALLS_IN_FLIGHT` (1, 2, 4, 8, 16), through each remote adapter against a local server
//! speaking its provider's API:
//! - `OpenAiEmbedder`, one call a batch (32 chunks and their new sentences, some 200 texts), against the load
//!   harness's fake `/v1/embeddings`, which answers after a latency drawn from `NAVIGATOR_BENCH_EMBED_MS` (default
//!   `200-600`);
//! - `BedrockEmbedder`, Titan's one text a call (4 at once for each batch), against a fake `InvokeModel` answering
//!   after `NAVIGATOR_BENCH_TITAN_MS` (default `50-150`).
//!
//! What the figures show is how far overlapping round trips carries an ingest before the local work (extraction,
//! chunking, storing) or the provider's rate limit takes over.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: a panic is a failed run

use aws_sdk_bedrockruntime::config::{BehaviorVersion, Credentials, Region};
use navigator_load::fakes::{Fault, FaultBoard};
use navigator_platform::owner::Owner;
use navigator_retrieval::document::SourceDocument;
use navigator_retrieval::embed::{BedrockEmbedder, Embedder, OpenAiEmbedder};
use navigator_retrieval::setup::{SAMPLE_PLAN, demo_plan};
use navigator_retrieval::store::SqliteStore;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const CALLS_IN_FLIGHT: [usize; 5] = [1, 2, 4, 8, 16];

fn latency(variable: &str, default: &str) -> (u64, u64) {
    let raw = std::env::var(variable).unwrap_or_else(|_| default.into());
    let (low, high) = raw.split_once('-').unwrap_or((&raw, &raw));
    (low.trim().parse().unwrap(), high.trim().parse().unwrap())
}

#[tokio::main]
async fn main() {
    let (low_ms, high_ms) = latency("NAVIGATOR_BENCH_EMBED_MS", "200-600");
    let board = FaultBoard::realistic();
    board.set("embeddings", Fault::latency(low_ms, high_ms)).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v1", listener.local_addr().unwrap());
    let fakes = navigator_load::fakes::router(board.clone());
    tokio::spawn(async move { axum::serve(listener, fakes).await });

    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let started = Instant::now();
    let source = navigator_retrieval::document::load(&root.join(SAMPLE_PLAN)).unwrap();
    println!(
        "sample plan: {} pages read in {:.1} s",
        source.pages.len(),
        started.elapsed().as_secs_f64()
    );
    println!("\nOpenAI-compatible `/v1/embeddings`, {low_ms}-{high_ms} ms a call:\n");
    println!("| calls in flight | chunks | embedding calls | ingest s | chunks/s | calls/s |");
    println!("|---|---|---|---|---|---|");
    for calls in CALLS_IN_FLIGHT {
        let embedder = OpenAiEmbedder::new(reqwest::Client::new(), &base, None, "fake-embeddings", 384)
            .with_calls_in_flight(calls);
        let made = || board.stats().get("embeddings").map_or(0, |s| s.requests);
        run(&embedder, &source, calls, made).await;
    }

    let (low_ms, high_ms) = latency("NAVIGATOR_BENCH_TITAN_MS", "50-150");
    let titan = FakeTitan::start(low_ms, high_ms).await;
    println!("\nBedrock `InvokeModel` (Titan Text Embeddings V2, 1024 dimensions), {low_ms}-{high_ms} ms a text:\n");
    println!("| calls in flight | chunks | model calls | ingest s | chunks/s | calls/s |");
    println!("|---|---|---|---|---|---|");
    for calls in CALLS_IN_FLIGHT {
        let embedder = BedrockEmbedder::new(titan.client.clone(), "amazon.titan-embed-text-v2:0", 1024)
            .with_calls_in_flight(calls);
        let made = || titan.calls.load(Ordering::Relaxed);
        run(&embedder, &source, calls, made).await;
    }
}

/// One ingest into a fresh store: a row of the table.
async fn run<E: Embedder>(embedder: &E, source: &SourceDocument, calls: usize, made: impl Fn() -> u64) {
    let data_dir = tempfile_dir(calls);
    let store = SqliteStore::open(&data_dir).await.unwrap();
    let before = made();
    let started = Instant::now();
    let report = navigator_retrieval::ingest::ingest(embedder, &store, &Owner::Plan(demo_plan()), source, |_, _| {})
        .await
        .unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let made = made() - before;
    println!(
        "| {calls} | {} | {made} | {seconds:.1} | {:.0} | {:.1} |",
        report.chunks,
        report.chunks as f64 / seconds,
        made as f64 / seconds
    );
    let _ = std::fs::remove_dir_all(&data_dir);
}

/// A local server speaking Bedrock Runtime's `POST /model/{modelId}/invoke` in Titan V2's format.
struct FakeTitan {
    client: aws_sdk_bedrockruntime::Client,
    calls: Arc<AtomicU64>,
}

impl FakeTitan {
    async fn start(low_ms: u64, high_ms: u64) -> Self {
        let calls = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&calls);
        let app = axum::Router::new().route(
            "/model/{model}/invoke",
            axum::routing::post(move |body: String| {
                let counted = Arc::clone(&counted);
                async move {
                    let request: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                    let text = request["inputText"].as_str().unwrap_or_default();
                    let dimensions = request["dimensions"].as_u64().unwrap_or(1024) as usize;
                    // A latency spread over the range by the text itself, so runs are comparable.
                    let spread = text
                        .bytes()
                        .fold(7_u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64));
                    let wait = low_ms + spread % (high_ms - low_ms + 1);
                    tokio::time::sleep(Duration::from_millis(wait)).await;
                    counted.fetch_add(1, Ordering::Relaxed);
                    axum::Json(json!({
                        "embedding": navigator_load::fakes::chat::hashed_embedding(text, dimensions),
                        "inputTextTokenCount": text.split_whitespace().count(),
                    }))
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let config = aws_sdk_bedrockruntime::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("bench", "bench", None, None, "bench"))
            .endpoint_url(url)
            .build();
        Self {
            client: aws_sdk_bedrockruntime::Client::from_conf(config),
            calls,
        }
    }
}

fn tempfile_dir(calls: usize) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("navigator-bench-ingest-{}-{calls}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
