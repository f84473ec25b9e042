//! Scoring windows of consecutive sentences against the question, and filling the answer with those close to the
//! best.

use navigator_platform::text::terms;
use std::collections::HashMap;

use super::ExtractiveComposer;
use super::intent::{Intent, holds_intent};
use crate::compose::Citation;
use crate::compose::passages::Sentence;

impl ExtractiveComposer {
    /// Every window of up to `window_sentences` consecutive sentences of one source, scored, best first.
    pub(super) fn score<'s>(&self, question: &str, intent: Intent, candidates: &'s [Sentence]) -> Vec<Scored<'s>> {
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
                for last in first..end.min(first + self.settings.window_sentences) {
                    chars += candidates[last].text.len();
                    if last > first && chars > self.settings.window_chars {
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
                    if coverage <= 0.0 {
                        continue;
                    }
                    let answers_intent = window.iter().any(|s| holds_intent(&s.text, intent));
                    // Words of the question found side by side ("hearing aids", "skilled nursing") mark the passage
                    // about it rather than one that mentions its words apart.
                    let phrases = question_terms
                        .windows(2)
                        .filter(|pair| weights.contains_key(&pair[0]) && weights.contains_key(&pair[1]))
                        .filter(|pair| {
                            words
                                .iter()
                                .any(|ws| ws.windows(2).any(|w| w[0] == pair[0] && w[1] == pair[1]))
                        })
                        .count();
                    let rank = 1.0 / (1.0 + 0.5 * source as f32);
                    // A heading or a question in the document restates the question; it does not answer it. A
                    // table flattened into one long line answers nothing readable. Each extra sentence must earn
                    // its place.
                    let penalty = 0.3 * window.iter().filter(|s| s.text.ends_with('?')).count() as f32
                        + 0.2 * window.iter().filter(|s| s.text.len() > 300).count() as f32
                        + self.settings.extra_sentence_cost * (window.len() - 1) as f32;
                    let score = coverage
                        + (self.settings.phrase_weight * phrases as f32).min(2.0 * self.settings.phrase_weight)
                        + self.settings.intent_weight * f32::from(u8::from(answers_intent && intent != Intent::Other))
                        + self.settings.rank_weight * rank
                        - penalty;
                    scored.push(Scored {
                        window,
                        first,
                        coverage,
                        answers_intent,
                        score,
                        pick: Pick::Question,
                    });
                }
            }
            start = end;
        }
        scored.sort_by(|a, b| b.score.total_cmp(&a.score));
        scored
    }

    /// Adds windows that score close to the best, do not overlap what is chosen, and fit the length budget.
    pub(super) fn fill<'s>(&self, scored: &[Scored<'s>], chosen: &mut Vec<Scored<'s>>) {
        let Some(best) = scored.first() else {
            return;
        };
        let mut chars: usize = chosen.iter().map(Scored::chars).sum();
        for candidate in &scored[1..] {
            if chosen.len() >= self.settings.max_passages || candidate.score < self.settings.keep_ratio * best.score {
                break;
            }
            let overlaps = chosen
                .iter()
                .any(|c| c.overlaps(candidate) || c.text() == candidate.text());
            if overlaps || chars + candidate.chars() > self.settings.max_chars {
                continue;
            }
            chars += candidate.chars();
            chosen.push(Scored {
                pick: Pick::Fill,
                ..candidate.clone()
            });
        }
    }
}

/// A window of consecutive sentences of one source, with its score.
#[derive(Debug, Clone)]
pub(super) struct Scored<'s> {
    pub(super) window: &'s [Sentence],
    /// The index of its first sentence among all candidates.
    pub(super) first: usize,
    pub(super) coverage: f32,
    pub(super) answers_intent: bool,
    pub(super) score: f32,
    pub(super) pick: Pick,
}

/// Why a window is quoted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Pick {
    /// It answers the question, or one part of it.
    Question,
    /// It scores close to the best.
    Fill,
    /// It opens a section a quoted passage refers to.
    Followed,
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

pub(super) fn sentence_stems(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(stem)
        .collect()
}

/// Each question term's weight: rarer among the candidate sentences is heavier. A term no candidate holds weighs
/// nothing: retrieval already chose these passages for the question, so such a word is mostly phrasing ("tonight",
/// "might"); a missing name is caught by [`unmentioned_name`] instead.
pub(super) fn rarity(question_terms: &[String], stems: &[Vec<String>]) -> HashMap<String, f32> {
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
pub(super) const GENERIC_TERMS: &[&str] = &[
    "plan", "cover", "covere", "get", "need", "want", "pay", "cost", "much", "many", "will", "doe",
];
