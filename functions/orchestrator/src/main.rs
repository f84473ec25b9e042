//! The orchestrator Lambda: wiring only; the chat API lives in the library.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let budgets = navigator_lambda::init(orchestrator::FUNCTION)?;
    lambda_http::run(orchestrator::lambda::service(budgets)).await
}
