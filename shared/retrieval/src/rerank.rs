//! The rerank stage: reorders the fused candidates by a cheap, measured score.
//!
//! A cross-encoder would cost ~150 ms for 10 passages on this CPU, twice the 80 ms budget. This reranker blends
//! what the search already knows: the dense similarity, the fused rank, and how many of the question's content words
//! the chunk holds. The weights were chosen on the dev question set: English hit@5 0.91 and MRR 0.78, against 0.85 and
//! 0.75 for the fused order alone (docs/RETRIEVAL.md has the grid).

use navigator_platform::text::share_held;

use crate::store::Candidate;

/// How the rerank score weighs its signals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RerankWeights {
    pub similarity: f32,
    pub fused: f32,
    pub coverage: f32,
}

impl Default for RerankWeights {
    fn default() -> Self {
        Self {
            similarity: 1.0,
            fused: 20.0,
            coverage: 0.3,
        }
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
                + weights.coverage * coverage(&candidate, terms);
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
