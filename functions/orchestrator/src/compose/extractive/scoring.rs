//! Scoring passages (windows of consecutive sentences of one source) against a question: how close the best
//! sentence's vector is, how much of the question's wording the passage holds, whether it holds the kind of answer
//! asked for, and how well its source ranked.

use navigator_platform::text::{PieceWeights, terms};
use std::collections::HashMap;

use super::ExtractiveComposer;
use super::intent::{AnswerType, holds};
use crate::chat::Citation;
use crate::compose::passages::Sentence;

/// A window of consecutive sentences of one source, with its score.
#[derive(Debug, Clone)]
pub(super) struct Scored<'s> {
    pub(super) window: &'s [Sentence],
    /// The index of its first sentence among all candidates.
    pub(super) first: usize,
    /// What the score was made of: read only by the `tuning` feature's record of every window weighed.
    #[cfg_attr(not(feature = "tuning"), allow(dead_code))]
    pub(super) features: Features,
    pub(super) score: f32,
}

/// What a window's score is made of, each before its weight.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct Features {
    /// The best sentence vector's cosine similarity to the question (the wording's coverage without vectors).
    pub similarity: f32,
    /// The first sentence's: a window that opens with its answer reads as one.
    pub first_similarity: f32,
    /// How much better than the typical candidate sentence the window matches the question's word pieces, each piece
    /// at its best sentence of the window and weighted by rarity (0 without piece matches).
    pub interaction: f32,
    /// The share of the question's content words the window holds, each weighted by how rare it is.
    pub coverage: f32,
    /// The same share, of the words of the section the window's source sits in.
    pub section_coverage: f32,
    /// Whether it holds the kind of answer the question asks for (never for a question of no particular kind).
    pub typed: bool,
    /// 1 for the best-ranked source, falling with rank.
    pub rank: f32,
    /// Its source's retrieval score.
    pub source_score: f32,
    /// Sentences ending in a question mark (headings and restated questions).
    pub questions: usize,
    /// Sentences of over 300 characters (tables flattened into one line).
    pub long_sentences: usize,
    pub sentences: usize,
}

impl Scored<'_> {
    pub(super) fn text(&self) -> String {
        self.window
            .iter()
            .map(|s| s.text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub(super) fn chars(&self) -> usize {
        self.window.iter().map(|s| s.text.len() + 1).sum()
    }

    pub(super) fn citation(&self) -> &Citation {
        &self.window[0].citation
    }

    pub(super) fn overlaps(&self, other: &Scored<'_>) -> bool {
        let (a, b) = (self.first, self.first + self.window.len());
        let (c, d) = (other.first, other.first + other.window.len());
        a < d && c < b
    }
}

impl ExtractiveComposer {
    /// Every window of up to `window_sentences` consecutive sentences of one source (and `window_chars`), scored,
    /// best first. A window does not end on a sentence ending in a colon while its source goes on, and may run one
    /// sentence past those limits to reach what such a sentence introduces.
    pub(super) fn score<'s>(&self, question: &str, candidates: &'s [Sentence]) -> Vec<Scored<'s>> {
        let settings = &self.settings;
        let answer = super::intent::answer_type(question);
        let question_terms: Vec<String> = terms(question).iter().map(|t| stem(t)).collect();
        let stems: Vec<Vec<String>> = candidates.iter().map(|s| sentence_stems(&s.text)).collect();
        let weights = rarity(&question_terms, &stems);
        let total: f32 = weights.values().sum();
        let pieces = PieceWeights::new(candidates.iter().filter_map(|s| s.piece_matches.as_deref()));
        let mut scored = Vec::new();
        let mut start = 0;
        while start < candidates.len() {
            let source = candidates[start].source_rank;
            let end = candidates[start..]
                .iter()
                .position(|s| s.source_rank != source)
                .map_or(candidates.len(), |n| start + n);
            let section_coverage = share_held(&weights, total, sentence_stems(&candidates[start].section).iter());
            for first in start..end {
                let mut chars = 0;
                for last in first..end {
                    // A sentence ending in a colon introduces what follows ("mail it to us at this address:"): the
                    // window does not stop on it while there is room, and goes on to what it introduces even one
                    // sentence past its limits (then it stops, whatever that sentence ends with).
                    let introduced = last > first && introduces(&candidates[last - 1].text);
                    chars += candidates[last].text.len();
                    let over =
                        last - first >= settings.window_sentences || (last > first && chars > settings.window_chars);
                    if over && !introduced {
                        break;
                    }
                    if !over && introduces(&candidates[last].text) && last + 1 < end {
                        continue;
                    }
                    let window = &candidates[first..=last];
                    let words = &stems[first..=last];
                    let coverage = share_held(&weights, total, words.iter().flatten());
                    // Without sentence vectors (a web result), the wording stands in for the meaning.
                    let similarity = window
                        .iter()
                        .filter_map(|s| s.similarity)
                        .fold(None, |best: Option<f32>, s| Some(best.map_or(s, |b| b.max(s))))
                        .unwrap_or(coverage);
                    let features = Features {
                        similarity,
                        first_similarity: window[0].similarity.unwrap_or(coverage),
                        interaction: pieces.score(window.iter().filter_map(|s| s.piece_matches.as_deref())),
                        coverage,
                        section_coverage,
                        typed: answer != AnswerType::Other && window.iter().any(|s| holds(&s.text, answer)),
                        rank: 1.0 / (1.0 + 0.5 * source as f32),
                        source_score: window[0].source_score,
                        questions: window.iter().filter(|s| s.text.ends_with('?')).count(),
                        long_sentences: window.iter().filter(|s| s.text.len() > 300).count(),
                        sentences: window.len(),
                    };
                    let score = settings.weigh(&features);
                    scored.push(Scored {
                        window,
                        first,
                        features,
                        score,
                    });
                    if over {
                        break;
                    }
                }
            }
            start = end;
        }
        scored.sort_by(|a, b| b.score.total_cmp(&a.score));
        scored
    }
}

/// Whether a sentence introduces the next one: it ends in a colon.
fn introduces(sentence: &str) -> bool {
    sentence.trim_end().ends_with(':')
}

/// The share of the question's weighted terms among `words`.
fn share_held<'w>(weights: &HashMap<String, f32>, total: f32, words: impl Iterator<Item = &'w String> + Clone) -> f32 {
    if total <= 0.0 {
        return 0.0;
    }
    let held: f32 = weights
        .iter()
        .filter(|(term, _)| words.clone().any(|w| w == *term))
        .map(|(_, weight)| weight)
        .sum();
    held / total
}

/// A crude stem: lower case, a plural `s` dropped, at most six letters, so "copay" meets "copayment" and "visits"
/// meets "visit".
pub(super) fn stem(word: &str) -> String {
    let lower = word.to_lowercase();
    let trimmed = if lower.len() > 3 && lower.ends_with('s') && !lower.ends_with("ss") {
        &lower[..lower.len() - 1]
    } else {
        lower.as_str()
    };
    trimmed.chars().take(6).collect()
}

fn sentence_stems(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(stem)
        .collect()
}

/// Each question term's weight: rarer among the candidate sentences is heavier. A term no candidate holds weighs
/// nothing: retrieval already chose these passages for the question, so such a word is mostly phrasing ("tonight",
/// "might"); a missing name is caught by `unmentioned_name` instead.
fn rarity(question_terms: &[String], stems: &[Vec<String>]) -> HashMap<String, f32> {
    let n = stems.len().max(1) as f32;
    question_terms
        .iter()
        .filter(|term| !GENERIC_TERMS.contains(&term.as_str()))
        .filter_map(|term| {
            let df = stems.iter().filter(|words| words.contains(term)).count() as f32;
            (df > 0.0).then(|| (term.clone(), (1.0 + n / df).ln()))
        })
        .collect()
}

/// Stems that any plan passage might hold, and that say nothing about which passage answers.
const GENERIC_TERMS: &[&str] = &[
    "plan", "cover", "covere", "get", "need", "want", "pay", "cost", "much", "many", "will", "doe",
];
