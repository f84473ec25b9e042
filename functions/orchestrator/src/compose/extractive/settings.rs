//! The extractive composer's weights and limits.

use super::scoring::Features;

/// How a passage's score is made, and when the answer counts as found. Every value was chosen on the tuning half of
/// the repository's question sets (`data/eval/answers-tuning.jsonl`), the weights of similarity and piece interaction
/// and the window's length last on it together with `data/train/answers-train-{d,e,f}.jsonl`, which the shipped query
/// adapter did not train on (docs/ARCHITECTURE.md has the figures), for the shipped retrieval: the local sentence
/// model with its query adapter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExtractiveSettings {
    /// Weight of the passage's best sentence vector's similarity to the question.
    pub similarity_weight: f32,
    /// Weight of the question's content words the passage holds, each weighted by how rare it is among the sources.
    pub coverage_weight: f32,
    /// Weight of how much better than the typical candidate sentence the window matches the question's word pieces
    /// one by one (see `navigator_platform::text::PieceWeights`).
    pub interaction_weight: f32,
    /// Weight of holding the kind of answer asked for (an amount, a time limit, a number, a place, steps). 0.25 on the
    /// tuning pool: 0, 0.15, 0.25, 0.35 and 0.5 led with a fact about as often, and held one most often from 0.25 up.
    pub answer_type_weight: f32,
    /// Weight of the source's rank (1 for the best source, falling with rank).
    pub rank_weight: f32,
    /// What each sentence of a passage beyond its first costs.
    pub extra_sentence_cost: f32,
    /// The answer (or one part of a question of several) is found only when its leading passage scores at least
    /// this: below it, the turn declines or says the part is open. Chosen when the query adapter's similarities were
    /// weighed 3 (and piece interaction 1): every threshold from 0.8 to 1.6 gave the same answers on the tuning half
    /// (1.8 declined one more negative and cited one page less); 1.2 is the middle of that range.
    pub answer_threshold: f32,
    /// The question is answered only when a retrieved chunk's vector is at least this close to the query's, as the
    /// query adapter read it (`ChunkHit::similarity`; a search no adapter read reports none, and the check stands
    /// aside). Chosen out of fold on the adapter's training questions (shared/retrieval/data/QUERY-ADAPTER.md); 0
    /// turns the check off.
    pub min_similarity: f32,
    /// A supporting passage must score at least this share of the leading one.
    pub support_ratio: f32,
    /// The most supporting passages after the answer.
    pub max_supports: usize,
    /// The most sentences one passage joins: a chart row's label, its cost, and a condition.
    pub window_sentences: usize,
    /// The most characters of one passage of several sentences.
    pub window_chars: usize,
    /// The most characters quoted.
    pub max_chars: usize,
}

impl Default for ExtractiveSettings {
    fn default() -> Self {
        Self {
            similarity_weight: 3.5,
            coverage_weight: 0.3,
            interaction_weight: 2.5,
            answer_type_weight: 0.25,
            rank_weight: 0.2,
            extra_sentence_cost: 0.0,
            answer_threshold: 1.2,
            min_similarity: 0.31,
            support_ratio: 0.6,
            max_supports: 2,
            window_sentences: 4,
            window_chars: 800,
            max_chars: 1600,
        }
    }
}

impl ExtractiveSettings {
    /// A window's score from what it is made of.
    pub(super) fn weigh(&self, f: &Features) -> f32 {
        // A heading or a question in the document restates the question; it does not answer it. A table flattened
        // into one long line answers nothing readable.
        let penalty = 0.3 * f.questions as f32
            + 0.2 * f.long_sentences as f32
            + self.extra_sentence_cost * f.sentences.saturating_sub(1) as f32;
        self.similarity_weight * f.similarity
            + self.coverage_weight * f.coverage
            + self.interaction_weight * f.interaction
            + self.answer_type_weight * f32::from(u8::from(f.typed))
            + self.rank_weight * f.rank
            - penalty
    }

    /// Sets one field by name, for measuring alternatives (`navigator eval answers --set answer_threshold=0.9`).
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        let float = || value.parse::<f32>().map_err(|e| format!("{name}={value}: {e}"));
        let count = || value.parse::<usize>().map_err(|e| format!("{name}={value}: {e}"));
        match name {
            "similarity_weight" => self.similarity_weight = float()?,
            "coverage_weight" => self.coverage_weight = float()?,
            "answer_type_weight" => self.answer_type_weight = float()?,
            "interaction_weight" => self.interaction_weight = float()?,
            "rank_weight" => self.rank_weight = float()?,
            "extra_sentence_cost" => self.extra_sentence_cost = float()?,
            "answer_threshold" => self.answer_threshold = float()?,
            "min_similarity" => self.min_similarity = float()?,
            "support_ratio" => self.support_ratio = float()?,
            "max_supports" => self.max_supports = count()?,
            "window_sentences" => self.window_sentences = count()?,
            "window_chars" => self.window_chars = count()?,
            "max_chars" => self.max_chars = count()?,
            _ => return Err(format!("no extractive setting named {name:?}")),
        }
        Ok(())
    }
}
