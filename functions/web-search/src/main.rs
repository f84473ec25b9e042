//! The web-search Lambda: wiring only; the behaviour lives in the library.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    navigator_lambda::init(<web_search::WebSearch as navigator_lambda::Tool>::NAME)?;
    navigator_lambda::run_tool(web_search::WebSearch).await
}
