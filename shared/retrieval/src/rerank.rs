//! The rerank stage: reorders the fused candidates by a cheap, measured score.
//!
//! No cross-encoder reranker can be had as an embedded default (none ships its weights in a package registry), and
//! one would cost ~150 ms for 10 passages on this CPU, twice the 80 ms budget. This reranker blends what the search
//! already knows: the dense similarity of the chunk, its fused rank, how many of the question's content words it
//! holds, and the similarity of its best sentence (sentence vectors are stored at ingest). Weights chosen on the
//! tuning half of `data/eval/answers-tuning.jsonl` (English, 101 questions; docs/RETRIEVAL.md has the grid): hit@5
//! 0.81-0.83 across the grid, and the best sentence's weight 1.0 took hit@1 from 0.64 to 0.67. Then, over the best
//! 20, word-piece matches (`pieces`, weight 4 of 1, 2, 3, 4, 6, 8, 12): hit@5 0.812 → 0.842.

use navigator_platform::text::share_held;

use crate::store::Candidate;

/// How the rerank score weighs its signals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RerankWeights {
    pub similarity: f32,
    pub fused: f32,
    pub coverage: f32,
    /// The best sentence's similarity: a chunk whose one sentence answers outranks one that is vaguely about it all.
    pub sentence: f32,
    /// How well the chunk's sentences meet the query's word pieces (see [`crate::pieces`]), added once the best
    /// `depth` candidates are matched piece by piece.
    pub pieces: f32,
    /// How many of the best candidates are matched piece by piece and reordered (at least the `top_k` returned): the
    /// cost of matching grows with it.
    pub depth: f32,
}

impl Default for RerankWeights {
    fn default() -> Self {
        Self {
            similarity: 1.0,
            fused: 20.0,
            coverage: 0.3,
            sentence: 1.0,
            pieces: 4.0,
            depth: 20.0,
        }
    }
}

impl RerankWeights {
    /// Sets one weight by name, for measuring alternatives (`navigator eval retrieval --weight sentence=1`).
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        let value: f32 = value.parse().map_err(|e| format!("{name}={value}: {e}"))?;
        match name {
            "similarity" => self.similarity = value,
            "fused" => self.fused = value,
            "coverage" => self.coverage = value,
            "sentence" => self.sentence = value,
            "pieces" => self.pieces = value,
            "depth" => self.depth = value,
            _ => return Err(format!("no rerank weight named {name:?}")),
        }
        Ok(())
    }
}

/// A candidate with its rerank score.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    pub candidate: Candidate,
    pub score: f32,
}

/// Scores and sorts `candidates`, best first.
pub fn rerank(candidates: Vec<Candidate>, terms: &[String], weights: RerankWeights) -> Vec<Ranked> {
    let mut ranked: Vec<Ranked> = candidates
        .into_iter()
        .map(|candidate| {
            let score = weights.similarity * candidate.similarity
                + weights.fused * candidate.fused
                + weights.coverage * coverage(&candidate, terms)
                + weights.sentence * candidate.best_unit();
            Ranked { candidate, score }
        })
        .collect();
    ranked.sort_by(|a, b| b.score.total_cmp(&a.score));
    ranked
}

/// The share of the question's content words found in the chunk's section and text.
fn coverage(candidate: &Candidate, terms: &[String]) -> f32 {
    share_held(terms, &format!("{} {}", candidate.section, candidate.text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(id: u128, similarity: f32, text: &str) -> Candidate {
        Candidate {
            similarity,
            text: text.into(),
            ..Candidate::for_test(id)
        }
    }

    #[test]
    fn term_coverage_breaks_near_ties_in_similarity() {
        let terms = vec!["ambulance".to_string(), "trip".to_string()];
        let ranked = rerank(
            vec![
                candidate(1, 0.52, "Emergency care is covered."),
                candidate(2, 0.50, "Ambulance: $180 per one-way trip."),
            ],
            &terms,
            RerankWeights::default(),
        );
        assert_eq!(ranked[0].candidate.chunk_id.as_u128(), 2);
        assert!(ranked[0].score > ranked[1].score);
    }
}
