//! The orchestrator Lambda: wiring only; the chat API lives in the library.

use std::sync::Arc;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let budgets = navigator_lambda::init(orchestrator::FUNCTION)?;
    let navigator = orchestrator::setup::lambda_navigator(&budgets).await?;
    let state = Arc::new(orchestrator::api::AppState { budgets, navigator });
    lambda_http::run(orchestrator::lambda::service(state)).await
}
