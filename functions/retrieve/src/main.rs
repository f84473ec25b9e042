//! The retrieve Lambda: wiring only; the behaviour lives in the library.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    navigator_lambda::init(<retrieve::Retrieve as navigator_lambda::Tool>::NAME)?;
    navigator_lambda::run_tool(retrieve::Retrieve).await
}
