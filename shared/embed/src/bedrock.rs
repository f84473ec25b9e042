//! Amazon Bedrock embeddings through `InvokeModel`, in the Titan Text Embeddings V2 format:
//! `{"inputText", "dimensions", "normalize"}` → `{"embedding", "inputTextTokenCount"}`. Titan takes one text per
//! call, so a batch becomes a few concurrent calls.

use aws_sdk_bedrockruntime::Client;
use aws_sdk_bedrockruntime::error::DisplayErrorContext;
use aws_sdk_bedrockruntime::primitives::Blob;
use futures_util::future::try_join_all;
use navigator_platform::NavigatorError;
use navigator_resilience::Deadline;
use serde::{Deserialize, Serialize};

use super::{DEFAULT_REMOTE_CALLS_IN_FLIGHT, Embedder, normalize};

/// Calls in flight at once for one batch: enough to hide latency, few enough to stay under Bedrock's quotas.
const CONCURRENT_CALLS: usize = 4;

/// Bedrock's Titan Text Embeddings V2 (or any model speaking its request format).
pub struct BedrockEmbedder {
    client: Client,
    model: String,
    dimensions: usize,
    calls_in_flight: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TitanRequest<'a> {
    input_text: &'a str,
    dimensions: usize,
    normalize: bool,
}

#[derive(Deserialize)]
struct TitanResponse {
    embedding: Vec<f32>,
}

impl BedrockEmbedder {
    /// `dimensions` must be one Titan V2 offers (256, 512 or 1024) and one the schema indexes (384 or 1024).
    pub fn new(client: Client, model: &str, dimensions: usize) -> Self {
        Self {
            client,
            model: model.to_string(),
            dimensions,
            calls_in_flight: DEFAULT_REMOTE_CALLS_IN_FLIGHT,
        }
    }

    /// Batches an ingest keeps in flight, each fanned out to `CONCURRENT_CALLS` model calls.
    pub fn with_calls_in_flight(mut self, calls: usize) -> Self {
        self.calls_in_flight = calls;
        self
    }

    async fn embed_one(&self, text: &str) -> Result<Vec<f32>, NavigatorError> {
        let body = serde_json::to_vec(&TitanRequest {
            input_text: text,
            dimensions: self.dimensions,
            normalize: true,
        })
        .map_err(|e| NavigatorError::internal(format!("bedrock request: {e}")))?;
        let answer = self
            .client
            .invoke_model()
            .model_id(&self.model)
            .content_type("application/json")
            .accept("application/json")
            .body(Blob::new(body))
            .send()
            .await
            .map_err(|e| NavigatorError::unavailable("bedrock embeddings", DisplayErrorContext(&e)))?;
        let parsed: TitanResponse = serde_json::from_slice(answer.body().as_ref())
            .map_err(|e| NavigatorError::unavailable("bedrock embeddings", format!("bad response: {e}")))?;
        if parsed.embedding.len() != self.dimensions || parsed.embedding.iter().any(|x| !x.is_finite()) {
            return Err(NavigatorError::unavailable(
                "bedrock embeddings",
                "a vector of the wrong shape or with non-finite values",
            ));
        }
        let mut vector = parsed.embedding;
        normalize(&mut vector);
        Ok(vector)
    }
}

impl Embedder for BedrockEmbedder {
    fn model(&self) -> &str {
        &self.model
    }

    fn dimensions(&self) -> usize {
        self.dimensions
    }

    fn calls_in_flight(&self) -> usize {
        self.calls_in_flight
    }

    async fn embed(&self, texts: Vec<String>, deadline: Deadline) -> Result<Vec<Vec<f32>>, NavigatorError> {
        let calls = async {
            let mut vectors = Vec::with_capacity(texts.len());
            for group in texts.chunks(CONCURRENT_CALLS) {
                vectors.extend(try_join_all(group.iter().map(|text| self.embed_one(text))).await?);
            }
            Ok(vectors)
        };
        deadline
            .run(calls)
            .await
            .map_err(|_| NavigatorError::timeout("bedrock embeddings"))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_bedrockruntime::config::{BehaviorVersion, Credentials, Region};
    use axum::extract::Path;
    use axum::http::{HeaderMap, StatusCode};
    use axum::{Json, Router, routing::post};
    use serde_json::{Value, json};
    use std::time::Duration;

    /// A local server speaking Bedrock Runtime's `POST /model/{modelId}/invoke`.
    async fn fake_bedrock(app: Router) -> Client {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let config = aws_sdk_bedrockruntime::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "test"))
            .endpoint_url(url)
            .build();
        Client::from_conf(config)
    }

    #[tokio::test]
    async fn speaks_titan_v2_over_invoke_model() {
        let app = Router::new().route(
            "/model/{model}/invoke",
            post(
                |Path(model): Path<String>, headers: HeaderMap, body: String| async move {
                    assert_eq!(model, "amazon.titan-embed-text-v2:0");
                    assert!(
                        headers["authorization"]
                            .to_str()
                            .unwrap()
                            .starts_with("AWS4-HMAC-SHA256"),
                        "requests are signed"
                    );
                    let request: Value = serde_json::from_str(&body).unwrap();
                    assert_eq!(request["dimensions"], 4);
                    assert_eq!(request["normalize"], true);
                    let first = if request["inputText"] == "a" { 3.0 } else { 0.0 };
                    Json(json!({"embedding": [first, 4.0, 0.0, 0.0], "inputTextTokenCount": 1}))
                },
            ),
        );
        let embedder = BedrockEmbedder::new(fake_bedrock(app).await, "amazon.titan-embed-text-v2:0", 4);
        let vectors = embedder
            .embed(vec!["a".into(), "b".into()], Deadline::after(Duration::from_secs(5)))
            .await
            .unwrap();
        assert_eq!(vectors, vec![vec![0.6, 0.8, 0.0, 0.0], vec![0.0, 1.0, 0.0, 0.0]]);
    }

    #[tokio::test]
    async fn throttling_and_bad_shapes_are_typed_failures() {
        let throttled = Router::new().route(
            "/model/{model}/invoke",
            post(|| async {
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [("x-amzn-errortype", "ThrottlingException")],
                    Json(json!({"message": "Too many requests"})),
                )
            }),
        );
        let embedder = BedrockEmbedder::new(fake_bedrock(throttled).await, "amazon.titan-embed-text-v2:0", 4);
        let error = embedder
            .embed(vec!["a".into()], Deadline::after(Duration::from_secs(5)))
            .await
            .unwrap_err();
        assert_eq!(error.error_type(), "DependencyUnavailable");

        let short = Router::new().route(
            "/model/{model}/invoke",
            post(|| async { Json(json!({"embedding": [1.0]})) }),
        );
        let embedder = BedrockEmbedder::new(fake_bedrock(short).await, "amazon.titan-embed-text-v2:0", 4);
        let error = embedder
            .embed(vec!["a".into()], Deadline::after(Duration::from_secs(5)))
            .await
            .unwrap_err();
        assert_eq!(error.error_type(), "DependencyUnavailable");
    }

    #[tokio::test]
    async fn a_slow_model_is_a_timeout_at_the_deadline() {
        let slow = Router::new().route(
            "/model/{model}/invoke",
            post(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                Json(json!({"embedding": [1.0, 0.0, 0.0, 0.0]}))
            }),
        );
        let embedder = BedrockEmbedder::new(fake_bedrock(slow).await, "amazon.titan-embed-text-v2:0", 4);
        let started = std::time::Instant::now();
        let error = embedder
            .embed(vec!["a".into()], Deadline::after(Duration::from_millis(200)))
            .await
            .unwrap_err();
        assert_eq!(error.error_type(), "Timeout");
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
