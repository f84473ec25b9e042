//! The translate Lambda: wiring only; the behaviour lives in the library.

#![recursion_limit = "256"]

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let budgets = navigator_lambda::init(<translate::Translate as navigator_lambda::Tool>::NAME)?;
    let secrets = navigator_platform::secrets::SecretStore::from_env();
    let tool = translate::Translate::from_env(&budgets.translate, &secrets).await?;
    navigator_lambda::run_tool(tool).await
}
