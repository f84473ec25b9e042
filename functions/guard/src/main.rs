//! The guard Lambda: wiring only; the behaviour lives in the library.

#![recursion_limit = "256"]

use guard::Guard;
use navigator_lambda::Tool;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let settings = navigator_lambda::init(Guard::NAME.function_name())?;
    let guard = Guard::from_config(&settings.budgets.guard, settings.providers.guard_ml).await?;
    navigator_lambda::run_tool(guard).await
}
