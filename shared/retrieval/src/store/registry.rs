//! What a member sees of their documents: each document's owner, status (`pending | ingesting | ready | failed`),
//! the reason it failed, and its size once cut. The `DocumentRegistry` port is served by both chunk stores, from the
//! same `documents` rows the search reads, so a listing and a search can never disagree.

use navigator_platform::NavigatorError;
pub use navigator_platform::documents::{DocumentInfo, DocumentStatus};
use navigator_platform::owner::{Owner, Readers};
use std::future::Future;
use uuid::Uuid;

/// An upload a member was given a place for: it is `pending` until its bytes are ingested.
#[derive(Debug, Clone)]
pub struct Upload {
    pub document_id: Uuid,
    pub owner: Owner,
    pub file_name: String,
}

/// A document's size once cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocumentSize {
    pub pages: u32,
    pub chunks: u32,
}

/// The document registry port.
pub trait DocumentRegistry: Send + Sync {
    /// Records an upload as `pending`. Returns false when the id is already taken (nothing changes).
    fn register_upload(&self, upload: &Upload) -> impl Future<Output = Result<bool, NavigatorError>> + Send;
    /// One document, whoever owns it: callers check `Readers::may_read` before showing it.
    fn document(&self, document_id: Uuid) -> impl Future<Output = Result<Option<DocumentInfo>, NavigatorError>> + Send;
    /// Every document these readers may read, newest first.
    fn documents(&self, readers: &Readers) -> impl Future<Output = Result<Vec<DocumentInfo>, NavigatorError>> + Send;
    /// Marks a document `failed` with a reason and removes any chunk of it, so nothing of it is ever searchable.
    /// A document that does not exist yet is recorded as failed.
    fn fail_document(
        &self,
        document_id: Uuid,
        owner: &Owner,
        file_name: &str,
        reason: &str,
    ) -> impl Future<Output = Result<(), NavigatorError>> + Send;
    /// Removes a document and its chunks. Returns whether it existed.
    fn delete_document(&self, document_id: Uuid) -> impl Future<Output = Result<bool, NavigatorError>> + Send;
}
