//! The translate Lambda: wiring only; the behaviour lives in the library.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    navigator_lambda::init(<translate::Translate as navigator_lambda::Tool>::NAME)?;
    navigator_lambda::run_tool(translate::Translate).await
}
