//! The web-search Lambda: wiring only; the behaviour lives in the library.

#![recursion_limit = "256"]

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let budgets = navigator_lambda::init(<web_search::WebSearch as navigator_lambda::Tool>::NAME)?;
    let tool = web_search::WebSearch::from_env(&budgets.web_search, budgets.retrieve.http_keepalive).await?;
    navigator_lambda::run_tool(tool).await
}
