//! The orchestrator Lambda: wiring only; the chat API lives in the library.

use std::sync::Arc;

#[global_allocator]
static ALLOCATOR: cap::Cap<mimalloc::MiMalloc> = cap::Cap::new(mimalloc::MiMalloc, usize::MAX);

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    navigator_platform::telemetry::count_heap_with(|| ALLOCATOR.allocated());
    let settings = navigator_lambda::init(orchestrator::FUNCTION)?;
    let navigator = orchestrator::lambda_navigator(&settings).await?;
    let documents: Arc<dyn orchestrator::Documents> = match orchestrator::LambdaDocuments::from_env().await {
        Some(documents) => Arc::new(documents),
        None => Arc::new(orchestrator::NoDocuments),
    };
    let state = Arc::new(orchestrator::AppState {
        budgets: settings.budgets,
        navigator,
        documents,
    });
    // One invocation at a time on classic Lambda; AWS_LAMBDA_MAX_CONCURRENCY at once on Lambda Managed Instances.
    lambda_http::run_concurrent(orchestrator::lambda_concurrent_service(state)).await
}
