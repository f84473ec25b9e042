//! The translate Lambda: wiring only; the behaviour lives in the library.

#![recursion_limit = "256"]

use navigator_lambda::Tool;
use navigator_platform::secrets::SecretStore;
use translate::Translate;

#[global_allocator]
static ALLOCATOR: cap::Cap<mimalloc::MiMalloc> = cap::Cap::new(mimalloc::MiMalloc, usize::MAX);

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    navigator_platform::telemetry::count_heap_with(|| ALLOCATOR.allocated());
    let settings = navigator_lambda::init(Translate::NAME.function_name())?;
    let chosen = &settings.providers.translate;
    let tool = Translate::from_config(&settings.budgets.translate, chosen, &SecretStore::from_env()).await?;
    navigator_lambda::run_tool(tool).await
}
