//! The `Documents` port: what the member API (`POST`, `GET /v1/documents`, `DELETE /v1/documents/{id}`) needs from
//! wherever documents live. On AWS, [`LambdaDocuments`] asks the ingest function (in the VPC, beside the database
//! and the uploads bucket) in the tool envelope; `navigator serve` hosts it over the local store and data directory;
//! a deployment without either answers every call with a typed refusal that says so.

use futures_util::future::BoxFuture;
use navigator_platform::NavigatorError;
use navigator_platform::documents::{CreateUpload, DocumentInfo, DocumentList, DocumentsInput, UploadTicket};
use navigator_platform::envelope::ToolRequest;
use navigator_platform::owner::Readers;
use navigator_resilience::Deadline;
use serde::de::DeserializeOwned;
use std::time::Duration;
use uuid::Uuid;

use crate::tools::lambda_invoke::invoke_function;

/// A member's documents.
pub trait Documents: Send + Sync {
    /// Registers a `pending` upload in the member's own space and says where to send its bytes.
    fn create_upload<'a>(
        &'a self,
        readers: &'a Readers,
        request: CreateUpload,
    ) -> BoxFuture<'a, Result<UploadTicket, NavigatorError>>;
    /// Every document the member may read: their plan's and their own.
    fn list<'a>(&'a self, readers: &'a Readers) -> BoxFuture<'a, Result<Vec<DocumentInfo>, NavigatorError>>;
    /// Removes one of the member's own documents: its chunks, its file and every cached result that read it.
    fn delete<'a>(&'a self, readers: &'a Readers, document_id: Uuid) -> BoxFuture<'a, Result<(), NavigatorError>>;
}

/// No document store here: every call says so.
pub struct NoDocuments;

impl NoDocuments {
    fn refusal() -> NavigatorError {
        NavigatorError::unavailable("documents", "no document store is configured for this deployment")
    }
}

impl Documents for NoDocuments {
    fn create_upload<'a>(
        &'a self,
        _: &'a Readers,
        _: CreateUpload,
    ) -> BoxFuture<'a, Result<UploadTicket, NavigatorError>> {
        Box::pin(async { Err(Self::refusal()) })
    }

    fn list<'a>(&'a self, _: &'a Readers) -> BoxFuture<'a, Result<Vec<DocumentInfo>, NavigatorError>> {
        Box::pin(async { Err(Self::refusal()) })
    }

    fn delete<'a>(&'a self, _: &'a Readers, _: Uuid) -> BoxFuture<'a, Result<(), NavigatorError>> {
        Box::pin(async { Err(Self::refusal()) })
    }
}

/// The orchestrator's environment variable naming the function that keeps documents.
pub const DOCUMENTS_FUNCTION: &str = "DOCUMENTS_FUNCTION";
/// How long one documents call may take: they are single-row reads and writes and one presigning.
const CALL_BUDGET: Duration = Duration::from_secs(5);

/// The documents actions, answered by the ingest function through Lambda `Invoke`.
pub struct LambdaDocuments {
    client: aws_sdk_lambda::Client,
    function: String,
}

impl LambdaDocuments {
    /// From `DOCUMENTS_FUNCTION`, if it names a function.
    pub async fn from_env() -> Option<Self> {
        let function = std::env::var(DOCUMENTS_FUNCTION)
            .ok()
            .filter(|f| !f.trim().is_empty())?;
        let shared = navigator_platform::aws::load().await;
        Some(Self::new(aws_sdk_lambda::Client::new(&shared), function.trim()))
    }

    pub fn new(client: aws_sdk_lambda::Client, function: impl Into<String>) -> Self {
        Self {
            client,
            function: function.into(),
        }
    }

    async fn ask<T: DeserializeOwned>(&self, readers: &Readers, input: DocumentsInput) -> Result<T, NavigatorError> {
        let deadline = Deadline::after(CALL_BUDGET);
        let request = ToolRequest::new(Uuid::new_v4().to_string(), deadline, Some(readers), input);
        let payload = serde_json::to_vec(&request).map_err(NavigatorError::internal)?;
        let output = deadline
            .run(invoke_function(&self.client, "documents", &self.function, payload))
            .await
            .map_err(|_| NavigatorError::timeout("documents"))??;
        serde_json::from_value(output)
            .map_err(|e| NavigatorError::unavailable("documents", format!("malformed answer: {e}")))
    }
}

impl Documents for LambdaDocuments {
    fn create_upload<'a>(
        &'a self,
        readers: &'a Readers,
        request: CreateUpload,
    ) -> BoxFuture<'a, Result<UploadTicket, NavigatorError>> {
        Box::pin(self.ask(readers, DocumentsInput::CreateUpload { upload: request }))
    }

    fn list<'a>(&'a self, readers: &'a Readers) -> BoxFuture<'a, Result<Vec<DocumentInfo>, NavigatorError>> {
        Box::pin(async move {
            let list: DocumentList = self.ask(readers, DocumentsInput::List).await?;
            Ok(list.documents)
        })
    }

    fn delete<'a>(&'a self, readers: &'a Readers, document_id: Uuid) -> BoxFuture<'a, Result<(), NavigatorError>> {
        Box::pin(async move {
            let _: serde_json::Value = self.ask(readers, DocumentsInput::Delete { document_id }).await?;
            Ok(())
        })
    }
}
