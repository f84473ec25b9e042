//! Scoring passages (windows of consecutive sentences of one source) against a question: how close the best
//! sentence's vector is, how much of the question's wording the passage holds, whether it holds the kind of answer
//! asked for, and how well its source ranked.

use navigator_platform::text::terms;
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
    /// The share of the question's (weighted) content words it holds.
    pub(super) coverage: f32,
    pub(super) score: f32,
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
    /// Every window of up to `window_sentences` consecutive sentences of one source, scored, best first.
    pub(super) fn score<'s>(&self, question: &str, candidates: &'s [Sentence]) -> Vec<Scored<'s>> {
        let settings = &self.settings;
        let answer = super::intent::answer_type(question);
        let question_terms: Vec<String> = terms(question).iter().map(|t| stem(t)).collect();
        let stems: Vec<Vec<String>> = candidates.iter().map(|s| sentence_stems(&s.text)).collect();
        let weights = rarity(&question_terms, &stems);
        let total: f32 = weights.values().sum();
        let mut scored = Vec::new();
        let mut start = 0;
        while start < candidates.len() {
            let source = candidates[start].source_rank;
            let end = candidates[start..]
                .iter()
                .position(|s| s.source_rank != source)
                .map_or(candidates.len(), |n| start + n);
            for first in start..end {
                let mut chars = 0;
                for last in first..end.min(first + settings.window_sentences) {
                    chars += candidates[last].text.len();
                    if last > first && chars > settings.window_chars {
                        break;
                    }
                    let window = &candidates[first..=last];
                    let words = &stems[first..=last];
                    let covered: f32 = weights
                        .iter()
                        .filter(|(term, _)| words.iter().any(|ws| ws.iter().any(|w| w == *term)))
                        .map(|(_, weight)| weight)
                        .sum();
                    let coverage = if total > 0.0 { covered / total } else { 0.0 };
                    // Without sentence vectors (a web result), the wording stands in for the meaning.
                    let similarity = window
                        .iter()
                        .filter_map(|s| s.similarity)
                        .fold(None, |best: Option<f32>, s| Some(best.map_or(s, |b| b.max(s))))
                        .unwrap_or(coverage);
                    let typed = answer != AnswerType::Other && window.iter().any(|s| holds(&s.text, answer));
                    let rank = 1.0 / (1.0 + 0.5 * source as f32);
                    // A heading or a question in the document restates the question; it does not answer it. A
                    // table flattened into one long line answers nothing readable.
                    let penalty = 0.3 * window.iter().filter(|s| s.text.ends_with('?')).count() as f32
                        + 0.2 * window.iter().filter(|s| s.text.len() > 300).count() as f32
                        + settings.extra_sentence_cost * (window.len() - 1) as f32;
                    let score = settings.similarity_weight * similarity
                        + settings.coverage_weight * coverage
                        + settings.answer_type_weight * f32::from(u8::from(typed))
                        + settings.rank_weight * rank
                        - penalty;
                    scored.push(Scored {
                        window,
                        first,
                        coverage,
                        score,
                    });
                }
            }
            start = end;
        }
        scored.sort_by(|a, b| b.score.total_cmp(&a.score));
        scored
    }
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
