//! The guard Lambda: wiring only; the behaviour lives in the library.

#![recursion_limit = "256"]

use guard::Guard;
use navigator_lambda::Tool;

#[global_allocator]
static ALLOCATOR: cap::Cap<mimalloc::MiMalloc> = cap::Cap::new(mimalloc::MiMalloc, usize::MAX);

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    navigator_platform::telemetry::count_heap_with(|| ALLOCATOR.allocated());
    let settings = navigator_lambda::init(Guard::NAME.function_name())?;
    let guard = Guard::from_config(&settings.budgets.guard, settings.providers.guard_ml).await?;
    navigator_lambda::run_tool(guard).await
}
