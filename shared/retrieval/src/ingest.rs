//! Ingest: a document's chunks, and each chunk's sentences, embedded in batches and written idempotently. The
//! document becomes searchable (`ready`) only after every chunk is stored with its vectors.

use futures_util::StreamExt;
use navigator_platform::NavigatorError;
use navigator_platform::owner::Owner;
use navigator_platform::text::sentences;
use navigator_resilience::Deadline;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};
use uuid::Uuid;

use crate::chunk::{Chunk, ChunkSizes, chunk_pages};
use crate::document::SourceDocument;
use crate::embed::Embedder;
use crate::pieces::encode as encode_pieces;
use crate::store::{ChunkStore, DocumentSize, DocumentState, NewDocument, Origin, StoredChunk};

/// Chunks embedded per call.
pub const EMBED_BATCH: usize = 32;
/// The longest one embedding call may take.
const EMBED_CALL: Duration = Duration::from_secs(300);
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
pub const PIPELINE_VERSION: &str = "table-rows-captions-chunks-200-40-units-pieces-v7";

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

    // Each chunk with its section, then each of its sentences alone. A sentence repeated in the document (the
    // chunks' overlap, boilerplate) is embedded once, by the first batch that holds it.
    let batches: Vec<&[Chunk]> = chunks.chunks(EMBED_BATCH).collect();
    let sentences: Vec<Vec<Vec<String>>> = batches
        .iter()
        .map(|batch| batch.iter().map(|c| sentences(&c.text)).collect())
        .collect();
    let mut first_seen = HashSet::new();
    let new_sentences: Vec<Vec<&str>> = sentences
        .iter()
        .map(|sentences| {
            sentences
                .iter()
                .flatten()
                .map(String::as_str)
                .filter(|sentence| first_seen.insert(*sentence))
                .collect()
        })
        .collect();
    let texts: Vec<Vec<String>> = batches
        .iter()
        .zip(&new_sentences)
        .map(|(batch, new)| {
            let chunks = batch.iter().map(|c| c.indexed_text());
            chunks.chain(new.iter().map(|sentence| sentence.to_string())).collect()
        })
        .collect();
    let started = Instant::now();
    let mut embedded = futures_util::stream::iter(
        texts
            .into_iter()
            .map(|texts| async move { embedder.embed_with_pieces(texts, Deadline::after(EMBED_CALL)).await }),
    )
    // As many calls as the embedder takes at once (a local model: one per core; a remote one: as configured), which
    // also overlaps the store's writes with the next batch's embedding.
    .buffered(embedder.calls_in_flight().max(1))
    .enumerate();
    // Each sentence's vector and its word pieces in their stored form (none from an embedder that gives none).
    let with_pieces = embedder.gives_pieces();
    let mut sentence_vectors: HashMap<&str, (Vec<f32>, Vec<u8>)> = HashMap::new();
    while let Some((batch_index, readings)) = embedded.next().await {
        let batch = batches[batch_index];
        let mut readings = readings?.into_iter();
        let chunk_vectors: Vec<Vec<f32>> = readings.by_ref().take(batch.len()).map(|r| r.vector).collect();
        sentence_vectors.extend(new_sentences[batch_index].iter().copied().zip(readings.map(|reading| {
            let stored = if with_pieces {
                encode_pieces(&reading.pieces)
            } else {
                Vec::new()
            };
            (reading.vector, stored)
        })));
        let stored = batch
            .iter()
            .zip(chunk_vectors)
            .zip(&sentences[batch_index])
            .map(|((chunk, embedding), sentences)| {
                let (units, pieces): (Vec<Vec<f32>>, Vec<Vec<u8>>) = sentences
                    .iter()
                    .map(|sentence| {
                        sentence_vectors
                            .get(sentence.as_str())
                            .cloned()
                            .ok_or_else(|| NavigatorError::internal("a sentence reached the store without its vector"))
                    })
                    .collect::<Result<Vec<_>, _>>()?
                    .into_iter()
                    .unzip();
                let pieces = if with_pieces { pieces } else { Vec::new() };
                Ok(StoredChunk {
                    chunk_id: chunk_id(document.document_id, chunk.ord),
                    ord: chunk.ord,
                    page_start: chunk.page_start,
                    page_end: chunk.page_end,
                    section: chunk.section.clone(),
                    text: chunk.text.clone(),
                    tokens: chunk.words,
                    embedding,
                    units,
                    pieces,
                })
            })
            .collect::<Result<Vec<_>, NavigatorError>>()?;
        let store_started = Instant::now();
        report.rows_written += store.put_chunks(&document, embedder.model(), &stored).await?;
        report.store_time += store_started.elapsed();
        progress(((batch_index + 1) * EMBED_BATCH).min(chunks.len()), chunks.len());
    }
    // Storing overlaps the next batch's embedding; embedding is reported as the rest of the wall time.
    report.embed_time = started.elapsed().saturating_sub(report.store_time);
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
