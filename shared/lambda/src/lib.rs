//! The Lambda edge every tool function shares (translate, guard, retrieve, web-search).
//!
//! A tool implements [`Tool`]; [`run_tool`] does the rest: it parses and checks the envelope, caps the envelope's
//! deadline by Lambda's own, runs the call inside an invocation span, maps a failure to its typed `errorType`
//! (docs/DESIGN.md §3), and flushes the invocation's metrics as CloudWatch EMF.

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use navigator_platform::NavigatorError;
use navigator_platform::config::Settings;
use navigator_platform::contracts::ToolName;
use navigator_platform::envelope::{Invocation, ToolResponse, ValidInput, parse_invocation};
use navigator_platform::telemetry::{
    FirstTime, LogFormat, emf_document, init_logging, install_metrics, invocation_span, unix_ms_now,
};
use navigator_resilience::{CpuPool, Deadline};
use serde::{Serialize, de::DeserializeOwned};
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument;

/// The CloudWatch namespace of every navigator metric.
pub const METRICS_NAMESPACE: &str = "PatientNavigator";

/// Time kept back from Lambda's own deadline, so a tool can still answer with a typed `Timeout`.
pub const LAMBDA_SAFETY_MARGIN_MS: u64 = 50;

/// One tool function's behaviour, free of Lambda types.
pub trait Tool: Send + Sync + 'static {
    /// Which tool this is: its `function` in logs and metrics, and its `tool` in latency metrics.
    const NAME: ToolName;
    type Input: DeserializeOwned + ValidInput + Send;
    type Output: Serialize + Send;

    fn call(
        &self,
        invocation: Invocation<Self::Input>,
    ) -> impl Future<Output = Result<Self::Output, NavigatorError>> + Send;

    /// The CPU pools this tool's work runs on, for the host's admission to watch (see [`CpuLoad`]).
    ///
    /// [`CpuLoad`]: navigator_resilience::CpuLoad
    fn cpu_pools(&self) -> Vec<CpuPool> {
        Vec::new()
    }
}

/// Epoch milliseconds before this (2001-09-09) cannot be an absolute deadline of a running invocation.
const EARLIEST_ABSOLUTE_DEADLINE_MS: u64 = 1_000_000_000_000;

/// The invocation's deadline from the runtime's `Lambda-Runtime-Deadline-Ms`, less [`LAMBDA_SAFETY_MARGIN_MS`] so the
/// function can still answer with a typed `Timeout`. Lambda sends epoch milliseconds; `cargo lambda watch` sends the
/// timeout itself (e.g. `600000`), which would read as 1970 and expire every call, so a value too small to be a
/// date is read as milliseconds from now. `None` when the runtime sent none.
pub fn lambda_deadline(deadline_ms: u64) -> Option<Deadline> {
    match deadline_ms {
        0 => None,
        relative if relative < EARLIEST_ABSOLUTE_DEADLINE_MS => Some(Deadline::after(
            std::time::Duration::from_millis(relative.saturating_sub(LAMBDA_SAFETY_MARGIN_MS)),
        )),
        absolute => Some(Deadline::from_unix_ms(absolute.saturating_sub(LAMBDA_SAFETY_MARGIN_MS))),
    }
}

/// Start-up shared by every function: logs, metrics, and the validated budgets and providers, printed once. A bad
/// setting stops the start, naming every bad variable.
pub fn init(function: &'static str) -> Result<Settings, NavigatorError> {
    init_logging(LogFormat::from_env(), "info");
    install_metrics();
    let settings = Settings::from_env().map_err(|errors| NavigatorError::internal(errors.to_string()))?;
    tracing::info!(function, "starting");
    settings.log();
    Ok(settings)
}

/// Prints what one invocation recorded as CloudWatch EMF lines: CloudWatch Logs turns them into metrics. The first
/// flush of an execution environment follows its cold start and reports it as `ColdStart` = 1.
pub fn flush_metrics(function: &'static str) {
    // Once per execution environment, however many of its invocations flush at once.
    static FIRST_FLUSH: FirstTime = FirstTime::new();
    if FIRST_FLUSH.take() {
        println!("{}", cold_start_emf(function, unix_ms_now()));
    }
    for line in install_metrics().flush_emf(METRICS_NAMESPACE, &[("function", function)]) {
        println!("{line}");
    }
}

/// The EMF document of a cold start: `ColdStart` = 1 by function, the metric Lambda tooling conventionally charts.
fn cold_start_emf(function: &str, unix_ms: u64) -> String {
    emf_document(
        METRICS_NAMESPACE,
        &[("function", function)],
        vec![("ColdStart", serde_json::json!(1), "Count")],
        unix_ms,
    )
}

/// Invocations one execution environment serves at once: `AWS_LAMBDA_MAX_CONCURRENCY` on Lambda Managed Instances,
/// 1 on classic Lambda (and when the value is not a positive number).
pub fn max_concurrency() -> usize {
    concurrency_from(std::env::var("AWS_LAMBDA_MAX_CONCURRENCY").ok().as_deref())
}

fn concurrency_from(raw: Option<&str>) -> usize {
    raw.and_then(|value| value.trim().parse::<usize>().ok())
        .filter(|n| *n >= 1)
        .unwrap_or(1)
}

/// Serves `tool` on the Lambda runtime until the environment shuts down: `max_concurrency()` invocations at once on
/// Lambda Managed Instances, one at a time on classic Lambda; the same binary either way. The tool's own bounds
/// (its bulkheads, CPU pools and database pool) are what limit its work when invocations overlap.
pub async fn run_tool<T: Tool>(tool: T) -> Result<(), lambda_runtime::Error> {
    let tool = Arc::new(tool);
    tracing::info!(concurrency = max_concurrency(), "serving invocations");
    lambda_runtime::run_concurrent(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let tool = Arc::clone(&tool);
        async move {
            let result = handle(tool.as_ref(), event).await;
            flush_metrics(T::NAME.function_name());
            result
        }
    }))
    .await
}

/// One invocation, from raw payload to the `{output}` envelope or a typed Lambda error.
pub async fn handle<T: Tool>(
    tool: &T,
    event: LambdaEvent<serde_json::Value>,
) -> Result<ToolResponse<T::Output>, Diagnostic> {
    let (payload, context) = event.into_parts();
    let span = invocation_span(
        T::NAME.function_name(),
        &context.request_id,
        context.xray_trace_id.as_deref(),
    );
    let lambda_deadline_ms = context.deadline;
    tracing::debug!(lambda_deadline_ms, "invocation received");
    async move {
        let started = Instant::now();
        let result = match parse_invocation::<T::Input>(payload) {
            Ok(mut invocation) => {
                tracing::Span::current().record("request_id", invocation.request_id.as_str());
                if let Some(lambda_deadline) = lambda_deadline(lambda_deadline_ms) {
                    invocation.deadline = invocation.deadline.min(lambda_deadline);
                }
                tool.call(invocation).await
            }
            Err(error) => Err(error),
        };
        let outcome = match &result {
            Ok(_) => "ok",
            Err(error) => error.error_type(),
        };
        let elapsed = started.elapsed();
        let elapsed_ms = elapsed.as_secs_f64() * 1000.0;
        metrics::histogram!(navigator_metrics::TOOL_INVOCATION_DURATION.name, "tool" => T::NAME.as_str(), "outcome" => outcome)
            .record(elapsed.as_secs_f64());
        match result {
            Ok(output) => {
                tracing::info!(outcome, elapsed_ms, "invocation done");
                Ok(ToolResponse { output })
            }
            Err(error) => {
                // An input error may quote the caller's text back to the caller, but never into the logs.
                let detail = if matches!(error, NavigatorError::InvalidInput(_)) {
                    String::new()
                } else {
                    error.to_string()
                };
                tracing::warn!(outcome, elapsed_ms, detail, "invocation failed");
                Err(Diagnostic {
                    error_type: error.error_type().to_string(),
                    error_message: error.to_string(),
                })
            }
        }
    }
    .instrument(span)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_runtime::Context;
    use navigator_platform::contracts::GuardInput;
    use serde_json::json;
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    struct Echo;

    impl Tool for Echo {
        const NAME: ToolName = ToolName::Guard;
        type Input = GuardInput;
        type Output = String;

        async fn call(&self, invocation: Invocation<GuardInput>) -> Result<String, NavigatorError> {
            if invocation.input.text == "fail" {
                return Err(NavigatorError::unavailable("postgres", "connection refused"));
            }
            Ok(format!("{}:{}", invocation.request_id, invocation.input.text))
        }
    }

    #[tokio::test]
    async fn the_runtime_deadline_is_read_as_a_date_or_as_the_emulators_relative_timeout() {
        assert!(lambda_deadline(0).is_none());
        let absolute = lambda_deadline(now_ms() + 3_000).unwrap().remaining();
        assert!(
            absolute > Duration::from_millis(2_800) && absolute <= Duration::from_millis(2_950),
            "{absolute:?}"
        );
        let relative = lambda_deadline(600_000).unwrap().remaining();
        assert!(
            relative > Duration::from_secs(599) && relative <= Duration::from_millis(599_950),
            "{relative:?}"
        );
        assert!(lambda_deadline(now_ms() - 1_000).unwrap().remaining().is_zero());
    }

    fn now_ms() -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
    }

    fn event(payload: serde_json::Value) -> LambdaEvent<serde_json::Value> {
        let mut context = Context::default();
        context.request_id = "aws-1".into();
        context.deadline = now_ms() + 10_000;
        LambdaEvent::new(payload, context)
    }

    #[test]
    fn concurrency_is_the_platforms_number_or_one() {
        assert_eq!(concurrency_from(None), 1);
        assert_eq!(concurrency_from(Some("16")), 16);
        assert_eq!(concurrency_from(Some(" 4 ")), 4);
        assert_eq!(concurrency_from(Some("0")), 1);
        assert_eq!(concurrency_from(Some("many")), 1);
    }

    #[test]
    fn a_cold_start_is_one_emf_count_by_function() {
        let document: serde_json::Value = serde_json::from_str(&cold_start_emf("retrieve", 1_700_000_000_000)).unwrap();
        assert_eq!(document["ColdStart"], 1);
        assert_eq!(document["function"], "retrieve");
        let emf = &document["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(emf["Namespace"], METRICS_NAMESPACE);
        assert_eq!(emf["Dimensions"], json!([["function"]]));
        assert_eq!(emf["Metrics"][0], json!({"Name": "ColdStart", "Unit": "Count"}));
        assert_eq!(document["_aws"]["Timestamp"], 1_700_000_000_000_u64);
    }

    #[tokio::test]
    async fn a_good_call_answers_in_the_output_envelope() {
        let payload = json!({"request_id": "turn-1", "deadline_unix_ms": now_ms() + 5_000, "input": {"text": "hi"}});
        let response = handle(&Echo, event(payload)).await.unwrap();
        assert_eq!(serde_json::to_value(response).unwrap(), json!({"output": "turn-1:hi"}));
    }

    #[tokio::test]
    async fn failures_carry_their_design_error_type() {
        let bad = json!({"request_id": "turn-1", "deadline_unix_ms": now_ms() + 5_000, "input": {}});
        assert_eq!(handle(&Echo, event(bad)).await.unwrap_err().error_type, "InvalidInput");
        let late = json!({"request_id": "turn-1", "deadline_unix_ms": 1, "input": {"text": "hi"}});
        assert_eq!(handle(&Echo, event(late)).await.unwrap_err().error_type, "Timeout");
        let down = json!({"request_id": "turn-1", "deadline_unix_ms": now_ms() + 5_000, "input": {"text": "fail"}});
        assert_eq!(
            handle(&Echo, event(down)).await.unwrap_err().error_type,
            "DependencyUnavailable"
        );
    }
}
