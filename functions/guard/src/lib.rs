//! The security agent: PII redaction and blocking of injection, unsafe medical and off-topic requests.

use navigator_lambda::Tool;
use navigator_platform::NavigatorError;
use navigator_platform::contracts::{GuardInput, GuardOutput};
use navigator_platform::envelope::Invocation;

/// The guard tool. Input is validated by the shared edge; the work itself arrives with its issue.
#[derive(Debug, Clone, Copy, Default)]
pub struct Guard;

impl Tool for Guard {
    const NAME: &'static str = "guard";
    type Input = GuardInput;
    type Output = GuardOutput;

    async fn call(&self, _invocation: Invocation<GuardInput>) -> Result<GuardOutput, NavigatorError> {
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
        let error = handle(&Guard, event(serde_json::json!({"text": "What is my copay?"})))
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
        let error = handle(&Guard, event(serde_json::json!({"text": ""})))
            .await
            .unwrap_err();
        assert_eq!(error.error_type, "InvalidInput");
    }
}
