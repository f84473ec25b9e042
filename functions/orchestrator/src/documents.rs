//! The `Documents` port: what the member API (`POST`, `GET /v1/documents`, `DELETE /v1/documents/{id}`) needs from
//! wherever documents live. `navigator serve` hosts it over the local store and data directory; a deployment without
//! one answers every call with a typed refusal that says so.

use futures_util::future::BoxFuture;
use navigator_platform::NavigatorError;
use navigator_platform::documents::{CreateUpload, DocumentInfo, UploadTicket};
use navigator_platform::owner::{Owner, Readers};
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

#[cfg(test)]
mod tests {
    use super::*;
    use navigator_platform::documents::DocumentStatus;
    use navigator_platform::owner::PlanId;

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
        let plan = PlanId::parse("plan-a").unwrap();
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
        let other_plan = Owner::Plan(PlanId::parse("plan-b").unwrap());
        assert_eq!(
            may_delete(&me, Some(&document(other_plan)), id)
                .unwrap_err()
                .http_status(),
            404
        );
    }
}
