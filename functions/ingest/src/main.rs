//! The ingest Lambda: wiring only; the behaviour lives in the library.

// The store and embedder futures nest deeply; the compiler's default layout depth is too shallow for them.
#![recursion_limit = "256"]

use ingest::{FUNCTION, Ingest};
use lambda_runtime::{LambdaEvent, service_fn};
use navigator_platform::secrets::SecretStore;
use navigator_retrieval::document::isolated::{self, ReaderProgram};
use navigator_retrieval::document::upload::UploadLimits;
use std::sync::Arc;

#[global_allocator]
static ALLOCATOR: cap::Cap<mimalloc::MiMalloc> = cap::Cap::new(mimalloc::MiMalloc, usize::MAX);

fn main() -> Result<(), lambda_runtime::Error> {
    navigator_platform::telemetry::count_heap_with(|| ALLOCATOR.allocated());
    // A child started to read one uploaded file does that and exits, before a runtime starts threads: under the
    // reader's memory limit each worker thread's stack would count against what the file may use.
    isolated::serve_if_asked();
    tokio::runtime::Runtime::new()?.block_on(run())
}

async fn run() -> Result<(), lambda_runtime::Error> {
    let settings = navigator_lambda::init(FUNCTION)?;
    let retriever = navigator_retrieval::setup::from_config(&settings, &SecretStore::from_env()).await?;
    let bucket = ingest::bucket::UploadsBucket::from_env().await?;
    let reader = ReaderProgram::this_binary()?;
    // One upload at a time on classic Lambda; AWS_LAMBDA_MAX_CONCURRENCY at once on Lambda Managed Instances, each
    // read in a child process of its own under the upload limits.
    let ingest = Arc::new(Ingest::new(retriever, bucket, reader, UploadLimits::default()));
    lambda_runtime::run_concurrent(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let ingest = Arc::clone(&ingest);
        async move { ingest::lambda::handle(&ingest, event).await }
    }))
    .await
}
