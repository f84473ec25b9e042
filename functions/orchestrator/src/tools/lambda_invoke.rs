//! The AWS Lambda `Invoke` adapter: one synchronous invocation per tool call, function names from configuration.
//!
//! The SDK's default retry (3 attempts, 1 s backoff) would eat a wave's 800 ms, so the client retries at most once,
//! after ≤ 100 ms (docs/DESIGN.md §9), and the caller's deadline bounds the whole call. Lambda throttling
//! (`TooManyRequestsException`) is `Rejected`, so the turn degrades instead of waiting.

use aws_sdk_lambda::Client;
use aws_sdk_lambda::error::{DisplayErrorContext, SdkError};
use aws_sdk_lambda::operation::invoke::InvokeError;
use aws_sdk_lambda::primitives::Blob;
use futures_util::future::BoxFuture;
use navigator_platform::NavigatorError;
use navigator_platform::envelope::ToolResponse;
use serde::Deserialize;
use std::collections::HashMap;
use std::time::Duration;

use super::{ToolInvoker, ToolName, WireRequest};

/// Invokes the tool functions by name.
#[derive(Clone)]
pub struct LambdaInvoke {
    client: Client,
    functions: HashMap<ToolName, String>,
}

/// A failed invocation's payload, as the Lambda runtime writes it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FunctionError {
    #[serde(default)]
    error_type: String,
    #[serde(default)]
    error_message: String,
}

impl LambdaInvoke {
    /// A client from the environment's AWS configuration (`AWS_ENDPOINT_URL_LAMBDA` points it anywhere), with the
    /// function names from `RETRIEVE_FUNCTION`, `WEB_SEARCH_FUNCTION`, `TRANSLATE_FUNCTION` and `GUARD_FUNCTION`.
    /// A tool whose variable is unset or empty is not provided.
    pub async fn from_env() -> Self {
        let shared = navigator_platform::aws::load().await;
        let functions = ToolName::ALL
            .into_iter()
            .filter_map(|tool| {
                let name = std::env::var(tool.function_variable()).ok()?;
                (!name.trim().is_empty()).then(|| (tool, name.trim().to_string()))
            })
            .collect();
        Self::new(Client::new(&shared), functions)
    }

    pub fn new(client: Client, functions: HashMap<ToolName, String>) -> Self {
        Self { client, functions }
    }

    async fn call(
        &self,
        tool: ToolName,
        function: &str,
        request: WireRequest,
    ) -> Result<serde_json::Value, NavigatorError> {
        let payload = serde_json::to_vec(&request).map_err(NavigatorError::internal)?;
        invoke_function(&self.client, tool.as_str(), function, payload).await
    }
}

/// One synchronous invocation of `function` with an envelope: the `output` it answered, or the typed error it
/// failed with. `callee` names it in errors.
pub(crate) async fn invoke_function(
    client: &Client,
    callee: &str,
    function: &str,
    payload: Vec<u8>,
) -> Result<serde_json::Value, NavigatorError> {
    let answer = client
        .invoke()
        .function_name(function)
        .payload(Blob::new(payload))
        .send()
        .await
        .map_err(|error| invoke_failure(callee, error))?;
    let body = answer.payload().map(|blob| blob.as_ref()).unwrap_or_default();
    if answer.function_error().is_some() {
        return Err(function_failure(callee, body)
            .unwrap_or_else(|| NavigatorError::unavailable(callee, "the function failed without a readable error")));
    }
    let response: ToolResponse<serde_json::Value> = serde_json::from_slice(body)
        .map_err(|e| NavigatorError::unavailable(callee, format!("malformed response: {e}")))?;
    Ok(response.output)
}

/// A function error's `{errorType, errorMessage}` as the typed error it names.
fn function_failure(callee: &str, body: &[u8]) -> Option<NavigatorError> {
    let failure: FunctionError = serde_json::from_slice(body).ok()?;
    Some(
        match NavigatorError::from_error_type(&failure.error_type, &failure.error_message) {
            NavigatorError::DependencyUnavailable { detail, .. } => NavigatorError::unavailable(callee, detail),
            other => other,
        },
    )
}

fn invoke_failure(callee: &str, error: SdkError<InvokeError>) -> NavigatorError {
    // Lambda answers a function error as 200 with `X-Amz-Function-Error`; `cargo lambda watch` answers it as a 500
    // whose body is the same `{errorType, errorMessage}`. Read it either way, so the type survives the emulator.
    if let Some(typed) = error
        .raw_response()
        .filter(|raw| raw.status().is_server_error())
        .and_then(|raw| raw.body().bytes())
        .and_then(|body| function_failure(callee, body))
    {
        return typed;
    }
    if let Some(service) = error.as_service_error() {
        if let InvokeError::TooManyRequestsException(throttled) = service {
            let retry_after = throttled
                .retry_after_seconds()
                .and_then(|s| s.parse::<u64>().ok())
                .map(Duration::from_secs);
            return NavigatorError::rejected(format!("{callee} is throttled"), retry_after);
        }
        if service.is_resource_not_found_exception() {
            return NavigatorError::internal(format!("{callee}: no such function ({})", DisplayErrorContext(&error)));
        }
    }
    NavigatorError::unavailable(callee, DisplayErrorContext(&error))
}

impl ToolInvoker for LambdaInvoke {
    fn provides(&self, tool: ToolName) -> bool {
        self.functions.contains_key(&tool)
    }

    fn invoke(&self, tool: ToolName, request: WireRequest) -> BoxFuture<'_, Result<serde_json::Value, NavigatorError>> {
        Box::pin(async move {
            match self.functions.get(&tool) {
                Some(function) => self.call(tool, function, request).await,
                None => Err(NavigatorError::rejected(format!("{tool} is not configured"), None)),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::{CallContext, Tools};
    use aws_sdk_lambda::config::{BehaviorVersion, Credentials, Region};
    use axum::Router;
    use axum::body::Bytes;
    use axum::extract::{Path, State};
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::{IntoResponse, Response};
    use axum::routing::post;
    use navigator_resilience::Deadline;
    use serde_json::{Value, json};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use uuid::Uuid;

    /// Speaks the Lambda Invoke REST API: `POST /2015-03-31/functions/{name}/invocations`.
    #[derive(Clone, Default)]
    struct FakeLambda {
        calls: Arc<AtomicUsize>,
        bodies: Arc<std::sync::Mutex<Vec<Value>>>,
    }

    async fn invocations(
        State(fake): State<FakeLambda>,
        Path(function): Path<String>,
        headers: HeaderMap,
        body: Bytes,
    ) -> Response {
        fake.calls.fetch_add(1, Ordering::SeqCst);
        assert!(headers.contains_key("authorization"), "requests are signed");
        let request: Value = serde_json::from_slice(&body).unwrap();
        fake.bodies.lock().unwrap().push(request.clone());
        match function.as_str() {
            "retrieve-fn" => Json(json!({"output": {"chunks": [], "timings_ms": {"cache": 0.0, "embed": 1.0, "knn": 1.0, "rerank": 0.1}}})).into_response(),
            "failing-fn" => (
                [("x-amz-function-error", "Unhandled")],
                Json(json!({"errorType": "DependencyUnavailable", "errorMessage": "postgres down"})),
            )
                .into_response(),
            "throttled-fn" => (
                StatusCode::TOO_MANY_REQUESTS,
                [("x-amzn-errortype", "TooManyRequestsException"), ("retry-after", "2")],
                Json(json!({"Type": "User", "message": "Rate Exceeded.", "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded"})),
            )
                .into_response(),
            // How `cargo lambda watch` answers a function error.
            "emulated-failing-fn" => (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({"errorType": "Timeout", "errorMessage": "knn"})),
            )
                .into_response(),
            "garbled-fn" => Json(json!({"unexpected": true})).into_response(),
            _ => (
                StatusCode::NOT_FOUND,
                [("x-amzn-errortype", "ResourceNotFoundException")],
                Json(json!({"Type": "User", "message": "Function not found"})),
            )
                .into_response(),
        }
    }

    use axum::Json;

    async fn tools_against(functions: &[(ToolName, &str)]) -> (Tools, FakeLambda) {
        let fake = FakeLambda::default();
        let app = Router::new()
            .route("/2015-03-31/functions/{function}/invocations", post(invocations))
            .with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let config = aws_sdk_lambda::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "test"))
            .endpoint_url(url)
            .retry_config(navigator_platform::aws::retry_policy())
            .build();
        let functions = functions.iter().map(|(tool, name)| (*tool, name.to_string())).collect();
        let invoker = LambdaInvoke::new(Client::from_conf(config), functions);
        (Tools::new(Arc::new(invoker)), fake)
    }

    fn cx() -> CallContext {
        CallContext {
            request_id: "turn-1".into(),
            readers: navigator_platform::owner::Readers::new(
                Uuid::from_u128(42),
                navigator_platform::owner::PlanId::parse("plan-42").ok(),
            ),
        }
    }

    fn deadline() -> Deadline {
        Deadline::after(Duration::from_secs(5))
    }

    #[tokio::test]
    async fn sends_the_envelope_and_reads_the_output() {
        let (tools, fake) = tools_against(&[(ToolName::Retrieve, "retrieve-fn")]).await;
        let output = tools.retrieve(&cx(), "specialist copay", 5, deadline()).await.unwrap();
        assert!(output.chunks.is_empty());
        let sent = fake.bodies.lock().unwrap()[0].clone();
        assert_eq!(sent["request_id"], "turn-1");
        assert_eq!(sent["user_id"], Uuid::from_u128(42).to_string());
        assert_eq!(sent["input"]["user_id"], Uuid::from_u128(42).to_string());
        assert_eq!(sent["plan_id"], "plan-42");
        assert_eq!(sent["input"]["plan_id"], "plan-42");
        assert_eq!(sent["input"]["query"], "specialist copay");
        assert!(sent["deadline_unix_ms"].as_u64().unwrap() > 0);
    }

    #[tokio::test]
    async fn a_function_error_keeps_its_type() {
        let (tools, _) = tools_against(&[(ToolName::Retrieve, "failing-fn")]).await;
        let error = tools.retrieve(&cx(), "copay", 5, deadline()).await.unwrap_err();
        assert!(
            matches!(&error, NavigatorError::DependencyUnavailable { dependency, detail } if dependency == "retrieve" && detail == "postgres down"),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn an_emulators_500_with_a_function_error_body_keeps_its_type_too() {
        let (tools, _) = tools_against(&[(ToolName::Retrieve, "emulated-failing-fn")]).await;
        let error = tools.retrieve(&cx(), "copay", 5, deadline()).await.unwrap_err();
        assert_eq!(error.error_type(), "Timeout", "{error:?}");
    }

    #[tokio::test]
    async fn throttling_is_rejected_after_at_most_two_attempts() {
        let (tools, fake) = tools_against(&[(ToolName::WebSearch, "throttled-fn")]).await;
        let error = tools
            .web_search(&cx(), "part b premium", 5, deadline())
            .await
            .unwrap_err();
        assert!(
            matches!(&error, NavigatorError::Rejected { retry_after: Some(after), .. } if *after == Duration::from_secs(2)),
            "{error:?}"
        );
        assert_eq!(fake.calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn unknown_functions_malformed_outputs_and_missing_names_are_typed() {
        let (tools, fake) = tools_against(&[(ToolName::Retrieve, "no-such-fn"), (ToolName::Guard, "garbled-fn")]).await;
        let missing = tools.retrieve(&cx(), "copay", 5, deadline()).await.unwrap_err();
        assert_eq!(missing.error_type(), "Internal", "{missing:?}");
        let garbled = tools.guard(&cx(), "hello", deadline()).await.unwrap_err();
        assert_eq!(garbled.error_type(), "DependencyUnavailable", "{garbled:?}");
        let calls_before = fake.calls.load(Ordering::SeqCst);
        assert!(!tools.provides(ToolName::WebSearch));
        let unconfigured = tools.web_search(&cx(), "q", 5, deadline()).await.unwrap_err();
        assert_eq!(unconfigured.error_type(), "Rejected");
        assert_eq!(
            fake.calls.load(Ordering::SeqCst),
            calls_before,
            "an unconfigured tool is never invoked"
        );
    }
}
