//! The `Documents` port: what the member API (`POST`, `GET /v1/documents`, `DELETE /v1/documents/{id}`) needs from
//! wherever documents live. `navigator serve` hosts it over the local store and data directory; a deployment without
//! one answers every call with a typed refusal that says so.

use futures_util::future::BoxFuture;
use navigator_platform::NavigatorError;
use navigator_platform::documents::{CreateUpload, DocumentInfo, UploadTicket};
use navigator_platform::owner::Readers;
use uuid::Uuid;

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
