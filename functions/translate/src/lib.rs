//! Language detection and translation in and out, through providers with fallback.

use navigator_lambda::Tool;
use navigator_platform::NavigatorError;
use navigator_platform::contracts::{TranslateInput, TranslateOutput};
use navigator_platform::envelope::Invocation;

/// The translate tool. Input is validated by the shared edge; the work itself arrives with its issue.
#[derive(Debug, Clone, Copy, Default)]
pub struct Translate;

impl Tool for Translate {
    const NAME: &'static str = "translate";
    type Input = TranslateInput;
    type Output = TranslateOutput;

    async fn call(&self, _invocation: Invocation<TranslateInput>) -> Result<TranslateOutput, NavigatorError> {
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
            &Translate,
            event(serde_json::json!({"text": "¿Cuánto es el copago?", "source_lang": "auto", "target_lang": "en"})),
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
        let error = handle(
            &Translate,
            event(serde_json::json!({"text": "hola", "target_lang": "Spanish"})),
        )
        .await
        .unwrap_err();
        assert_eq!(error.error_type, "InvalidInput");
    }
}
