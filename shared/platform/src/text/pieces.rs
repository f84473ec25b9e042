//! Weighing word-piece matches (late interaction): for each of a question's word pieces, retrieval gives each
//! candidate sentence its best cosine among the sentence's pieces (`ChunkHit::piece_matches`). A group of sentences
//! (a chunk, a window of one) then scores how well it meets the question's pieces, each piece at its best sentence
//! of the group. Shared by retrieval's rerank and the extractive composer, so both weigh pieces the same way.

/// The question's pieces weighted over a set of candidate sentences: a piece every candidate matches well ("what",
/// "plan") says little about which one answers, so a piece weighs what the typical candidate leaves of it
/// unmatched. (Weighing by how few candidates match it at a cosine of 0.7 or 0.8, as words are weighed by rarity,
/// scored lower on the answers' tuning half.)
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PieceWeights {
    /// One weight per question piece, summing to 1; empty when nothing can be weighed.
    weights: Vec<f32>,
    /// The weighted match of the typical candidate, subtracted so that a group scores 0 for matching as well as the
    /// typical candidate does (and 0 without matches).
    baseline: f32,
}

impl PieceWeights {
    /// From every candidate sentence's matches. Rows of another length than the first were made for another
    /// question's pieces (a sub-question's search) and are not counted.
    pub fn new<'r>(rows: impl IntoIterator<Item = &'r [f32]>) -> Self {
        let mut rows = rows.into_iter().peekable();
        let pieces = rows.peek().map_or(0, |first| first.len());
        let rows: Vec<&[f32]> = rows.filter(|m| m.len() == pieces).collect();
        if rows.is_empty() || pieces == 0 {
            return Self::default();
        }
        let n = rows.len() as f32;
        let means: Vec<f32> = (0..pieces)
            .map(|q| rows.iter().map(|m| m[q]).sum::<f32>() / n)
            .collect();
        let weights: Vec<f32> = means.iter().map(|mean| (1.0 - mean).max(0.0)).collect();
        let total: f32 = weights.iter().sum();
        if total <= 0.0 {
            return Self::default();
        }
        let weights: Vec<f32> = weights.iter().map(|w| w / total).collect();
        let baseline = weights.iter().zip(&means).map(|(w, m)| w * m).sum();
        Self { weights, baseline }
    }

    /// How much better than the typical candidate a group of sentences meets the question's pieces: each piece at
    /// its best sentence of the group. 0 for a group without matches of the weighed length.
    pub fn score<'r>(&self, group: impl IntoIterator<Item = &'r [f32]>) -> f32 {
        let rows: Vec<&[f32]> = group.into_iter().filter(|m| m.len() == self.weights.len()).collect();
        if rows.is_empty() || self.weights.is_empty() {
            return 0.0;
        }
        let matched: f32 = self
            .weights
            .iter()
            .enumerate()
            .map(|(q, w)| w * rows.iter().map(|m| m[q]).fold(0.0_f32, f32::max))
            .sum();
        matched - self.baseline
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_that_meets_the_rarely_matched_piece_scores_above_the_typical_one() {
        // Every sentence matches the first piece; only the last matches the second.
        let rows: Vec<Vec<f32>> = vec![vec![0.9, 0.2], vec![0.9, 0.3], vec![0.9, 0.95]];
        let weights = PieceWeights::new(rows.iter().map(Vec::as_slice));
        let plain = weights.score([rows[0].as_slice()]);
        let answering = weights.score([rows[2].as_slice()]);
        assert!(answering > 0.0 && plain < 0.0, "{answering} {plain}");
        // A group scores each piece at its best sentence.
        let both = weights.score([rows[0].as_slice(), rows[2].as_slice()]);
        assert!((both - answering).abs() < 1e-6);
    }

    #[test]
    fn matches_of_another_length_or_none_score_nothing() {
        let rows: Vec<Vec<f32>> = vec![vec![0.5, 0.5], vec![0.99, 0.99, 0.99]];
        let weights = PieceWeights::new(rows.iter().map(Vec::as_slice));
        assert_eq!(weights.score([rows[1].as_slice()]), 0.0);
        assert_eq!(weights.score(std::iter::empty()), 0.0);
        assert_eq!(PieceWeights::new(std::iter::empty()).score([rows[0].as_slice()]), 0.0);
        // Every candidate matching every piece perfectly leaves nothing to weigh.
        let perfect = PieceWeights::new([[1.0_f32, 1.0].as_slice()]);
        assert_eq!(perfect.score([[1.0_f32, 1.0].as_slice()]), 0.0);
    }
}
