//! The retrieve Lambda: wiring only; the behaviour lives in the library.

// The store and embedder futures nest deeply; the compiler's default layout depth is too shallow for them.
#![recursion_limit = "256"]

use navigator_lambda::Tool;
use retrieve::Retrieve;

#[global_allocator]
static ALLOCATOR: cap::Cap<mimalloc::MiMalloc> = cap::Cap::new(mimalloc::MiMalloc, usize::MAX);

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    navigator_platform::telemetry::count_heap_with(|| ALLOCATOR.allocated());
    let settings = navigator_lambda::init(<Retrieve as Tool>::NAME.function_name())?;
    let tool = Retrieve::from_config(&settings).await?;
    navigator_lambda::run_tool(tool).await
}
