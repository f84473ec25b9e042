//! Web search (docs/DESIGN.md §2, §3, §5): Tavily behind a circuit breaker and a bulkhead, with no personal data leaving.
//!
//! - [`query`]: a query holding personal data is refused; a clean one is made neutral.
//! - [`tavily`]: the adapter, which says of each failure whether it should trip the breaker.
//! - [`results`]: HTML removed, snippets trimmed, duplicates dropped, authoritative domains boosted.
//!
//! Without an API key the tool is disabled: every call is `Rejected` with that reason, never an invented result.

pub mod query;
pub mod results;
pub mod tavily;

use navigator_lambda::Tool;
use navigator_platform::NavigatorError;
use navigator_platform::config::WebSearchBudgets;
use navigator_platform::contracts::{ToolName, WebSearchInput, WebSearchOutput};
use navigator_platform::envelope::Invocation;
use navigator_platform::secrets::{SecretStore, TAVILY_API_KEY};
use navigator_resilience::{
    BreakerConfig, BreakerState, Bulkhead, CircuitBreaker, Clock, CpuPool, Deadline, TokioClock,
};
use std::sync::Arc;

use crate::results::{DomainPolicy, normalize};
use crate::tavily::Tavily;

/// Results returned when the caller does not say.
pub const DEFAULT_MAX_RESULTS: u8 = 5;
const DEFAULT_BASE_URL: &str = "https://api.tavily.com";

struct Enabled {
    tavily: Tavily,
    breaker: CircuitBreaker,
    bulkhead: Bulkhead,
    policy: DomainPolicy,
}

/// The web-search tool, built once per execution environment.
#[derive(Clone)]
pub struct WebSearch {
    enabled: Option<Arc<Enabled>>,
}

impl WebSearch {
    /// No provider: every call is refused with the reason.
    pub fn disabled() -> Self {
        Self { enabled: None }
    }

    pub fn new(tavily: Tavily, budgets: &WebSearchBudgets, policy: DomainPolicy, clock: Arc<dyn Clock>) -> Self {
        let config = BreakerConfig {
            failure_threshold: budgets.breaker_failures,
            recovery: budgets.breaker_recovery,
            half_open_probes: budgets.breaker_probes,
        };
        Self {
            enabled: Some(Arc::new(Enabled {
                tavily,
                breaker: CircuitBreaker::with_clock("tavily", config, clock),
                bulkhead: Bulkhead::new(
                    ToolName::WebSearch.function_name(),
                    budgets.max_concurrent,
                    budgets.queue_bound,
                ),
                policy,
            })),
        }
    }

    /// Tavily when `TAVILY_API_KEY` (or `TAVILY_SECRET_ARN`) is set, at `TAVILY_BASE_URL`; disabled otherwise.
    pub async fn from_env(budgets: &WebSearchBudgets) -> Result<Self, NavigatorError> {
        let Some(key) = SecretStore::from_env().get(&TAVILY_API_KEY).await? else {
            tracing::info!("web search disabled: no Tavily API key");
            return Ok(Self::disabled());
        };
        let base_url = std::env::var("TAVILY_BASE_URL").unwrap_or_else(|_| DEFAULT_BASE_URL.into());
        // The bulkhead bounds connections in use (≤ MAX_CONCURRENT); idle ones kept for reuse are bounded here.
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(budgets.http.keepalive)
            .connect_timeout(budgets.http.connect)
            .build()
            .map_err(NavigatorError::internal)?;
        let tavily = Tavily::new(client, &base_url, key, budgets.search, budgets.parse);
        Ok(Self::new(
            tavily,
            budgets,
            DomainPolicy::from_env(),
            Arc::new(TokioClock),
        ))
    }

    /// The breaker's state, when enabled.
    pub fn breaker_state(&self) -> Option<BreakerState> {
        self.enabled.as_ref().map(|e| e.breaker.state())
    }

    pub async fn search(&self, input: &WebSearchInput, deadline: Deadline) -> Result<WebSearchOutput, NavigatorError> {
        let Some(enabled) = &self.enabled else {
            return Err(NavigatorError::rejected(
                "web search is disabled: no Tavily API key is configured",
                None,
            ));
        };
        let query = query::neutral_query(&input.query)?;
        let max = input.max_results.unwrap_or(DEFAULT_MAX_RESULTS);
        let _slot = enabled.bulkhead.acquire(deadline).await?;
        // An open breaker answers at once, without touching the network.
        let permit = enabled.breaker.try_acquire()?;
        match enabled
            .tavily
            .search(&query, max, &enabled.policy.allow, deadline)
            .await
        {
            Ok(raw) => {
                permit.success();
                Ok(WebSearchOutput {
                    results: normalize(raw, &enabled.policy, usize::from(max)),
                })
            }
            Err(failure) => {
                if failure.trips {
                    permit.failure();
                } else {
                    // The service answered; the request was wrong. That says nothing about its health.
                    permit.success();
                }
                tracing::warn!(error = %failure.error, trips = failure.trips, "web search failed");
                Err(failure.error)
            }
        }
    }
}

impl Tool for WebSearch {
    const NAME: ToolName = ToolName::WebSearch;
    type Input = WebSearchInput;
    type Output = WebSearchOutput;

    async fn call(&self, invocation: Invocation<WebSearchInput>) -> Result<WebSearchOutput, NavigatorError> {
        self.search(&invocation.input, invocation.deadline).await
    }

    fn cpu_pools(&self) -> Vec<CpuPool> {
        self.enabled
            .iter()
            .map(|enabled| enabled.tavily.parse_pool().clone())
            .collect()
    }
}

#[cfg(test)]
mod tests;
