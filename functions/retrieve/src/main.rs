//! The retrieve Lambda: wiring only; the behaviour lives in the library.

// The store and embedder futures nest deeply; the compiler's default layout depth is too shallow for them.
#![recursion_limit = "256"]

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let budgets = navigator_lambda::init("retrieve")?;
    let tool = retrieve::Retrieve::from_env(&budgets).await?;
    navigator_lambda::run_tool(tool).await
}
