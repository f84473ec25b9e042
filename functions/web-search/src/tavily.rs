//! Tavily's search API: `POST {base}/search` with `Authorization: Bearer <key>` and
//! `{query, search_depth, max_results, include_answer, include_domains?}` → `{results: [{title, url, content,
//! score}], ...}`.
//!
//! Every failure says whether it should trip the breaker: timeouts, connection errors, 5xx, 429 and unreadable
//! bodies do (the service is unwell); other 4xx do not (the service answered; our request or key is wrong).

use navigator_platform::NavigatorError;
use navigator_platform::secrets::SecretString;
use navigator_resilience::{CpuPool, Deadline, FailureClass};
use serde::{Deserialize, Serialize};
use std::time::Duration;

use crate::results::RawResult;

/// The most response bytes read: a search result page, not a download.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// A failed search, and whether it counts against the provider's health.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchFailure {
    pub error: NavigatorError,
    pub trips: bool,
}

impl FailureClass for SearchFailure {
    fn trips_breaker(&self) -> bool {
        self.trips
    }
}

impl SearchFailure {
    fn unhealthy(detail: impl ToString) -> Self {
        Self {
            error: NavigatorError::unavailable("tavily", detail),
            trips: true,
        }
    }
}

#[derive(Serialize)]
struct SearchRequest<'a> {
    query: &'a str,
    search_depth: &'static str,
    max_results: u8,
    include_answer: bool,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    include_domains: &'a [String],
}

#[derive(Deserialize)]
struct SearchResponse {
    results: Vec<WireResult>,
}

#[derive(Deserialize)]
struct WireResult {
    #[serde(default)]
    title: String,
    url: String,
    #[serde(default)]
    content: String,
    #[serde(default)]
    score: f32,
}

/// The Tavily client, built once per execution environment.
pub struct Tavily {
    client: reqwest::Client,
    base_url: String,
    api_key: SecretString,
    search_timeout: Duration,
    parse_timeout: Duration,
    parse_pool: CpuPool,
}

impl Tavily {
    pub fn new(
        client: reqwest::Client,
        base_url: &str,
        api_key: SecretString,
        search_timeout: Duration,
        parse_timeout: Duration,
    ) -> Self {
        Self {
            client,
            base_url: base_url.trim_end_matches('/').to_string(),
            api_key,
            search_timeout,
            parse_timeout,
            parse_pool: CpuPool::new("tavily-parse", 2, 64),
        }
    }

    /// One search: the request under the search budget, then the parse under its own, both capped by `deadline`.
    /// The pool responses are parsed on, for the host's admission to watch.
    pub fn parse_pool(&self) -> &CpuPool {
        &self.parse_pool
    }

    pub async fn search(
        &self,
        query: &str,
        max_results: u8,
        allow_domains: &[String],
        deadline: Deadline,
    ) -> Result<Vec<RawResult>, SearchFailure> {
        let body = SearchRequest {
            query,
            search_depth: "basic",
            max_results,
            include_answer: false,
            include_domains: allow_domains,
        };
        let search_deadline = deadline.child(self.search_timeout);
        let bytes = match search_deadline.run(self.fetch(&body)).await {
            Ok(result) => result?,
            Err(_) => {
                return Err(SearchFailure {
                    error: NavigatorError::timeout("tavily search"),
                    trips: true,
                });
            }
        };
        let parsed = self
            .parse_pool
            .run_for(deadline, Some(self.parse_timeout), move || {
                serde_json::from_slice::<SearchResponse>(&bytes)
            })
            .await
            .map_err(|error| SearchFailure {
                error: NavigatorError::from(error),
                trips: true,
            })?
            .map_err(|e| SearchFailure::unhealthy(format!("malformed response: {e}")))?;
        Ok(parsed
            .results
            .into_iter()
            .map(|r| RawResult {
                title: r.title,
                url: r.url,
                content: r.content,
                score: r.score,
            })
            .collect())
    }

    async fn fetch(&self, body: &SearchRequest<'_>) -> Result<Vec<u8>, SearchFailure> {
        let mut response = self
            .client
            .post(format!("{}/search", self.base_url))
            .bearer_auth(self.api_key.expose())
            .json(body)
            .send()
            .await
            .map_err(|e| SearchFailure::unhealthy(e.without_url()))?;
        let status = response.status();
        if status.as_u16() == 429 {
            let retry_after = navigator_platform::error::parse_retry_after(
                response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok()),
            );
            return Err(SearchFailure {
                error: NavigatorError::rejected("tavily is rate limiting", retry_after),
                trips: true,
            });
        }
        if status.is_server_error() {
            return Err(SearchFailure::unhealthy(format!("HTTP {status}")));
        }
        if status.is_client_error() {
            let error = match status.as_u16() {
                401 | 403 => NavigatorError::internal(format!("tavily refused the API key (HTTP {status})")),
                _ => NavigatorError::invalid(format!("tavily refused the query (HTTP {status})")),
            };
            return Err(SearchFailure { error, trips: false });
        }
        if response.content_length().is_some_and(|n| n > MAX_BODY_BYTES as u64) {
            return Err(SearchFailure::unhealthy("response body too large"));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| SearchFailure::unhealthy(e.without_url()))?
        {
            if bytes.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(SearchFailure::unhealthy("response body too large"));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }
}
