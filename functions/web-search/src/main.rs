//! The web-search Lambda: wiring only; the behaviour lives in the library.

#![recursion_limit = "256"]

use navigator_lambda::Tool;
use web_search::WebSearch;

#[global_allocator]
static ALLOCATOR: cap::Cap<mimalloc::MiMalloc> = cap::Cap::new(mimalloc::MiMalloc, usize::MAX);

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    navigator_platform::telemetry::count_heap_with(|| ALLOCATOR.allocated());
    let settings = navigator_lambda::init(WebSearch::NAME.function_name())?;
    let tool = WebSearch::from_env(&settings.budgets.web_search).await?;
    navigator_lambda::run_tool(tool).await
}
