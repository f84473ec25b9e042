//! The guard Lambda: wiring only; the behaviour lives in the library.

#![recursion_limit = "256"]

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let budgets = navigator_lambda::init(<guard::Guard as navigator_lambda::Tool>::NAME)?;
    let guard = guard::Guard::from_env(&budgets.guard).await?;
    navigator_lambda::run_tool(guard).await
}
