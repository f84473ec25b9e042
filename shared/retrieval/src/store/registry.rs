//! What a member sees of their documents: each document's owner, status (`pending | ingesting | ready | failed`),
//! the reason it failed, and its size once cut. The `DocumentRegistry` port is served by both chunk stores, from the
//! same `documents` rows the search reads, so a listing and a search can never disagree.

use navigator_platform::NavigatorError;
use navigator_platform::owner::{Owner, Readers};
use serde::Serialize;
use std::future::Future;
use uuid::Uuid;

/// Where a document stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentStatus {
    /// Upload issued; its bytes have not been read yet.
    Pending,
    /// Being extracted, cut and embedded.
    Ingesting,
    /// Searchable.
    Ready,
    /// Never searchable; `reason` says why.
    Failed,
}

impl DocumentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Ingesting => "ingesting",
            Self::Ready => "ready",
            Self::Failed => "failed",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, NavigatorError> {
        Ok(match raw {
            "pending" => Self::Pending,
            "ingesting" => Self::Ingesting,
            "ready" => Self::Ready,
            "failed" => Self::Failed,
            other => return Err(NavigatorError::internal(format!("unknown document status {other:?}"))),
        })
    }
}

/// One document as its reader sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocumentInfo {
    pub document_id: Uuid,
    #[serde(serialize_with = "owner_kind")]
    pub owner: Owner,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    pub status: DocumentStatus,
    /// Why it failed, in words the member can act on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pages: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunks: Option<u32>,
}

/// A listing says whose a document is (`plan` or `member`), never another member's id.
fn owner_kind<S: serde::Serializer>(owner: &Owner, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(owner.kind())
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_and_a_listing_names_the_owner_kind_only() {
        for status in [
            DocumentStatus::Pending,
            DocumentStatus::Ingesting,
            DocumentStatus::Ready,
            DocumentStatus::Failed,
        ] {
            assert_eq!(DocumentStatus::parse(status.as_str()).unwrap(), status);
        }
        assert!(DocumentStatus::parse("done").is_err());
        let member = Uuid::from_u128(9);
        let info = DocumentInfo {
            document_id: Uuid::from_u128(1),
            owner: Owner::Member(member),
            title: "t".into(),
            file_name: None,
            status: DocumentStatus::Failed,
            reason: Some("zero bytes".into()),
            pages: None,
            chunks: None,
        };
        let json = serde_json::to_value(&info).unwrap();
        assert_eq!(json["owner"], "member");
        assert_eq!(json["status"], "failed");
        assert!(!json.to_string().contains(&member.to_string()));
    }
}
