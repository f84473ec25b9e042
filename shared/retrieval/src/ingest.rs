//! Ingest: a document's chunks, and each chunk's sentences, embedded in batches and written idempotently. The
//! document becomes searchable (`ready`) only after every chunk is stored with its vectors.

use navigator_platform::NavigatorError;
use navigator_platform::owner::Owner;
use navigator_platform::text::sentences;
use navigator_resilience::Deadline;
use std::time::{Duration, Instant};
use uuid::Uuid;

use crate::chunk::{ChunkSizes, chunk_pages};
use crate::document::SourceDocument;
use crate::embed::Embedder;
use crate::store::{ChunkStore, DocumentSize, DocumentState, NewDocument, Origin, StoredChunk};

/// Chunks embedded per call.
pub const EMBED_BATCH: usize = 32;
/// Namespace of derived document and chunk ids.
const ID_NAMESPACE: Uuid = Uuid::from_u128(0x8f0c_1c52_6a3e_4d1b_9a44_5e2b_7c10_d3e0);

/// What an ingest did.
#[derive(Debug, Clone)]
pub struct IngestReport {
    pub document_id: Uuid,
    pub title: String,
    pub pages: usize,
    pub chunks: usize,
    /// Rows written: 0 when the same file was already ingested for this owner.
    pub rows_written: u64,
    pub already_ready: bool,
    /// An upload of bytes the owner already holds as this document: nothing was written.
    pub duplicate_of: Option<Uuid>,
    pub chunk_time: Duration,
    pub embed_time: Duration,
    pub store_time: Duration,
}

/// The version of extraction and chunking. Bump it when either changes what chunks a file gives: a file ingested by
/// an older version then gets a new document id, and ingesting it again replaces the old chunks.
pub const PIPELINE_VERSION: &str = "table-rows-chunks-200-40-units-v5";

/// The document id: one owner's copy of one file, as this pipeline version cuts it, is always the same document. A
/// member's ids are those of the releases before plans owned documents, so their ingests stay where they were.
pub fn document_id(owner: &Owner, sha256: &str) -> Uuid {
    let name = match owner {
        Owner::Member(member) => format!("{member}:{sha256}:{PIPELINE_VERSION}"),
        Owner::Plan(_) => format!("{}:{sha256}:{PIPELINE_VERSION}", owner.key()),
    };
    Uuid::new_v5(&ID_NAMESPACE, name.as_bytes())
}

/// A chunk id: a document's n-th chunk is always the same chunk.
pub fn chunk_id(document_id: Uuid, ord: u32) -> Uuid {
    Uuid::new_v5(&document_id, &ord.to_le_bytes())
}

/// Ingests `source` for `owner` under the id derived from them and the file (an operator's or the CLI's ingest).
/// `progress(done, total)` is called after each embedded batch.
pub async fn ingest<E: Embedder, S: ChunkStore>(
    embedder: &E,
    store: &S,
    owner: &Owner,
    source: &SourceDocument,
    progress: impl Fn(usize, usize),
) -> Result<IngestReport, NavigatorError> {
    let document = NewDocument {
        document_id: document_id(owner, &source.sha256),
        owner: owner.clone(),
        title: source.title.clone(),
        sha256: source.sha256.clone(),
        origin: Origin::Derived,
    };
    write(embedder, store, document, source, progress).await
}

/// Ingests an upload's `source` under the id issued when the member asked to upload it (`POST /v1/documents`).
pub async fn ingest_upload<E: Embedder, S: ChunkStore>(
    embedder: &E,
    store: &S,
    owner: &Owner,
    document_id: Uuid,
    source: &SourceDocument,
    progress: impl Fn(usize, usize),
) -> Result<IngestReport, NavigatorError> {
    let document = NewDocument {
        document_id,
        owner: owner.clone(),
        title: source.title.clone(),
        sha256: source.sha256.clone(),
        origin: Origin::Upload,
    };
    write(embedder, store, document, source, progress).await
}

async fn write<E: Embedder, S: ChunkStore>(
    embedder: &E,
    store: &S,
    document: NewDocument,
    source: &SourceDocument,
    progress: impl Fn(usize, usize),
) -> Result<IngestReport, NavigatorError> {
    let started = Instant::now();
    let chunks = chunk_pages(&source.pages, ChunkSizes::default());
    let chunk_time = started.elapsed();
    let mut report = IngestReport {
        document_id: document.document_id,
        title: document.title.clone(),
        pages: source.pages.len(),
        chunks: chunks.len(),
        rows_written: 0,
        already_ready: false,
        duplicate_of: None,
        chunk_time,
        embed_time: Duration::ZERO,
        store_time: Duration::ZERO,
    };
    if chunks.is_empty() {
        return Err(NavigatorError::invalid("the document holds no text to index"));
    }
    let started = Instant::now();
    let state = store.begin_document(&document).await?;
    report.store_time += started.elapsed();
    match state {
        DocumentState::Ready => {
            report.already_ready = true;
            progress(chunks.len(), chunks.len());
            return Ok(report);
        }
        DocumentState::Duplicate(original) => {
            report.duplicate_of = Some(original);
            return Ok(report);
        }
        DocumentState::New | DocumentState::Incomplete => {}
    }

    for (batch_index, batch) in chunks.chunks(EMBED_BATCH).enumerate() {
        let started = Instant::now();
        // Each chunk with its section, then each of its sentences alone: one call, so similar lengths batch together.
        let sentences: Vec<Vec<String>> = batch.iter().map(|c| sentences(&c.text)).collect();
        let mut texts: Vec<String> = batch.iter().map(|c| c.indexed_text()).collect();
        texts.extend(sentences.iter().flatten().cloned());
        let mut vectors = embedder.embed(texts, Deadline::after(Duration::from_secs(300))).await?;
        let mut unit_vectors = vectors.split_off(batch.len()).into_iter();
        report.embed_time += started.elapsed();
        let stored: Vec<StoredChunk> = batch
            .iter()
            .zip(vectors)
            .zip(&sentences)
            .map(|((chunk, embedding), sentences)| StoredChunk {
                chunk_id: chunk_id(document.document_id, chunk.ord),
                ord: chunk.ord,
                page_start: chunk.page_start,
                page_end: chunk.page_end,
                section: chunk.section.clone(),
                text: chunk.text.clone(),
                tokens: chunk.words,
                embedding,
                units: unit_vectors.by_ref().take(sentences.len()).collect(),
            })
            .collect();
        let started = Instant::now();
        report.rows_written += store.put_chunks(&document, embedder.model(), &stored).await?;
        report.store_time += started.elapsed();
        progress(((batch_index + 1) * EMBED_BATCH).min(chunks.len()), chunks.len());
    }
    let started = Instant::now();
    let size = DocumentSize {
        pages: report.pages as u32,
        chunks: report.chunks as u32,
    };
    if store.mark_ready(document.document_id, size).await? {
        report.rows_written += 1;
    }
    report.store_time += started.elapsed();
    Ok(report)
}
