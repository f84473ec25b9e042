//! One uploaded file, start to end: checked and read in a child process ([`crate::document::isolated`], under the
//! checks of [`crate::document::upload`]), then ingested, or recorded as `failed` with a reason the member can read. The ingest function (an S3 upload) and `navigator serve` (a local upload) both
//! take files in through here, so a bad file ends the same way everywhere, and nothing of it is ever searchable.

use navigator_platform::NavigatorError;
use navigator_platform::owner::Owner;
use uuid::Uuid;

use crate::document::isolated::{self, ReaderProgram};
use crate::document::sha256_hex;
use crate::document::upload::{UploadLimits, check_file_name};
use crate::embed::Embedder;
use crate::ingest::{IngestReport, document_id, ingest, ingest_upload};
use crate::retriever::Retriever;
use crate::store::{ChunkStore, DocumentRegistry};

/// Where an uploaded file belongs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    pub owner: Owner,
    /// The id issued for a member's upload; a plan's file takes the id derived from the plan and its bytes.
    pub document_id: Option<Uuid>,
    pub file_name: String,
}

/// What became of the file.
#[derive(Debug, Clone)]
pub enum Intake {
    /// Searchable (or already was: `report.already_ready`).
    Ready(IngestReport),
    /// Refused; the document is `failed` with this reason.
    Failed { document_id: Uuid, reason: String },
}

/// Takes one file in. A refusal is not an error: the document ends `failed` with its reason. An error (the database
/// or the embedder failing) leaves the document for a retry and is returned, so the caller's retry runs it again.
pub async fn take_in<E: Embedder, S: ChunkStore + DocumentRegistry>(
    retriever: &Retriever<E, S>,
    reader: &ReaderProgram,
    destination: &Destination,
    bytes: &[u8],
    limits: &UploadLimits,
) -> Result<Intake, NavigatorError> {
    let document_id = destination
        .document_id
        .unwrap_or_else(|| document_id(&destination.owner, &sha256_hex(bytes)));
    // The name is checked here too: it goes into the child's environment.
    if let Err(rejection) = check_file_name(&destination.file_name) {
        return fail(retriever, destination, document_id, &rejection.reason()).await;
    }
    let checked = isolated::read(reader, &destination.file_name, bytes, limits).await?;
    let source = match checked {
        Ok(source) => source,
        Err(rejection) => return fail(retriever, destination, document_id, &rejection.reason()).await,
    };
    let store = retriever.store();
    let report = match destination.document_id {
        Some(id) => ingest_upload(retriever.embedder(), store, &destination.owner, id, &source, |_, _| {}).await,
        None => ingest(retriever.embedder(), store, &destination.owner, &source, |_, _| {}).await,
    };
    retriever.invalidate_owner(&destination.owner);
    let report = report?;
    if let Some(original) = report.duplicate_of {
        let reason = format!("the same file is already uploaded as document {original}");
        return fail(retriever, destination, report.document_id, &reason).await;
    }
    Ok(Intake::Ready(report))
}

async fn fail<E: Embedder, S: ChunkStore + DocumentRegistry>(
    retriever: &Retriever<E, S>,
    destination: &Destination,
    document_id: Uuid,
    reason: &str,
) -> Result<Intake, NavigatorError> {
    retriever
        .store()
        .fail_document(document_id, &destination.owner, &destination.file_name, reason)
        .await?;
    retriever.invalidate_owner(&destination.owner);
    Ok(Intake::Failed {
        document_id,
        reason: reason.to_string(),
    })
}
