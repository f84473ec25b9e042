//! Chunk stores behind one port: PostgreSQL + pgvector in production, SQLite (FTS5 + an exact vector scan) as the
//! embedded default. Both answer a hybrid search: nearest vectors and full-text matches of the member's ready
//! documents, fused by reciprocal rank.

mod postgres;
mod registry;
mod sqlite;

use navigator_platform::NavigatorError;
use navigator_platform::owner::{Owner, Readers};
use navigator_platform::section::SectionRef;
use navigator_resilience::Deadline;
use std::collections::HashMap;
use std::future::Future;
use uuid::Uuid;

pub use postgres::PgStore;
pub use registry::{DocumentInfo, DocumentRegistry, DocumentSize, DocumentStatus, Upload};
pub use sqlite::SqliteStore;

/// A document about to be written.
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub document_id: Uuid,
    pub owner: Owner,
    pub title: String,
    pub sha256: String,
    pub origin: Origin,
}

/// Where a document's id came from, which decides what a second copy of the same bytes means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Derived from the owner, the file's hash and the pipeline version (an operator's or the CLI's ingest): the
    /// same file always finds the same row, and a copy cut by an older pipeline is replaced.
    Derived,
    /// Issued when a member asked to upload (`POST /v1/documents`): new bytes under the same id replace the old ones,
    /// and bytes the owner already holds under another id make this upload a duplicate.
    Upload,
}

/// A chunk with its vector, ready to store. Its id is derived from the document and its position.
#[derive(Debug, Clone)]
pub struct StoredChunk {
    pub chunk_id: Uuid,
    pub ord: u32,
    pub page_start: u32,
    pub page_end: u32,
    pub section: String,
    pub text: String,
    pub tokens: u32,
    pub embedding: Vec<f32>,
    /// One vector per sentence of `text` (`navigator_platform::text::sentences`), in order.
    pub units: Vec<Vec<f32>>,
    /// Each sentence's word-piece states in their stored form (`crate::pieces::encode`), in order; empty when the
    /// embedder gives none.
    pub pieces: Vec<Vec<u8>>,
}

/// Where a document stands before ingest writes anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentState {
    /// Never seen: write everything.
    New,
    /// Seen, but an earlier ingest stopped before the document was ready: write what is missing.
    Incomplete,
    /// Already searchable: write nothing.
    Ready,
    /// An upload of bytes the owner already holds as this other document: write nothing.
    Duplicate(Uuid),
}

/// What `begin_document` does about the row it found under a document's id (owner, hash, status), decided once
/// for both stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Begin {
    /// No row: insert one, `ingesting`.
    Insert,
    /// The id is another owner's: refuse.
    OtherOwner,
    /// These bytes, already searchable: write nothing.
    Ready,
    /// These bytes, unfinished: pick up where the last ingest stopped.
    Resume,
    /// Other bytes, or none yet (a pending upload): drop its chunks and start over.
    Replace,
}

impl Begin {
    pub(crate) fn decide(existing: Option<(String, Option<String>, String)>, document: &NewDocument) -> Self {
        match existing {
            None => Self::Insert,
            Some((owner, _, _)) if owner != document.owner.key() => Self::OtherOwner,
            Some((_, Some(sha), status)) if sha == document.sha256 => {
                if status == "ready" {
                    Self::Ready
                } else {
                    Self::Resume
                }
            }
            Some(_) => Self::Replace,
        }
    }

    /// What the ingest is told once the store has done it.
    pub(crate) fn state(self) -> DocumentState {
        match self {
            Self::Ready => DocumentState::Ready,
            Self::Resume => DocumentState::Incomplete,
            Self::Insert | Self::Replace => DocumentState::New,
            // Refused before any state is reported.
            Self::OtherOwner => DocumentState::New,
        }
    }
}

/// One search's inputs. Only the ready documents of these owners embedded with `embed_model` are searched.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    /// The stored keys of the owners whose documents may be read (`Readers::owner_keys`): never empty.
    pub owners: Vec<String>,
    pub embed_model: String,
    pub vector: Vec<f32>,
    /// Lower-cased query words for full-text search (stop words removed).
    pub terms: Vec<String>,
    /// How many candidates each list (vector, text) contributes before fusion.
    pub depth: usize,
    /// Only chunks of this section, ranked by similarity alone (a section holds a handful of chunks).
    pub section: Option<SectionRef>,
}

/// A search candidate, with how each list ranked it.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub chunk_id: Uuid,
    pub document_id: Uuid,
    pub title: String,
    pub page: u32,
    pub section: String,
    pub text: String,
    /// Cosine similarity to the query vector.
    pub similarity: f32,
    /// 1-based rank in the vector list, if it made the list.
    pub vector_rank: Option<u32>,
    /// 1-based rank in the full-text list, if it made the list.
    pub text_rank: Option<u32>,
    /// Reciprocal-rank fusion score.
    pub fused: f32,
    /// Cosine similarity of each of the chunk's sentences to the query, in order; empty without sentence vectors.
    pub units: Vec<f32>,
}

/// The smoothing constant of reciprocal-rank fusion (Cormack et al.'s 60).
pub const RRF_K: f32 = 60.0;

impl Candidate {
    /// A candidate with only its id set, for tests of ranking code.
    #[cfg(test)]
    pub(crate) fn for_test(id: u128) -> Self {
        Self {
            chunk_id: Uuid::from_u128(id),
            document_id: Uuid::nil(),
            title: String::new(),
            page: 1,
            section: String::new(),
            text: String::new(),
            similarity: 0.0,
            vector_rank: None,
            text_rank: None,
            fused: 0.0,
            units: Vec::new(),
        }
    }

    /// The best sentence's similarity, or the chunk's when there are no sentence vectors.
    pub fn best_unit(&self) -> f32 {
        self.units
            .iter()
            .copied()
            .fold(None, |best: Option<f32>, s| Some(best.map_or(s, |b| b.max(s))))
            .unwrap_or(self.similarity)
    }
}

/// Reciprocal-rank fusion of the lists' ranks.
pub fn rrf(ranks: &[Option<u32>]) -> f32 {
    ranks
        .iter()
        .map(|rank| rank.map_or(0.0, |r| 1.0 / (RRF_K + r as f32)))
        .sum()
}

/// The storage port.
pub trait ChunkStore: Send + Sync {
    /// Looks the document up, creating it as `ingesting` when new. The owner's copies of the same file cut by
    /// another pipeline version (another document id) are removed with their chunks.
    fn begin_document(
        &self,
        document: &NewDocument,
    ) -> impl Future<Output = Result<DocumentState, NavigatorError>> + Send;
    /// Writes chunks not yet stored; returns how many rows it wrote.
    fn put_chunks(
        &self,
        document: &NewDocument,
        embed_model: &str,
        chunks: &[StoredChunk],
    ) -> impl Future<Output = Result<u64, NavigatorError>> + Send;
    /// Whether the document exists and is searchable. A cheap read: nothing is written.
    fn is_ready(&self, document_id: Uuid) -> impl Future<Output = Result<bool, NavigatorError>> + Send;
    /// Makes the document searchable, recording its size. Returns whether its status changed.
    fn mark_ready(
        &self,
        document_id: Uuid,
        size: DocumentSize,
    ) -> impl Future<Output = Result<bool, NavigatorError>> + Send;
    /// A value that changes whenever any document of these owners is added, changed or removed: what a cached
    /// search result is checked against.
    fn documents_version(&self, owners: &[String]) -> impl Future<Output = Result<String, NavigatorError>> + Send;
    /// Hybrid search, best fused score first.
    fn search(
        &self,
        request: &SearchRequest,
        deadline: Deadline,
    ) -> impl Future<Output = Result<Vec<Candidate>, NavigatorError>> + Send;
    /// The stored word pieces of each of these chunks' sentences, one after another in sentence order (see
    /// `crate::pieces`), by chunk; a chunk stored without them is absent. The ids come from a search of the readers'
    /// documents: this reads nothing a search did not already let them see.
    fn unit_pieces(
        &self,
        chunk_ids: &[Uuid],
        deadline: Deadline,
    ) -> impl Future<Output = Result<HashMap<Uuid, Vec<u8>>, NavigatorError>> + Send;
}

/// The configured store.
pub enum Stores {
    Postgres(PgStore),
    Sqlite(SqliteStore),
}

impl ChunkStore for Stores {
    async fn begin_document(&self, document: &NewDocument) -> Result<DocumentState, NavigatorError> {
        match self {
            Self::Postgres(s) => s.begin_document(document).await,
            Self::Sqlite(s) => s.begin_document(document).await,
        }
    }

    async fn put_chunks(
        &self,
        document: &NewDocument,
        model: &str,
        chunks: &[StoredChunk],
    ) -> Result<u64, NavigatorError> {
        match self {
            Self::Postgres(s) => s.put_chunks(document, model, chunks).await,
            Self::Sqlite(s) => s.put_chunks(document, model, chunks).await,
        }
    }

    async fn is_ready(&self, document_id: Uuid) -> Result<bool, NavigatorError> {
        match self {
            Self::Postgres(s) => s.is_ready(document_id).await,
            Self::Sqlite(s) => s.is_ready(document_id).await,
        }
    }

    async fn mark_ready(&self, document_id: Uuid, size: DocumentSize) -> Result<bool, NavigatorError> {
        match self {
            Self::Postgres(s) => s.mark_ready(document_id, size).await,
            Self::Sqlite(s) => s.mark_ready(document_id, size).await,
        }
    }

    async fn documents_version(&self, owners: &[String]) -> Result<String, NavigatorError> {
        match self {
            Self::Postgres(s) => s.documents_version(owners).await,
            Self::Sqlite(s) => s.documents_version(owners).await,
        }
    }

    async fn search(&self, request: &SearchRequest, deadline: Deadline) -> Result<Vec<Candidate>, NavigatorError> {
        match self {
            Self::Postgres(s) => s.search(request, deadline).await,
            Self::Sqlite(s) => s.search(request, deadline).await,
        }
    }

    async fn unit_pieces(
        &self,
        chunk_ids: &[Uuid],
        deadline: Deadline,
    ) -> Result<HashMap<Uuid, Vec<u8>>, NavigatorError> {
        match self {
            Self::Postgres(s) => s.unit_pieces(chunk_ids, deadline).await,
            Self::Sqlite(s) => s.unit_pieces(chunk_ids, deadline).await,
        }
    }
}

impl DocumentRegistry for Stores {
    async fn register_upload(&self, upload: &Upload) -> Result<bool, NavigatorError> {
        match self {
            Self::Postgres(s) => s.register_upload(upload).await,
            Self::Sqlite(s) => s.register_upload(upload).await,
        }
    }

    async fn document(&self, document_id: Uuid) -> Result<Option<DocumentInfo>, NavigatorError> {
        match self {
            Self::Postgres(s) => s.document(document_id).await,
            Self::Sqlite(s) => s.document(document_id).await,
        }
    }

    async fn documents(&self, readers: &Readers) -> Result<Vec<DocumentInfo>, NavigatorError> {
        match self {
            Self::Postgres(s) => s.documents(readers).await,
            Self::Sqlite(s) => s.documents(readers).await,
        }
    }

    async fn fail_document(
        &self,
        document_id: Uuid,
        owner: &Owner,
        file_name: &str,
        reason: &str,
    ) -> Result<(), NavigatorError> {
        match self {
            Self::Postgres(s) => s.fail_document(document_id, owner, file_name, reason).await,
            Self::Sqlite(s) => s.fail_document(document_id, owner, file_name, reason).await,
        }
    }

    async fn delete_document(&self, document_id: Uuid) -> Result<bool, NavigatorError> {
        match self {
            Self::Postgres(s) => s.delete_document(document_id).await,
            Self::Sqlite(s) => s.delete_document(document_id).await,
        }
    }
}

/// Fuses a vector list and a text list (each best first) into candidates sorted by fused score.
pub(crate) fn fuse(vector: Vec<Candidate>, text: Vec<Candidate>) -> Vec<Candidate> {
    let mut merged: Vec<Candidate> = vector;
    for hit in text {
        match merged.iter_mut().find(|c| c.chunk_id == hit.chunk_id) {
            Some(existing) => existing.text_rank = hit.text_rank,
            None => merged.push(hit),
        }
    }
    for candidate in &mut merged {
        candidate.fused = rrf(&[candidate.vector_rank, candidate.text_rank]);
    }
    merged.sort_by(|a, b| b.fused.total_cmp(&a.fused));
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(id: u128, vector_rank: Option<u32>, text_rank: Option<u32>) -> Candidate {
        Candidate {
            vector_rank,
            text_rank,
            ..Candidate::for_test(id)
        }
    }

    #[test]
    fn fusion_rewards_agreement_between_the_lists() {
        let vector = vec![candidate(1, Some(1), None), candidate(2, Some(2), None)];
        let text = vec![candidate(2, None, Some(1)), candidate(3, None, Some(2))];
        let fused = fuse(vector, text);
        let order: Vec<u128> = fused.iter().map(|c| c.chunk_id.as_u128()).collect();
        assert_eq!(order, vec![2, 1, 3]);
        assert!((fused[0].fused - (1.0 / 62.0 + 1.0 / 61.0)).abs() < 1e-6);
    }
}
