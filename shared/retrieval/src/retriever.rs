//! One search, stage by stage: cache → embed → hybrid KNN + full text → rerank → top-k → word-piece matches, each
//! stage under its own budget and all of them under the caller's deadline. A failure is a typed error, never an empty
//! list.

use navigator_platform::NavigatorError;
use navigator_platform::config::RetrieveBudgets;
use navigator_platform::contracts::{ChunkHit, RetrieveOutput, RetrieveTimings};
use navigator_platform::owner::{Owner, Readers};
use navigator_platform::section::SectionRef;
use navigator_resilience::Deadline;
use std::sync::Arc;
use std::time::Instant;
use uuid::Uuid;

use crate::cache::TtlLru;
use crate::embed::Embedder;
use crate::pieces::StoredPieces;
use crate::query::{cache_key, terms};
use crate::rerank::{RerankWeights, rerank};
use crate::store::{ChunkStore, SearchRequest};

/// The default number of chunks returned.
pub const DEFAULT_TOP_K: u8 = 5;
pub use navigator_platform::contracts::ANSWERABLE_SCORE;
/// Candidates each list contributes to fusion.
const SEARCH_DEPTH: usize = 30;

type ResultKey = (Readers, String, Option<SectionRef>, u8);

/// Searches one store with one embedder. Built once per execution environment.
pub struct Retriever<E, S> {
    embedder: E,
    store: S,
    budgets: RetrieveBudgets,
    weights: RerankWeights,
    embeddings: TtlLru<String, Arc<Vec<f32>>>,
    /// The query's word pieces, for matching the returned chunks' sentences piece by piece.
    question_pieces: TtlLru<String, Arc<Vec<Vec<f32>>>>,
    /// Each result with the version of its readers' documents when it was searched (`ChunkStore::documents_version`):
    /// a hit whose version changed since is a miss, so a document ingested or deleted by another function is seen
    /// at once, not when the entry expires (while the version can be read at all).
    results: TtlLru<ResultKey, (String, Arc<Vec<ChunkHit>>)>,
}

impl<E: Embedder, S: ChunkStore> Retriever<E, S> {
    pub fn new(embedder: E, store: S, budgets: RetrieveBudgets) -> Self {
        let embeddings = TtlLru::new(budgets.cache_entries, budgets.cache_ttl);
        let results = TtlLru::new(budgets.cache_entries, budgets.cache_ttl);
        let question_pieces = TtlLru::new(budgets.cache_entries, budgets.cache_ttl);
        Self {
            embedder,
            store,
            budgets,
            weights: RerankWeights::default(),
            embeddings,
            question_pieces,
            results,
        }
    }

    /// Replaces the rerank weights (for measurement).
    pub fn with_weights(mut self, weights: RerankWeights) -> Self {
        self.weights = weights;
        self
    }

    pub fn embedder(&self) -> &E {
        &self.embedder
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// Forgets every cached result that read `owner`'s documents, after one of them is ingested or deleted: a plan's
    /// change reaches all of its members at once.
    pub fn invalidate_owner(&self, owner: &Owner) {
        self.results.retain(|(readers, _, _, _)| !readers.may_read(owner));
    }

    /// The `top_k` best chunks for `query` among the documents `readers` may read.
    pub async fn search(
        &self,
        readers: &Readers,
        query: &str,
        top_k: u8,
        deadline: Deadline,
    ) -> Result<RetrieveOutput, NavigatorError> {
        self.search_within(readers, query, None, top_k, deadline).await
    }

    /// The `top_k` best chunks for `query` among the documents `readers` may read, from one section when `section`
    /// names it.
    pub async fn search_within(
        &self,
        readers: &Readers,
        query: &str,
        section: Option<&SectionRef>,
        top_k: u8,
        deadline: Deadline,
    ) -> Result<RetrieveOutput, NavigatorError> {
        if deadline.is_expired() {
            return Err(NavigatorError::timeout("retrieve"));
        }
        let mut timings = RetrieveTimings::default();
        let started = Instant::now();
        let key = cache_key(query);
        let result_key = (readers.clone(), key.clone(), section.cloned(), top_k);
        let owners = readers.owner_keys();
        // A hit is served while the readers' documents are unchanged. When their version cannot be read (the
        // database is down or slow), a cached result is served as it is: the search could not run either, and an
        // answer from before the outage beats none. Nothing is cached without a version.
        let version = if self.results.is_enabled() {
            match deadline
                .child(self.budgets.cache)
                .run(self.store.documents_version(&owners))
                .await
            {
                Ok(Ok(version)) => Some(version),
                _ => None,
            }
        } else {
            None
        };
        let cached = self
            .results
            .get(&result_key)
            .filter(|(stored, _)| version.as_ref().is_none_or(|current| current == stored))
            .map(|(_, chunks)| chunks);
        timings.cache = ms(started);
        if let Some(chunks) = cached {
            metrics::counter!(navigator_metrics::RETRIEVE_CACHE_LOOKUPS.name, "outcome" => "hit").increment(1);
            return Ok(RetrieveOutput {
                chunks: chunks.as_ref().clone(),
                timings_ms: timings,
            });
        }
        metrics::counter!(navigator_metrics::RETRIEVE_CACHE_LOOKUPS.name, "outcome" => "miss").increment(1);

        let started = Instant::now();
        let vector = match self.embeddings.get(&key) {
            Some(vector) => vector,
            None => {
                let mut vectors = self
                    .embedder
                    .embed_within(vec![query.to_string()], deadline, self.budgets.embed)
                    .await
                    .map_err(|e| in_stage(e, "embed"))?;
                let vector = Arc::new(
                    vectors
                        .pop()
                        .ok_or_else(|| NavigatorError::internal("the embedder returned no vector"))?,
                );
                self.embeddings.put(key.clone(), Arc::clone(&vector));
                vector
            }
        };
        timings.embed = ms(started);

        let started = Instant::now();
        let terms = terms(query);
        let request = SearchRequest {
            owners,
            embed_model: self.embedder.model().to_string(),
            vector: vector.as_ref().clone(),
            terms: terms.clone(),
            depth: SEARCH_DEPTH,
            section: section.cloned(),
        };
        let candidates = self
            .store
            .search(&request, deadline.child(self.budgets.knn))
            .await
            .map_err(|e| in_stage(e, "knn"))?;
        timings.knn = ms(started);

        let started = Instant::now();
        let ranked = rerank(candidates, &terms, self.weights);
        let chunks: Vec<ChunkHit> = ranked
            .into_iter()
            .take(top_k as usize)
            .map(|r| ChunkHit {
                chunk_id: r.candidate.chunk_id,
                document_id: r.candidate.document_id,
                title: r.candidate.title,
                page: r.candidate.page,
                section: r.candidate.section,
                text: r.candidate.text,
                score: r.score,
                units: r.candidate.units,
                piece_matches: Vec::new(),
            })
            .collect();
        // Reranking's time includes matching the chunks' sentences piece by piece.
        let chunks = self.match_pieces(&key, query, chunks, deadline).await;
        timings.rerank = ms(started);

        for (stage, value) in [
            ("embed", timings.embed),
            ("knn", timings.knn),
            ("rerank", timings.rerank),
        ] {
            metrics::histogram!(navigator_metrics::RETRIEVE_STAGE_DURATION.name, "stage" => stage)
                .record(value / 1000.0);
        }
        if let Some(version) = version {
            self.results.put(result_key, (version, Arc::new(chunks.clone())));
        }
        Ok(RetrieveOutput {
            chunks,
            timings_ms: timings,
        })
    }
}

impl<E: Embedder, S: ChunkStore> Retriever<E, S> {
    /// Fills each chunk's `piece_matches` from its sentences' stored word pieces and the query's: a signal for the
    /// composer's choice of sentence, not for which chunks are returned. Without it the chunks still stand (an
    /// embedder without pieces, a chunk stored without them, or a failure to read them, which is logged).
    async fn match_pieces(
        &self,
        key: &str,
        query: &str,
        mut chunks: Vec<ChunkHit>,
        deadline: Deadline,
    ) -> Vec<ChunkHit> {
        if !self.embedder.gives_pieces() || chunks.is_empty() {
            return chunks;
        }
        let question = match self.question_pieces(key, query, deadline).await {
            Ok(question) => question,
            Err(error) => {
                tracing::warn!(%error, "the query's word pieces could not be read; sentences are not matched by piece");
                return chunks;
            }
        };
        let ids: Vec<Uuid> = chunks.iter().map(|c| c.chunk_id).collect();
        let stored = match self.store.unit_pieces(&ids, deadline.child(self.budgets.knn)).await {
            Ok(stored) => stored,
            Err(error) => {
                tracing::warn!(%error, "stored word pieces could not be read; sentences are not matched by piece");
                return chunks;
            }
        };
        for chunk in &mut chunks {
            let Some(bytes) = stored.get(&chunk.chunk_id) else {
                continue;
            };
            match StoredPieces::split(bytes) {
                // Pieces cut by another version of the splitter do not line up with the sentences: then none.
                Ok(sentences) if sentences.len() == chunk.units.len() => {
                    chunk.piece_matches = sentences.iter().map(|s| s.best_matches(&question)).collect();
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, chunk = %chunk.chunk_id, "stored word pieces are unreadable"),
            }
        }
        chunks
    }

    /// The query's own word pieces after the model's last layer, cached like its vector.
    async fn question_pieces(
        &self,
        key: &str,
        query: &str,
        deadline: Deadline,
    ) -> Result<Arc<Vec<Vec<f32>>>, NavigatorError> {
        if let Some(pieces) = self.question_pieces.get(&key.to_string()) {
            return Ok(pieces);
        }
        let mut readings = self
            .embedder
            .embed_with_pieces(vec![query.to_string()], deadline.child(self.budgets.embed))
            .await?;
        let reading = readings
            .pop()
            .ok_or_else(|| NavigatorError::internal("the embedder returned no reading"))?;
        let pieces = Arc::new(reading.pieces);
        self.question_pieces.put(key.to_string(), Arc::clone(&pieces));
        Ok(pieces)
    }
}

fn ms(since: Instant) -> f64 {
    (since.elapsed().as_secs_f64() * 1000.0 * 100.0).round() / 100.0
}

/// Names the stage in a timeout, so "timed out during knn" says where the time went.
fn in_stage(error: NavigatorError, stage: &str) -> NavigatorError {
    match error {
        NavigatorError::Timeout { .. } => NavigatorError::timeout(stage),
        other => other,
    }
}
