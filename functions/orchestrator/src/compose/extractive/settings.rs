//! The extractive composer's weights and limits.

/// How a sentence's score is made, and when the answer counts as found. Chosen on the dev question set
/// (docs/ARCHITECTURE.md has the figures).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExtractiveSettings {
    /// Weight of holding what the question asks for (an amount, a number, a span of time).
    pub intent_weight: f32,
    /// Weight of the source's rank (1 for the best source, falling with rank).
    pub rank_weight: f32,
    /// Weight of each pair of question words found side by side (at most two count).
    pub phrase_weight: f32,
    /// A passage stating the figure asked for must cover at least this share of the question.
    pub min_intent_coverage: f32,
    /// For a question about outside facts that the web did not answer, the coverage the plan's passages need.
    pub outside_fact_coverage: f32,
    /// What each sentence of a passage beyond its first costs.
    pub extra_sentence_cost: f32,
    /// A passage quoted besides the best must score at least this share of the best.
    pub keep_ratio: f32,
    /// The best sentence must cover at least this share of the question's (weighted) content words.
    pub min_coverage: f32,
    /// The most passages quoted.
    pub max_passages: usize,
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
            intent_weight: 0.35,
            rank_weight: 0.3,
            phrase_weight: 0.15,
            min_intent_coverage: 0.4,
            outside_fact_coverage: 0.95,
            extra_sentence_cost: 0.03,
            keep_ratio: 0.5,
            min_coverage: 0.3,
            max_passages: 4,
            window_sentences: 4,
            window_chars: 640,
            max_chars: 1600,
        }
    }
}

impl ExtractiveSettings {
    /// Sets one field by name, for measuring alternatives (`navigator eval answers --set keep_ratio=0.6`).
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        let float = || value.parse::<f32>().map_err(|e| format!("{name}={value}: {e}"));
        let count = || value.parse::<usize>().map_err(|e| format!("{name}={value}: {e}"));
        match name {
            "intent_weight" => self.intent_weight = float()?,
            "rank_weight" => self.rank_weight = float()?,
            "phrase_weight" => self.phrase_weight = float()?,
            "min_intent_coverage" => self.min_intent_coverage = float()?,
            "extra_sentence_cost" => self.extra_sentence_cost = float()?,
            "outside_fact_coverage" => self.outside_fact_coverage = float()?,
            "keep_ratio" => self.keep_ratio = float()?,
            "min_coverage" => self.min_coverage = float()?,
            "max_passages" => self.max_passages = count()?,
            "max_chars" => self.max_chars = count()?,
            "window_sentences" => self.window_sentences = count()?,
            "window_chars" => self.window_chars = count()?,
            _ => return Err(format!("no extractive setting named {name:?}")),
        }
        Ok(())
    }
}
