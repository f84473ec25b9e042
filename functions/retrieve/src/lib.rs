//! Retrieval over the member's own plan documents: hybrid vector and full-text search, then rerank.

use navigator_lambda::Tool;
use navigator_platform::NavigatorError;
use navigator_platform::contracts::{RetrieveInput, RetrieveOutput};
use navigator_platform::envelope::Invocation;

/// The retrieve tool. Input is validated by the shared edge; the work itself arrives with its issue.
#[derive(Debug, Clone, Copy, Default)]
pub struct Retrieve;

impl Tool for Retrieve {
    const NAME: &'static str = "retrieve";
    type Input = RetrieveInput;
    type Output = RetrieveOutput;

    async fn call(&self, _invocation: Invocation<RetrieveInput>) -> Result<RetrieveOutput, NavigatorError> {
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
        let error = handle(&Retrieve, event(serde_json::json!({"user_id": "00000000-0000-4000-8000-000000000001", "query": "specialist copay", "top_k": 5}))).await.unwrap_err();
        assert_eq!(error.error_type, "Internal");
        assert_eq!(
            error.error_message,
            NavigatorError::internal("not built yet").to_string()
        );
    }

    #[tokio::test]
    async fn invalid_input_is_invalid_input() {
        let error = handle(
            &Retrieve,
            event(serde_json::json!({"user_id": "not-a-uuid", "query": "specialist copay"})),
        )
        .await
        .unwrap_err();
        assert_eq!(error.error_type, "InvalidInput");
    }
}
