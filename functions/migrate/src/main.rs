//! The migrate Lambda (a CloudFormation custom resource): wiring only; the behaviour lives in the library.

// The database futures nest deeply; the compiler's default layout depth is too shallow for them.
#![recursion_limit = "256"]

use lambda_runtime::{LambdaEvent, service_fn};
use navigator_platform::secrets::SecretStore;
use navigator_resilience::Deadline;
use std::time::Duration;

#[global_allocator]
static ALLOCATOR: cap::Cap<mimalloc::MiMalloc> = cap::Cap::new(mimalloc::MiMalloc, usize::MAX);

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    navigator_platform::telemetry::count_heap_with(|| ALLOCATOR.allocated());
    navigator_lambda::init(migrate::FUNCTION)?;
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .build()?;
    let secrets = std::sync::Arc::new(SecretStore::from_env());
    // CloudFormation sends one request per stack operation; run_concurrent only so every function starts the same way.
    lambda_runtime::run_concurrent(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let (http, secrets) = (http.clone(), std::sync::Arc::clone(&secrets));
        async move {
            let deadline = navigator_lambda::lambda_deadline(event.context.deadline)
                .unwrap_or_else(|| Deadline::after(Duration::from_secs(300)));
            let answer = migrate::handle(&http, event.payload, deadline, || migrate::apply_migrations(&secrets)).await;
            navigator_lambda::flush_metrics(migrate::FUNCTION);
            answer.map_err(|error| lambda_runtime::Diagnostic {
                error_type: error.error_type().to_string(),
                error_message: error.to_string(),
            })
        }
    }))
    .await
}
