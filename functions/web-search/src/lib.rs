//! Web search through Tavily behind a circuit breaker, with no personal data leaving.

use navigator_lambda::Tool;
use navigator_platform::NavigatorError;
use navigator_platform::contracts::{WebSearchInput, WebSearchOutput};
use navigator_platform::envelope::Invocation;

/// The web-search tool. Input is validated by the shared edge; the work itself arrives with its issue.
#[derive(Debug, Clone, Copy, Default)]
pub struct WebSearch;

impl Tool for WebSearch {
    const NAME: &'static str = "web-search";
    type Input = WebSearchInput;
    type Output = WebSearchOutput;

    async fn call(&self, _invocation: Invocation<WebSearchInput>) -> Result<WebSearchOutput, NavigatorError> {
        Err(NavigatorError::internal("not built yet"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use navigator_lambda::handle;
    use navigator_platform::NavigatorError;
    use std::time::{SystemTime, UNIX_EPOCH};

    fn event(input: serde_json::Value) -> lambda_runtime::LambdaEvent<serde_json::Value> {
        let deadline = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64 + 5_000;
        let payload = serde_json::json!({"request_id": "t-1", "deadline_unix_ms": deadline, "input": input});
        lambda_runtime::LambdaEvent::new(payload, lambda_runtime::Context::default())
    }

    #[tokio::test]
    async fn valid_input_is_answered_internal_not_built_yet() {
        let error = handle(
            &WebSearch,
            event(serde_json::json!({"query": "2025 Medicare Part B premium", "max_results": 5})),
        )
        .await
        .unwrap_err();
        assert_eq!(error.error_type, "Internal");
        assert_eq!(
            error.error_message,
            NavigatorError::internal("not built yet").to_string()
        );
    }

    #[tokio::test]
    async fn invalid_input_is_invalid_input() {
        let error = handle(&WebSearch, event(serde_json::json!({"query": "x", "max_results": 50})))
            .await
            .unwrap_err();
        assert_eq!(error.error_type, "InvalidInput");
    }
}
