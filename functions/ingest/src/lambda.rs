//! The Lambda edge: which kind of event arrived, under which deadline, and what Lambda gets back. An S3 notification
//! carries `Records`; anything else must be a documents action in the tool envelope.

use aws_lambda_events::event::s3::S3Event;
use lambda_runtime::{Diagnostic, LambdaEvent};
use navigator_platform::NavigatorError;
use navigator_platform::documents::DocumentsInput;
use navigator_platform::envelope::{ToolResponse, parse_invocation};
use navigator_platform::telemetry::invocation_span;
use navigator_resilience::Deadline;
use navigator_retrieval::embed::Embedder;
use navigator_retrieval::store::{ChunkStore, DocumentRegistry};
use std::time::Duration;
use tracing::Instrument;

use crate::{FUNCTION, Ingest};

/// The budget of an S3 event when the runtime gives no deadline (`cargo lambda watch` without one).
const DEFAULT_EVENT_BUDGET: Duration = Duration::from_secs(300);

/// One invocation, from raw payload to a JSON answer or a typed Lambda error.
pub async fn handle<E: Embedder, S: ChunkStore + DocumentRegistry>(
    ingest: &Ingest<E, S>,
    event: LambdaEvent<serde_json::Value>,
) -> Result<serde_json::Value, Diagnostic> {
    let (payload, context) = event.into_parts();
    let span = invocation_span(FUNCTION, &context.request_id, context.xray_trace_id.as_deref());
    let lambda_deadline = navigator_lambda::lambda_deadline(context.deadline);
    let result = async {
        if payload.get("Records").is_some() {
            let event: S3Event =
                serde_json::from_value(payload).map_err(|e| NavigatorError::invalid(format!("S3 event: {e}")))?;
            let deadline = lambda_deadline.unwrap_or_else(|| Deadline::after(DEFAULT_EVENT_BUDGET));
            let outcomes = ingest.on_s3_event(event, deadline).await?;
            let records = serde_json::to_value(outcomes).map_err(NavigatorError::internal)?;
            Ok(serde_json::json!({ "records": records }))
        } else {
            let mut invocation = parse_invocation::<DocumentsInput>(payload)?;
            tracing::Span::current().record("request_id", invocation.request_id.as_str());
            if let Some(deadline) = lambda_deadline {
                invocation.deadline = invocation.deadline.min(deadline);
            }
            let deadline = invocation.deadline;
            let output = deadline
                .run(ingest.on_documents(invocation))
                .await
                .map_err(|_| NavigatorError::timeout("documents"))??;
            serde_json::to_value(ToolResponse { output }).map_err(NavigatorError::internal)
        }
    }
    .instrument(span)
    .await;
    navigator_lambda::flush_metrics(FUNCTION);
    result.map_err(|error| {
        tracing::warn!(outcome = error.error_type(), "invocation failed");
        Diagnostic {
            error_type: error.error_type().to_string(),
            error_message: error.to_string(),
        }
    })
}
