//! The member API's documents (`POST`, `GET /v1/documents`, `DELETE /v1/documents/{id}`): what a member may upload,
//! the upload they are given, and what they see of each document they can read.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::NavigatorError;
use crate::owner::{Owner, Readers};

/// The largest file a member may upload.
pub const MAX_UPLOAD_BYTES: u64 = 25 * 1024 * 1024;
/// The longest file name kept.
pub const MAX_FILE_NAME_BYTES: usize = 200;
/// How long an upload's address stays valid.
pub const UPLOAD_EXPIRES_SECS: u64 = 900;

/// Where a document stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DocumentInfo {
    pub document_id: Uuid,
    /// Whose it is: `plan` (the member's plan's) or `member` (their own).
    #[serde(serialize_with = "owner_kind", deserialize_with = "owner_from_kind")]
    #[schema(value_type = OwnerKind)]
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

/// How a listing names a document's owner (the schema of `DocumentInfo.owner`).
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)] // describes the wire format; `owner_kind` writes it
enum OwnerKind {
    Plan,
    Member,
}

/// A listing says whose a document is (`plan` or `member`), never another member's id.
fn owner_kind<S: serde::Serializer>(owner: &Owner, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(owner.kind())
}

/// A listing read back (the orchestrator reading the ingest function's answer) keeps the kind only: the owner is
/// `Owner::Member(nil)` or `Owner::Plan("plan")`, for display, never for a decision.
fn owner_from_kind<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Owner, D::Error> {
    match String::deserialize(deserializer)?.as_str() {
        "member" => Ok(Owner::Member(Uuid::nil())),
        "plan" => crate::owner::PlanId::parse("plan")
            .map(Owner::Plan)
            .map_err(serde::de::Error::custom),
        other => Err(serde::de::Error::custom(format!("unknown owner kind {other:?}"))),
    }
}

/// A file name as kept: no directory parts, no control characters, not `.` or `..`, at most
/// [`MAX_FILE_NAME_BYTES`]. Anything else is refused rather than cleaned, so a member sees the name they gave.
pub fn check_file_name(name: &str) -> Result<&str, NavigatorError> {
    let bad = name.is_empty()
        || name.len() > MAX_FILE_NAME_BYTES
        || name == "."
        || name == ".."
        || name.chars().any(|c| c == '/' || c == '\\' || c.is_control());
    if bad {
        Err(NavigatorError::invalid(format!(
            "file_name must be 1 to {MAX_FILE_NAME_BYTES} bytes with no path separators or control characters"
        )))
    } else {
        Ok(name)
    }
}

/// The content type a file name's extension stands for: PDF, Markdown or text, nothing else.
pub fn content_type_for(file_name: &str) -> Option<&'static str> {
    let extension = file_name.rsplit_once('.')?.1.to_ascii_lowercase();
    match extension.as_str() {
        "pdf" => Some("application/pdf"),
        "md" | "markdown" => Some("text/markdown"),
        "txt" | "text" => Some("text/plain"),
        _ => None,
    }
}

/// `POST /v1/documents`: the file a member is about to upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"file_name": "dental rider.pdf", "content_type": "application/pdf", "size_bytes": 48213}))]
#[serde(deny_unknown_fields)]
pub struct CreateUpload {
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: u64,
}

impl CreateUpload {
    pub fn parse(body: &[u8]) -> Result<Self, NavigatorError> {
        let upload: Self = serde_json::from_slice(body).map_err(|e| NavigatorError::invalid(e.to_string()))?;
        upload.validate()?;
        Ok(upload)
    }

    pub fn validate(&self) -> Result<(), NavigatorError> {
        check_file_name(&self.file_name)?;
        let Some(expected) = content_type_for(&self.file_name) else {
            return Err(NavigatorError::invalid(
                "file_name must end in .pdf, .md, .markdown, .txt or .text: PDF, Markdown or text files only",
            ));
        };
        if self.content_type != expected {
            return Err(NavigatorError::invalid(format!(
                "content_type must be {expected} for {}",
                self.file_name
            )));
        }
        if self.size_bytes == 0 || self.size_bytes > MAX_UPLOAD_BYTES {
            return Err(NavigatorError::invalid(format!(
                "size_bytes must be 1 to {MAX_UPLOAD_BYTES}"
            )));
        }
        Ok(())
    }
}

/// Where and how to send the file's bytes: one request, exactly as described.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UploadRequest {
    pub method: String,
    pub url: String,
    /// Headers the request must carry, exactly (the content type and length are part of what was signed).
    pub headers: std::collections::BTreeMap<String, String>,
    pub expires_in_secs: u64,
}

/// `201` to `POST /v1/documents`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UploadTicket {
    pub document_id: Uuid,
    pub status: DocumentStatus,
    pub upload: UploadRequest,
}

/// What the orchestrator asks of the function that keeps documents (the ingest function on AWS), in the tool
/// envelope whose `user_id` and `plan_id` say whose documents they are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum DocumentsInput {
    /// Answered with an [`UploadTicket`].
    CreateUpload { upload: CreateUpload },
    /// Answered with a [`DocumentList`].
    List,
    /// Answered with `{"deleted": document_id}`.
    Delete { document_id: Uuid },
}

impl crate::envelope::ValidInput for DocumentsInput {
    fn validate(&self) -> Result<(), NavigatorError> {
        match self {
            Self::CreateUpload { upload } => upload.validate(),
            Self::List | Self::Delete { .. } => Ok(()),
        }
    }
}

/// What a member may delete: their own documents. Another member's is not found (its existence is not theirs to
/// learn); their plan's is forbidden.
pub fn may_delete(readers: &Readers, document: Option<&DocumentInfo>, document_id: Uuid) -> Result<(), NavigatorError> {
    let not_found = || NavigatorError::NotFound(format!("no document {document_id}"));
    let document = document.ok_or_else(not_found)?;
    if !readers.may_read(&document.owner) {
        return Err(not_found());
    }
    match document.owner {
        Owner::Member(_) => Ok(()),
        Owner::Plan(_) => Err(NavigatorError::Forbidden(
            "this document belongs to your plan; only the plan can remove it".into(),
        )),
    }
}

/// `200` to `GET /v1/documents`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DocumentList {
    pub documents: Vec<DocumentInfo>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn an_upload_request_names_a_safe_file_of_a_known_type_and_size() {
        let ok = |name: &str, kind: &str, size: u64| {
            CreateUpload {
                file_name: name.into(),
                content_type: kind.into(),
                size_bytes: size,
            }
            .validate()
        };
        assert!(ok("plan.pdf", "application/pdf", 10).is_ok());
        assert!(ok("notes.MD", "text/markdown", 10).is_ok());
        assert!(ok("plan.pdf", "text/plain", 10).is_err(), "type and name disagree");
        assert!(ok("plan.exe", "application/octet-stream", 10).is_err());
        assert!(ok("../plan.pdf", "application/pdf", 10).is_err());
        assert!(ok("plan.pdf", "application/pdf", 0).is_err());
        assert!(ok("plan.pdf", "application/pdf", MAX_UPLOAD_BYTES + 1).is_err());
        let error = CreateUpload::parse(
            br#"{"file_name": "a.pdf", "content_type": "application/pdf", "size_bytes": 1, "owner": "x"}"#,
        )
        .unwrap_err();
        assert!(error.to_string().contains("unknown field"), "{error}");
    }

    fn document(owner: Owner) -> DocumentInfo {
        DocumentInfo {
            document_id: Uuid::from_u128(5),
            owner,
            title: "t".into(),
            file_name: None,
            status: DocumentStatus::Ready,
            reason: None,
            pages: Some(1),
            chunks: Some(1),
        }
    }

    #[test]
    fn a_member_deletes_their_own_documents_only() {
        let plan = crate::owner::PlanId::parse("plan-a").unwrap();
        let me = Readers::new(Uuid::from_u128(1), Some(plan.clone()));
        let id = Uuid::from_u128(5);
        assert!(may_delete(&me, Some(&document(Owner::Member(me.member))), id).is_ok());
        let other = may_delete(&me, Some(&document(Owner::Member(Uuid::from_u128(2)))), id).unwrap_err();
        assert_eq!(
            other.http_status(),
            404,
            "another member's document is not theirs to know of"
        );
        assert_eq!(may_delete(&me, None, id).unwrap_err().http_status(), 404);
        let plans = may_delete(&me, Some(&document(Owner::Plan(plan))), id).unwrap_err();
        assert_eq!(plans.http_status(), 403);
        let other_plan = Owner::Plan(crate::owner::PlanId::parse("plan-b").unwrap());
        assert_eq!(
            may_delete(&me, Some(&document(other_plan)), id)
                .unwrap_err()
                .http_status(),
            404
        );
    }

    #[test]
    fn the_documents_actions_read_as_tagged_json() {
        let list: DocumentsInput = serde_json::from_str(r#"{"action": "list"}"#).unwrap();
        assert_eq!(list, DocumentsInput::List);
        let delete: DocumentsInput =
            serde_json::from_value(serde_json::json!({"action": "delete", "document_id": Uuid::from_u128(3)})).unwrap();
        assert_eq!(
            delete,
            DocumentsInput::Delete {
                document_id: Uuid::from_u128(3)
            }
        );
        assert!(serde_json::from_str::<DocumentsInput>(r#"{"action": "drop_table"}"#).is_err());
    }

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
