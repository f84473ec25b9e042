//! One search, stage by stage: cache → embed → hybrid KNN + full text → rerank → word-piece matches over the best 20
//! → top-k, each stage under its own budget and all of them under the caller's deadline. A failure is a typed error,
//! never an empty list.

use navigator_platform::NavigatorError;
use navigator_platform::config::RetrieveBudgets;
use navigator_platform::contracts::{ChunkHit, RetrieveOutput, RetrieveTimings};
use navigator_platform::owner::{Owner, Readers};
use navigator_platform::section::SectionRef;
use navigator_platform::text::PieceWeights;
use navigator_resilience::Deadline;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use uuid::Uuid;

use crate::adapter::QueryAdapter;
use crate::cache::TtlLru;
use crate::embed::{Embedder, WithPieces};
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

/// A search's result as cached: what `RetrieveOutput` returns but its timings.
struct Found {
    chunks: Vec<ChunkHit>,
    best_similarity: Option<f32>,
}

/// Searches one store with one embedder. Built once per execution environment.
pub struct Retriever<E, S> {
    embedder: E,
    store: S,
    budgets: RetrieveBudgets,
    weights: RerankWeights,
    /// The learned map a query's vector goes through before the search, for this embedder's model.
    adapter: Option<Arc<QueryAdapter>>,
    /// Each query's vector, with its word pieces when the embedder gives them (for matching the returned chunks'
    /// sentences piece by piece).
    embeddings: TtlLru<String, Arc<WithPieces>>,
    /// Each result with the version of its readers' documents when it was searched (`ChunkStore::documents_version`):
    /// a hit whose version changed since is a miss, so a document ingested or deleted by another function is seen
    /// at once, not when the entry expires (while the version can be read at all).
    results: TtlLru<ResultKey, (String, Arc<Found>)>,
}

impl<E: Embedder, S: ChunkStore> Retriever<E, S> {
    pub fn new(embedder: E, store: S, budgets: RetrieveBudgets) -> Self {
        let embeddings = TtlLru::new(budgets.cache_entries, budgets.cache_ttl);
        let results = TtlLru::new(budgets.cache_entries, budgets.cache_ttl);
        Self {
            embedder,
            store,
            budgets,
            weights: RerankWeights::default(),
            adapter: None,
            embeddings,
            results,
        }
    }

    /// Replaces the rerank weights (for measurement).
    pub fn with_weights(mut self, weights: RerankWeights) -> Self {
        self.weights = weights;
        self
    }

    /// Searches with `adapter` reading each query's vector. An adapter trained for another embedding model or
    /// width is an error: its map means nothing for these vectors.
    pub fn with_adapter(mut self, adapter: QueryAdapter) -> Result<Self, NavigatorError> {
        if adapter.model() != self.embedder.model() || adapter.dimensions() != self.embedder.dimensions() {
            return Err(NavigatorError::internal(format!(
                "the query adapter is for {} ({} dimensions), not for {} ({} dimensions)",
                adapter.model(),
                adapter.dimensions(),
                self.embedder.model(),
                self.embedder.dimensions()
            )));
        }
        self.adapter = Some(Arc::new(adapter));
        Ok(self)
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
            .map(|(_, found)| found);
        timings.cache = ms(started);
        if let Some(found) = cached {
            metrics::counter!(navigator_metrics::RETRIEVE_CACHE_LOOKUPS.name, "outcome" => "hit").increment(1);
            return Ok(RetrieveOutput {
                chunks: found.chunks.clone(),
                best_similarity: found.best_similarity,
                timings_ms: timings,
            });
        }
        metrics::counter!(navigator_metrics::RETRIEVE_CACHE_LOOKUPS.name, "outcome" => "miss").increment(1);

        let started = Instant::now();
        let reading = match self.embeddings.get(&key) {
            Some(reading) => reading,
            None => {
                // One pass gives the vector and the word pieces the chunks are matched with after the search (none
                // from an embedder that gives no pieces).
                let mut readings = self
                    .embedder
                    .embed_with_pieces_within(vec![query.to_string()], deadline, self.budgets.embed)
                    .await
                    .map_err(|e| in_stage(e, "embed"))?;
                let reading = Arc::new(
                    readings
                        .pop()
                        .ok_or_else(|| NavigatorError::internal("the embedder returned no vector"))?,
                );
                self.embeddings.put(key.clone(), Arc::clone(&reading));
                reading
            }
        };
        timings.embed = ms(started);

        let started = Instant::now();
        let terms = terms(query);
        let request = SearchRequest {
            owners,
            embed_model: self.embedder.model().to_string(),
            // The adapter reads the question for this plan (see `adapter`); the cached reading stays the model's own.
            vector: match &self.adapter {
                Some(adapter) => adapter.apply(&reading.vector),
                None => reading.vector.clone(),
            },
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
        // The closest of every candidate, before the rerank keeps `top_k`: on the scale the decline threshold was
        // calibrated on (the best chunk of the whole plan) only when the adapter read the query.
        let best_similarity = self
            .adapter
            .as_ref()
            .and_then(|_| candidates.iter().map(|c| c.similarity).reduce(f32::max));

        let started = Instant::now();
        let ranked = rerank(candidates, &terms, self.weights);
        let depth = (top_k as usize).max(self.weights.depth as usize);
        let chunks: Vec<ChunkHit> = ranked
            .into_iter()
            .take(depth)
            .map(|r| ChunkHit {
                chunk_id: r.candidate.chunk_id,
                document_id: r.candidate.document_id,
                title: r.candidate.title,
                page: r.candidate.page,
                section: r.candidate.section,
                text: r.candidate.text,
                score: r.score,
                // On the scale the decline threshold was calibrated on only when the adapter read the query.
                similarity: self.adapter.is_some().then_some(r.candidate.similarity),
                units: r.candidate.units,
                piece_matches: Vec::new(),
            })
            .collect();
        // Reranking's time includes matching the chunks' sentences piece by piece.
        let mut chunks = self.match_pieces(&reading, chunks, deadline).await;
        rerank_by_pieces(&mut chunks, self.weights.pieces);
        chunks.truncate(top_k as usize);
        timings.rerank = ms(started);

        for (stage, value) in [
            ("embed", timings.embed),
            ("knn", timings.knn),
            ("rerank", timings.rerank),
        ] {
            metrics::histogram!(navigator_metrics::RETRIEVE_STAGE_DURATION.name, "stage" => stage)
                .record(value / 1000.0);
        }
        // A result whose pieces could not be matched this time (a slow read, a busy pool) is cached all the same: its
        // chunks are right, only their order and the composer's choice of sentence lose a signal, and a cached result
        // is what answers while the database is down.
        if let Some(version) = version {
            let found = Found {
                chunks: chunks.clone(),
                best_similarity,
            };
            self.results.put(result_key, (version, Arc::new(found)));
        }
        Ok(RetrieveOutput {
            chunks,
            best_similarity,
            timings_ms: timings,
        })
    }
}

impl<E: Embedder, S: ChunkStore> Retriever<E, S> {
    /// Fills each chunk's `piece_matches` from its sentences' stored word pieces and the query's: a signal for the
    /// rerank and for the composer's choice of sentence. Without it the chunks still stand (an embedder without
    /// pieces, a chunk stored without them, or a failure to read or match them, which is logged). The stage has the
    /// rerank budget.
    async fn match_pieces(
        &self,
        query: &Arc<WithPieces>,
        mut chunks: Vec<ChunkHit>,
        deadline: Deadline,
    ) -> Vec<ChunkHit> {
        if query.pieces.is_empty() || chunks.is_empty() {
            return chunks;
        }
        let stage = deadline.child(self.budgets.rerank);
        let ids: Vec<Uuid> = chunks.iter().map(|c| c.chunk_id).collect();
        let stored = match self.store.unit_pieces(&ids, stage).await {
            Ok(stored) => stored,
            Err(error) => {
                tracing::warn!(%error, "stored word pieces could not be read; sentences are not matched by piece");
                return chunks;
            }
        };
        let sentences: HashMap<Uuid, usize> = chunks.iter().map(|c| (c.chunk_id, c.units.len())).collect();
        let query = Arc::clone(query);
        let matching = move || match_stored(&query.pieces, &stored, &sentences);
        // Milliseconds of arithmetic: on the model's CPU pool (there is one whenever the embedder gives pieces), not
        // on an async worker.
        let matched = match self.embedder.cpu_pool() {
            // Queueing for the pool is admission's to bound; the work has what is left of the stage.
            Some(pool) => match pool.run_for(deadline, Some(stage.remaining()), matching).await {
                Ok(matched) => matched,
                Err(error) => {
                    let error = NavigatorError::from(error);
                    tracing::warn!(%error, "word pieces were not matched in time; sentences are not matched by piece");
                    return chunks;
                }
            },
            None => matching(),
        };
        for chunk in &mut chunks {
            if let Some(matches) = matched.get(&chunk.chunk_id) {
                chunk.piece_matches.clone_from(matches);
            }
        }
        chunks
    }
}

/// Each stored chunk's sentences matched against the question's pieces, for the chunks whose stored sentences line up
/// with theirs (`sentences`: each chunk's count); pieces cut by another version of the splitter are left out.
fn match_stored(
    question: &[Vec<f32>],
    stored: &HashMap<Uuid, Vec<u8>>,
    sentences: &HashMap<Uuid, usize>,
) -> HashMap<Uuid, Vec<Vec<f32>>> {
    let mut matched = HashMap::new();
    for (chunk, bytes) in stored {
        match StoredPieces::split(bytes) {
            Ok(pieces) if sentences.get(chunk) == Some(&pieces.len()) => {
                matched.insert(*chunk, pieces.iter().map(|s| s.best_matches(question)).collect());
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, %chunk, "stored word pieces are unreadable"),
        }
    }
    matched
}

/// Adds each chunk's piece match (`PieceWeights` over every sentence of the chunks, each chunk's sentences one
/// group) to its score at `weight`, and reorders. Chunks without matches keep their score.
fn rerank_by_pieces(chunks: &mut [ChunkHit], weight: f32) {
    if weight == 0.0 {
        return;
    }
    let pieces = PieceWeights::new(chunks.iter().flat_map(|c| &c.piece_matches).map(Vec::as_slice));
    for chunk in chunks.iter_mut() {
        chunk.score += weight * pieces.score(chunk.piece_matches.iter().map(Vec::as_slice));
    }
    chunks.sort_by(|a, b| b.score.total_cmp(&a.score));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(id: u128, score: f32, matches: &[f32]) -> ChunkHit {
        ChunkHit {
            chunk_id: Uuid::from_u128(id),
            document_id: Uuid::nil(),
            title: String::new(),
            page: 1,
            section: String::new(),
            text: "One sentence.".into(),
            score,
            similarity: None,
            units: vec![0.5],
            piece_matches: if matches.is_empty() {
                Vec::new()
            } else {
                vec![matches.to_vec()]
            },
        }
    }

    fn order(chunks: &[ChunkHit]) -> Vec<u128> {
        chunks.iter().map(|c| c.chunk_id.as_u128()).collect()
    }

    #[test]
    fn a_chunk_meeting_the_querys_rarely_matched_piece_moves_up_and_its_score_says_so() {
        // All three match the first piece; only the third matches the second. The first two match alike, so they
        // keep their order below it.
        let mut chunks = vec![
            hit(1, 1.30, &[0.9, 0.2]),
            hit(2, 1.25, &[0.9, 0.2]),
            hit(3, 1.20, &[0.9, 0.95]),
        ];
        rerank_by_pieces(&mut chunks, 4.0);
        assert_eq!(order(&chunks), vec![3, 1, 2]);
        assert!(
            chunks.windows(2).all(|pair| pair[0].score >= pair[1].score),
            "sorted by the score it carries"
        );
    }

    #[test]
    fn without_weight_or_matches_the_order_stands() {
        let chunks = vec![
            hit(1, 1.30, &[0.9, 0.2]),
            hit(2, 1.25, &[0.9, 0.2]),
            hit(3, 1.20, &[0.9, 0.95]),
        ];
        let mut unweighted = chunks.clone();
        rerank_by_pieces(&mut unweighted, 0.0);
        assert_eq!(unweighted, chunks);
        let mut unmatched = vec![hit(1, 1.30, &[]), hit(2, 1.25, &[])];
        rerank_by_pieces(&mut unmatched, 4.0);
        assert_eq!(order(&unmatched), vec![1, 2]);
        assert_eq!(unmatched[0].score, 1.30);
    }
}
