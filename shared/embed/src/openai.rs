//! An OpenAI-compatible `POST {base}/embeddings` endpoint (OpenAI, Azure-style gateways, vLLM, Ollama...).

use navigator_platform::NavigatorError;
use navigator_platform::secrets::SecretString;
use navigator_resilience::Deadline;
use serde::{Deserialize, Serialize};

use super::{DEFAULT_REMOTE_CALLS_IN_FLIGHT, Embedder, normalize};

/// Calls an OpenAI-compatible embeddings API. The HTTP client is shared and built once per environment.
pub struct OpenAiEmbedder {
    client: reqwest::Client,
    base_url: String,
    api_key: Option<SecretString>,
    model: String,
    dimensions: usize,
    calls_in_flight: usize,
}

#[derive(Serialize)]
struct EmbeddingsRequest<'a> {
    model: &'a str,
    input: &'a [String],
    dimensions: usize,
    encoding_format: &'static str,
}

#[derive(Deserialize)]
struct EmbeddingsResponse {
    data: Vec<EmbeddingItem>,
}

#[derive(Deserialize)]
struct EmbeddingItem {
    index: usize,
    embedding: Vec<f32>,
}

impl OpenAiEmbedder {
    /// `base_url` ends before `/embeddings`, e.g. `https://api.openai.com/v1`. The model must support the
    /// `dimensions` parameter (text-embedding-3-*) so vectors match the store's dimension.
    pub fn new(
        client: reqwest::Client,
        base_url: &str,
        api_key: Option<SecretString>,
        model: &str,
        dimensions: usize,
    ) -> Self {
        Self {
            client,
            base_url: base_url.trim_end_matches('/').to_string(),
            api_key,
            model: model.to_string(),
            dimensions,
            calls_in_flight: DEFAULT_REMOTE_CALLS_IN_FLIGHT,
        }
    }

    /// Calls an ingest keeps in flight.
    pub fn with_calls_in_flight(mut self, calls: usize) -> Self {
        self.calls_in_flight = calls;
        self
    }
}

impl Embedder for OpenAiEmbedder {
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
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let body = EmbeddingsRequest {
            model: &self.model,
            input: &texts,
            dimensions: self.dimensions,
            encoding_format: "float",
        };
        let mut request = self
            .client
            .post(format!("{}/embeddings", self.base_url))
            .json(&body)
            .timeout(deadline.remaining());
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key.expose());
        }
        let call = async {
            let response = request.send().await.map_err(|e| classify(&e))?;
            let status = response.status();
            if !status.is_success() {
                let detail = format!("HTTP {status}");
                return Err(if status.is_client_error() && status.as_u16() != 429 {
                    NavigatorError::unavailable("embeddings", format!("{detail}: check the model name and key"))
                } else {
                    NavigatorError::unavailable("embeddings", detail)
                });
            }
            response
                .json::<EmbeddingsResponse>()
                .await
                .map_err(|e| NavigatorError::unavailable("embeddings", format!("bad response: {e}")))
        };
        let parsed = deadline
            .run(call)
            .await
            .map_err(|_| NavigatorError::timeout("embeddings"))??;
        let mut vectors = vec![Vec::new(); texts.len()];
        for item in parsed.data {
            if item.index >= texts.len()
                || item.embedding.len() != self.dimensions
                || item.embedding.iter().any(|x| !x.is_finite())
            {
                return Err(NavigatorError::unavailable(
                    "embeddings",
                    "a vector of the wrong shape or with non-finite values",
                ));
            }
            let mut vector = item.embedding;
            normalize(&mut vector);
            vectors[item.index] = vector;
        }
        if vectors.iter().any(Vec::is_empty) {
            return Err(NavigatorError::unavailable("embeddings", "fewer vectors than texts"));
        }
        Ok(vectors)
    }
}

fn classify(error: &reqwest::Error) -> NavigatorError {
    if error.is_timeout() {
        NavigatorError::timeout("embeddings")
    } else {
        NavigatorError::unavailable("embeddings", error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::{Json, Router, http::StatusCode, routing::post};
    use serde_json::{Value, json};
    use std::time::Duration;

    async fn serve(app: Router) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/v1", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    }

    fn embedder(url: &str) -> OpenAiEmbedder {
        OpenAiEmbedder::new(
            reqwest::Client::new(),
            url,
            Some(SecretString::new("sk-test")),
            "text-embedding-3-small",
            3,
        )
    }

    #[tokio::test]
    async fn speaks_the_openai_wire_format_and_reorders_by_index() {
        let app = Router::new().route(
            "/v1/embeddings",
            post(|headers: axum::http::HeaderMap, Json(body): Json<Value>| async move {
                assert_eq!(headers["authorization"], "Bearer sk-test");
                assert_eq!(body["model"], "text-embedding-3-small");
                assert_eq!(body["dimensions"], 3);
                assert_eq!(body["input"], json!(["a", "b"]));
                Json(json!({"object": "list", "model": "text-embedding-3-small", "data": [
                    {"object": "embedding", "index": 1, "embedding": [0.0, 3.0, 4.0]},
                    {"object": "embedding", "index": 0, "embedding": [1.0, 0.0, 0.0]}],
                    "usage": {"prompt_tokens": 2, "total_tokens": 2}}))
            }),
        );
        let url = serve(app).await;
        let vectors = embedder(&url)
            .embed(vec!["a".into(), "b".into()], Deadline::after(Duration::from_secs(5)))
            .await
            .unwrap();
        assert_eq!(vectors, vec![vec![1.0, 0.0, 0.0], vec![0.0, 0.6, 0.8]]);
    }

    #[tokio::test]
    async fn errors_and_bad_shapes_are_typed_failures_never_empty_vectors() {
        let failing = Router::new().route(
            "/v1/embeddings",
            post(|| async { (StatusCode::TOO_MANY_REQUESTS, "slow down") }),
        );
        let url = serve(failing).await;
        let error = embedder(&url)
            .embed(vec!["a".into()], Deadline::after(Duration::from_secs(5)))
            .await
            .unwrap_err();
        assert_eq!(error.error_type(), "DependencyUnavailable");

        let short = Router::new().route(
            "/v1/embeddings",
            post(|| async { Json(json!({"data": [{"index": 0, "embedding": [1.0, 0.0]}]})) }),
        );
        let url = serve(short).await;
        let error = embedder(&url)
            .embed(vec!["a".into()], Deadline::after(Duration::from_secs(5)))
            .await
            .unwrap_err();
        assert_eq!(error.error_type(), "DependencyUnavailable");
    }

    #[tokio::test]
    async fn a_slow_endpoint_is_a_timeout_at_the_deadline() {
        let slow = Router::new().route(
            "/v1/embeddings",
            post(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                Json(json!({"data": []}))
            }),
        );
        let url = serve(slow).await;
        let started = std::time::Instant::now();
        let error = embedder(&url)
            .embed(vec!["a".into()], Deadline::after(Duration::from_millis(150)))
            .await
            .unwrap_err();
        assert_eq!(error.error_type(), "Timeout");
        assert!(started.elapsed() < Duration::from_secs(1));
    }
}
