//! The ingest function: plan documents in, and the member's documents API behind the orchestrator.
//!
//! It runs in the VPC beside the database and takes two kinds of event:
//! - an S3 `ObjectCreated` notification from the uploads bucket ([`keys`] says whose the file is): the file is
//!   read, checked in a child process, embedded with the configured provider and written through the RDS Proxy, or
//!   recorded as `failed` with a reason ([`navigator_retrieval::intake`]). S3 delivers at least once; a repeated event
//!   or the same bytes again changes nothing.
//! - a documents action in the tool envelope (`navigator_platform::documents::DocumentsInput`) from the orchestrator:
//!   an upload ticket (a presigned `PUT` into the member's own folder), the listing, or a deletion.

pub mod bucket;
pub mod keys;
pub mod lambda;

use aws_lambda_events::event::s3::S3Event;
use navigator_platform::NavigatorError;
use navigator_platform::documents::{
    DocumentList, DocumentStatus, DocumentsInput, UPLOAD_EXPIRES_SECS, UploadTicket, may_delete,
};
use navigator_platform::envelope::Invocation;
use navigator_platform::owner::{Owner, Readers};
use navigator_resilience::Deadline;
use navigator_retrieval::document::isolated::ReaderProgram;
use navigator_retrieval::document::upload::{Rejection, UploadLimits};
use navigator_retrieval::embed::Embedder;
use navigator_retrieval::intake::{Destination, Intake, take_in};
use navigator_retrieval::retriever::Retriever;
use navigator_retrieval::store::{ChunkStore, DocumentRegistry, Upload};
use serde::Serialize;
use std::time::Duration;
use uuid::Uuid;

use crate::bucket::{Read, UploadsBucket};

/// The function's name in logs and metrics.
pub const FUNCTION: &str = "ingest";

/// What one S3 record came to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordOutcome {
    pub key: String,
    pub document_id: Option<Uuid>,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The ingest function's state, built once per execution environment.
pub struct Ingest<E, S> {
    retriever: Retriever<E, S>,
    bucket: UploadsBucket,
    reader: ReaderProgram,
    limits: UploadLimits,
}

impl<E: Embedder, S: ChunkStore + DocumentRegistry> Ingest<E, S> {
    pub fn new(retriever: Retriever<E, S>, bucket: UploadsBucket, reader: ReaderProgram, limits: UploadLimits) -> Self {
        Self {
            retriever,
            bucket,
            reader,
            limits,
        }
    }

    /// Every record of an S3 notification, in order. A refused file is an outcome, not an error; an error (the
    /// database, S3 or the embedder failing) stops here and fails the invocation, so Lambda retries the event.
    pub async fn on_s3_event(&self, event: S3Event, deadline: Deadline) -> Result<Vec<RecordOutcome>, NavigatorError> {
        let mut outcomes = Vec::new();
        for record in event.records {
            let created = record
                .event_name
                .as_deref()
                .is_some_and(|name| name.starts_with("ObjectCreated"));
            let Some(encoded) = record.s3.object.key.clone() else {
                continue;
            };
            if !created {
                continue;
            }
            if record.s3.bucket.name.as_deref() != Some(self.bucket.name()) {
                tracing::warn!(bucket = ?record.s3.bucket.name, "ignoring an event from another bucket");
                continue;
            }
            let key = keys::decode_event_key(&encoded).map_err(NavigatorError::invalid)?;
            // On the heap: reading, extracting and embedding make a deep future, and a debug build's stack frames
            // for it would overflow a 2 MiB thread stack (`cargo lambda watch`, tests).
            let outcome = match deadline.run(Box::pin(self.take_in_object(&key))).await {
                Ok(outcome) => outcome?,
                Err(_) => return Err(NavigatorError::timeout("ingest")),
            };
            tracing::info!(key, status = outcome.status, document_id = ?outcome.document_id, "upload taken in");
            metrics::counter!(navigator_metrics::INGEST_UPLOADS.name, "status" => outcome.status.clone()).increment(1);
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }

    async fn take_in_object(&self, key: &str) -> Result<RecordOutcome, NavigatorError> {
        let outcome = |document_id, status: &str, reason: Option<String>| RecordOutcome {
            key: key.to_string(),
            document_id,
            status: status.to_string(),
            reason,
        };
        let destination = match keys::destination(key) {
            Ok(destination) => destination,
            // Not an upload: nothing to record it under.
            Err(reason) => return Ok(outcome(None, "ignored", Some(reason))),
        };
        let bytes = match self.bucket.read(key, self.limits.max_bytes as u64).await? {
            Read::Bytes(bytes) => bytes,
            Read::Missing => {
                return Ok(outcome(
                    destination.document_id,
                    "ignored",
                    Some("deleted since".into()),
                ));
            }
            Read::TooLarge(length) => {
                let reason = Rejection::TooLarge {
                    bytes: length as usize,
                    max: self.limits.max_bytes,
                }
                .reason();
                let id = self.fail_unread(&destination, &reason).await?;
                self.bucket.tag_failed(key).await?;
                return Ok(outcome(id, "failed", Some(reason)));
            }
        };
        let intake = Box::pin(take_in(
            &self.retriever,
            &self.reader,
            &destination,
            &bytes,
            &self.limits,
        ));
        match intake.await? {
            Intake::Ready(report) => Ok(outcome(Some(report.document_id), "ready", None)),
            Intake::Failed { document_id, reason } => {
                self.bucket.tag_failed(key).await?;
                Ok(outcome(Some(document_id), "failed", Some(reason)))
            }
        }
    }

    /// Records a file that could not even be read as failed. A plan file's id comes from its bytes, which were not
    /// read: its failure is logged only.
    async fn fail_unread(&self, destination: &Destination, reason: &str) -> Result<Option<Uuid>, NavigatorError> {
        let Some(id) = destination.document_id else {
            tracing::warn!(owner = destination.owner.key(), reason, "plan file refused unread");
            return Ok(None);
        };
        self.retriever
            .store()
            .fail_document(id, &destination.owner, &destination.file_name, reason)
            .await?;
        Ok(Some(id))
    }

    /// One documents action for the member the envelope vouches for.
    pub async fn on_documents(
        &self,
        invocation: Invocation<DocumentsInput>,
    ) -> Result<serde_json::Value, NavigatorError> {
        let readers = invocation.readers().ok_or(NavigatorError::Unauthorized)?;
        let store = self.retriever.store();
        let output = match invocation.input {
            DocumentsInput::CreateUpload { upload } => {
                let document_id = Uuid::new_v4();
                store
                    .register_upload(&Upload {
                        document_id,
                        owner: Owner::Member(readers.member),
                        file_name: upload.file_name.clone(),
                    })
                    .await?;
                let key = keys::member_key(readers.member, document_id, &upload.file_name);
                let request = self
                    .bucket
                    .presign_put(
                        &key,
                        &upload.content_type,
                        upload.size_bytes,
                        Duration::from_secs(UPLOAD_EXPIRES_SECS),
                    )
                    .await?;
                to_value(&UploadTicket {
                    document_id,
                    status: DocumentStatus::Pending,
                    upload: request,
                })?
            }
            DocumentsInput::List => to_value(&DocumentList {
                documents: store.documents(&readers).await?,
            })?,
            DocumentsInput::Delete { document_id } => {
                self.delete(&readers, document_id).await?;
                serde_json::json!({ "deleted": document_id })
            }
        };
        Ok(output)
    }

    /// Removes one of the member's own documents: its rows (chunks cascade) and its file. Every retrieve
    /// environment's cached results are checked against the documents' version, so none cites it again.
    async fn delete(&self, readers: &Readers, document_id: Uuid) -> Result<(), NavigatorError> {
        let store = self.retriever.store();
        let document = store.document(document_id).await?;
        may_delete(readers, document.as_ref(), document_id)?;
        store.delete_document(document_id).await?;
        self.retriever.invalidate_owner(&Owner::Member(readers.member));
        self.bucket
            .delete_folder(&keys::member_folder(readers.member, document_id))
            .await
    }
}

fn to_value(value: &impl Serialize) -> Result<serde_json::Value, NavigatorError> {
    serde_json::to_value(value).map_err(NavigatorError::internal)
}
