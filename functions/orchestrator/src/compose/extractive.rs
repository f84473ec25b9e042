//! The offline composer: it quotes the sentences of the sources that answer the question, each with its page or
//! URL, and says plainly when they do not.
//!
//! Each sentence is scored by
//! - how much of the question it covers: the question's content words it holds, weighted by how rare each is among
//!   the candidate sentences (a word every sentence has says little);
//! - whether it holds what the question asks for: an amount for "how much", a phone number for "what number", a
//!   time span for "how long", what to send or ask for and where for "how do I";
//! - the rank of its source.
//!
//! The best sentence and those close to it are quoted, best first, within a length budget. The answer is
//! `unanswered` when no sentence covers enough of the question, when the question asks for an amount or a number
//! that no good sentence holds, or when it names something (a drug, a hospital, a company) no source mentions.

use futures_util::future::BoxFuture;
use navigator_platform::NavigatorError;
use navigator_platform::text::{contains_phrase, terms};
use navigator_resilience::Deadline;
use std::collections::HashMap;

use super::grounding::{Figure, figures};
use super::passages::{Sentence, sentences};
use super::{Citation, ComposeContext, Composer, Composition, Status};
use crate::evidence::Evidence;
use crate::plan::ToolCall;
use crate::plan::cross_refs::references_in;
use crate::plan::rules::question_parts;
use navigator_platform::section::SectionRef;

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

/// The extractive composer.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExtractiveComposer {
    pub settings: ExtractiveSettings,
}

/// What kind of answer the question asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Intent {
    Amount,
    PhoneNumber,
    TimeSpan,
    /// "How do I ...": the steps, where to send what, whom to ask.
    Procedure,
    Other,
}

impl Intent {
    /// Whether the question asks for a figure, which an answer must then state.
    fn asks_for_a_figure(self) -> bool {
        matches!(self, Self::Amount | Self::PhoneNumber | Self::TimeSpan)
    }
}

/// Cues of a question asking for an amount. "Will the plan pay for a wig?" asks whether, not how much.
const AMOUNT_CUES: &[&str] = &[
    "how much",
    "cost",
    "costs",
    "copay",
    "copayment",
    "coinsurance",
    "price",
    "premium",
    "charge",
    "fee",
    "owe",
    "deductible",
    "what do i pay",
    "what will i pay",
    "do i pay",
    "i have to pay",
    "my share",
    "cuánto",
    "cuanto",
    "cuesta",
    "pago",
    "costo",
];
const PHONE_CUES: &[&str] = &["phone", "number", "call", "teléfono", "telefono", "llamar"];
const TIME_CUES: &[&str] = &[
    "how long",
    "how soon",
    "how many days",
    "how often",
    "how much notice",
    "how much time",
    "how far in advance",
    "deadline",
    "cuánto tiempo",
];

/// Cues of a question asking how to do something.
const PROCEDURE_CUES: &[&str] = &[
    "how do i",
    "how can i",
    "how do we",
    "how can we",
    "how should i",
    "what do i do",
    "what should i do",
    "what steps",
    "cómo puedo",
    "qué debo hacer",
];

/// Words of a sentence that tells the member what to do: send, ask for, or fill in something.
const PROCEDURE_WORDS: &[&str] = &[
    "submit",
    "mail",
    "send",
    "request",
    "ask for",
    "ask us",
    "in writing",
    "fill out",
    "p.o. box",
    "form",
];

/// Words that say "it costs nothing" or "it is not paid for": answers to "how much" without a dollar sign.
const AMOUNT_WORDS: &[&str] = &[
    "do not pay",
    "don't pay",
    "no cost",
    "not covered",
    "no coinsurance",
    "nothing",
    "free of charge",
    "%",
];

/// Capitalised words that name the plan's own world, not an outside entity the documents might lack.
const KNOWN_NAMES: &[&str] = &[
    "i",
    "scan",
    "classic",
    "hmo",
    "medicare",
    "medicaid",
    "medi-cal",
    "part",
    "a",
    "b",
    "c",
    "d",
    "er",
    "pcp",
    "original",
    "advantage",
    "covid-19",
    "covid",
    "california",
    "u.s",
    "us",
    "usa",
    "english",
    "spanish",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

impl Composer for ExtractiveComposer {
    fn name(&self) -> &'static str {
        "extractive"
    }

    fn compose<'a>(
        &'a self,
        cx: ComposeContext<'a>,
        _deadline: Deadline,
    ) -> BoxFuture<'a, Result<Composition, NavigatorError>> {
        let composition = self.compose_now(cx.question, cx.evidence);
        Box::pin(async move { Ok(composition) })
    }
}

impl ExtractiveComposer {
    /// Composes at once: the work is a few thousand string comparisons.
    pub fn compose_now(&self, question: &str, evidence: &Evidence) -> Composition {
        let candidates = sentences(evidence);
        if candidates.is_empty() {
            return unanswered(&[], "no passage of your plan documents matched it");
        }
        if let Some(name) = unmentioned_name(question, evidence) {
            let closest = closest_citations(&candidates);
            return unanswered(&closest, &format!("they do not mention {name}"));
        }
        let intent = intent(question);
        let scored = self.score(question, intent, &candidates);
        let Some(best) = scored.first() else {
            return unanswered(&closest_citations(&candidates), "no passage covers it");
        };
        if best.coverage < self.settings.min_coverage {
            return unanswered(&closest_citations(&candidates), "no passage covers it");
        }
        // The planner judged the question to need facts from outside the plan, and the web did not answer: the
        // plan's own passages answer only if they match the whole question.
        let web_wanted_but_silent = evidence.called(ToolCall::is_web_search) && evidence.web_results().is_empty();
        if web_wanted_but_silent && best.coverage < self.settings.outside_fact_coverage {
            return unanswered(
                &closest_citations(&candidates),
                "this is about facts outside your plan, and web search could not be reached",
            );
        }
        let mut chosen = vec![best.clone()];
        // Each later part of a question ("..., and how long do I have?") gets its own best passage.
        for part in question_parts(question).iter().skip(1) {
            let part_scored = self.score(part, self::intent(part), &candidates);
            if let Some(found) = part_scored
                .iter()
                .filter(|s| s.coverage >= self.settings.min_coverage)
                .find(|s| !chosen.iter().any(|c| c.overlaps(s)))
            {
                chosen.push(found.clone());
            }
        }
        self.fill(&scored, &mut chosen);
        self.follow_references(&candidates, intent, &mut chosen);
        let states_what_was_asked = chosen
            .iter()
            .any(|s| s.answers_intent && s.coverage >= self.settings.min_intent_coverage);
        if intent.asks_for_a_figure() && !states_what_was_asked {
            // The question asks for a figure, and no passage about its subject states one.
            let what = match intent {
                Intent::Amount => "the amount you asked about",
                Intent::PhoneNumber => "the number you asked for",
                Intent::TimeSpan => "the time you asked about",
                Intent::Procedure | Intent::Other => "it",
            };
            return unanswered(&closest_citations(&candidates), &format!("they do not state {what}"));
        }
        answered(&chosen)
    }

    /// Every window of up to `window_sentences` consecutive sentences of one source, scored, best first.
    fn score<'s>(&self, question: &str, intent: Intent, candidates: &'s [Sentence]) -> Vec<Scored<'s>> {
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
    fn fill<'s>(&self, scored: &[Scored<'s>], chosen: &mut Vec<Scored<'s>>) {
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

impl ExtractiveComposer {
    /// A chosen passage that sends the reader to another section ("see Section 2.4 in this chapter") is followed
    /// by that section's opening when the turn read it: the reference alone answers nothing. The openings stay; the
    /// passages added only for scoring close to the best make room for them.
    fn follow_references<'s>(&self, candidates: &'s [Sentence], intent: Intent, chosen: &mut Vec<Scored<'s>>) {
        let mut at = 0;
        while at < chosen.len() {
            let referrer = chosen[at].first;
            let references: Vec<SectionRef> = chosen[at]
                .window
                .iter()
                .flat_map(|sentence| references_in(&sentence.text, &sentence.section))
                .map(|(section, _)| section)
                .collect();
            for section in references {
                let Some(opening) = self.opening(candidates, &section, intent) else {
                    continue;
                };
                // A passage chosen for the question, or an opening already quoted, keeps its place; a passage
                // quoting part of the opening only because it scored close to the best gives way to it.
                if chosen.iter().any(|c| c.pick != Pick::Fill && c.overlaps(&opening)) {
                    continue;
                }
                chosen.retain(|c| !c.overlaps(&opening));
                // The referrer is never removed: it belongs to another section, so to another passage.
                let Some(position) = chosen.iter().position(|c| c.first == referrer) else {
                    break;
                };
                chosen.insert(position + 1, opening);
            }
            at = chosen
                .iter()
                .position(|c| c.first == referrer)
                .map_or(chosen.len(), |p| p + 1);
            while chosen.get(at).is_some_and(|c| c.pick == Pick::Followed) {
                at += 1;
            }
        }
        // Over budget, the last passage not chosen for the question goes, with the openings it brought; an opening
        // brought by a passage chosen for the question goes alone.
        let chars = |chosen: &[Scored<'_>]| chosen.iter().map(Scored::chars).sum::<usize>();
        while chosen.len() > self.settings.max_passages || chars(chosen) > self.settings.max_chars {
            let Some(last) = chosen.iter().rposition(|c| c.pick != Pick::Question) else {
                break;
            };
            let mut first = last;
            while first > 0 && chosen[first].pick == Pick::Followed && chosen[first - 1].pick != Pick::Question {
                first -= 1;
            }
            chosen.drain(first..=last);
        }
    }

    /// The first sentences of a section the turn read, from the passage that opens it (or its best passage).
    fn opening<'s>(&self, candidates: &'s [Sentence], section: &SectionRef, intent: Intent) -> Option<Scored<'s>> {
        let heading = format!("section {}", section.number);
        let starts = candidates
            .iter()
            .enumerate()
            .filter(|(_, s)| s.position == 0 && section.holds(&s.section))
            .min_by_key(|(_, s)| (!s.text.to_lowercase().starts_with(&heading), s.source_rank))
            .map(|(i, _)| i)?;
        let source = candidates[starts].source_rank;
        let mut last = starts;
        let mut chars = candidates[starts].text.len();
        while last + 1 < candidates.len()
            && candidates[last + 1].source_rank == source
            && last + 1 - starts < self.settings.window_sentences
            && chars + candidates[last + 1].text.len() <= self.settings.window_chars
        {
            last += 1;
            chars += candidates[last].text.len();
        }
        let window = &candidates[starts..=last];
        Some(Scored {
            window,
            first: starts,
            coverage: 0.0,
            answers_intent: window.iter().any(|s| holds_intent(&s.text, intent)),
            score: 0.0,
            pick: Pick::Followed,
        })
    }
}

/// A window of consecutive sentences of one source, with its score.
#[derive(Debug, Clone)]
struct Scored<'s> {
    window: &'s [Sentence],
    /// The index of its first sentence among all candidates.
    first: usize,
    coverage: f32,
    answers_intent: bool,
    score: f32,
    pick: Pick,
}

/// Why a window is quoted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pick {
    /// It answers the question, or one part of it.
    Question,
    /// It scores close to the best.
    Fill,
    /// It opens a section a quoted passage refers to.
    Followed,
}

impl Scored<'_> {
    fn text(&self) -> String {
        self.window
            .iter()
            .map(|s| s.text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn chars(&self) -> usize {
        self.window.iter().map(|s| s.text.len() + 1).sum()
    }

    fn citation(&self) -> &Citation {
        &self.window[0].citation
    }

    fn overlaps(&self, other: &Scored<'_>) -> bool {
        let (a, b) = (self.first, self.first + self.window.len());
        let (c, d) = (other.first, other.first + other.window.len());
        a < d && c < b
    }
}

fn intent(question: &str) -> Intent {
    let lower = question.to_lowercase();
    let has = |cues: &[&str]| cues.iter().any(|cue| contains_phrase(&lower, cue));
    if has(PHONE_CUES) && (lower.contains("phone") || lower.contains("number") || lower.contains("teléfono")) {
        Intent::PhoneNumber
    } else if has(TIME_CUES) {
        Intent::TimeSpan
    } else if has(AMOUNT_CUES) {
        Intent::Amount
    } else if has(PROCEDURE_CUES) {
        Intent::Procedure
    } else {
        Intent::Other
    }
}

fn holds_intent(text: &str, intent: Intent) -> bool {
    let lower = text.to_lowercase();
    match intent {
        Intent::Amount => {
            figures(text).iter().any(|f| matches!(f, Figure::Dollars(_)))
                || AMOUNT_WORDS.iter().any(|w| lower.contains(w))
        }
        Intent::PhoneNumber => figures(text).iter().any(|f| matches!(f, Figure::Phone(_))),
        Intent::TimeSpan => {
            let words: Vec<&str> = lower
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .collect();
            let is_number = |w: &str| w.chars().all(|c| c.is_ascii_digit()) || NUMBER_WORDS.contains(&w);
            let is_unit = |w: &str| TIME_UNITS.contains(&w);
            words
                .iter()
                .enumerate()
                .any(|(i, word)| is_number(word) && words[i + 1..].iter().take(2).any(|next| is_unit(next)))
        }
        Intent::Procedure => PROCEDURE_WORDS.iter().any(|w| contains_phrase(&lower, w)),
        Intent::Other => false,
    }
}

const TIME_UNITS: &[&str] = &[
    "day", "days", "hour", "hours", "month", "months", "week", "weeks", "year", "years",
];
const NUMBER_WORDS: &[&str] = &[
    "one", "two", "three", "four", "five", "six", "seven", "ten", "fourteen", "thirty", "sixty", "ninety",
];

/// A crude stem: lower case, a plural `s` dropped, at most six letters, so "copay" meets "copayment" and "visits"
/// meets "visit".
fn stem(word: &str) -> String {
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
/// "might"); a missing name is caught by [`unmentioned_name`] instead.
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

/// A name in the question's asking sentences (a capitalised word, not an acronym, not at a sentence start, and not
/// the plan's own vocabulary) that no
/// source mentions. Members ask about drugs, hospitals and companies the plan documents never name; quoting a
/// neighbouring passage would read as an answer.
fn unmentioned_name(question: &str, evidence: &Evidence) -> Option<String> {
    let mut corpus = String::new();
    for chunk in evidence.chunks() {
        corpus.push_str(&chunk.text.to_lowercase());
        corpus.push(' ');
    }
    for result in evidence.web_results() {
        corpus.push_str(&result.snippet.to_lowercase());
        corpus.push(' ');
        corpus.push_str(&result.title.to_lowercase());
    }
    // Only the sentences that ask: in "I'm going to Mexico for a month. Is an emergency there covered?" the place
    // sets the scene; the question is about emergencies.
    let sentences: Vec<&str> = question.split_inclusive(['.', '?', '!']).collect();
    let asking: Vec<&str> = sentences
        .iter()
        .copied()
        .filter(|s| s.trim_end().ends_with('?'))
        .collect();
    let asking = if asking.is_empty() { sentences } else { asking };
    for sentence in asking {
        let mut sentence_start = true;
        for raw in sentence.split_whitespace() {
            let word = raw.trim_matches(|c: char| !c.is_alphanumeric() && c != '-');
            // "SCAN's" names SCAN; "I'm" names no one.
            let word = word.split(['\'', '’']).next().unwrap_or_default();
            let starts = sentence_start;
            sentence_start = raw.ends_with(':') || raw.starts_with('¿');
            // A redaction placeholder ("[SSN]") is not a name.
            if starts || word.is_empty() || raw.trim_start_matches(['(', '"']).starts_with('[') {
                continue;
            }
            // A name is capitalised and not an acronym: "Eliquis" and "TruHearing" are names; "SSN" and "ID" are
            // terms.
            let capitalised =
                word.chars().next().is_some_and(char::is_uppercase) && word.chars().skip(1).any(char::is_lowercase);
            let lower = word.to_lowercase();
            if !capitalised || KNOWN_NAMES.contains(&lower.as_str()) || word.len() < 3 {
                continue;
            }
            if !corpus.contains(&lower) {
                return Some(word.to_string());
            }
        }
    }
    None
}

fn closest_citations(candidates: &[Sentence]) -> Vec<Citation> {
    let mut citations: Vec<Citation> = Vec::new();
    for sentence in candidates {
        if !citations.contains(&sentence.citation) {
            citations.push(sentence.citation.clone());
        }
        if citations.len() == 2 {
            break;
        }
    }
    citations
}

fn unanswered(closest: &[Citation], why: &str) -> Composition {
    let mut answer = format!("I could not find the answer in your plan documents: {why}.");
    if !closest.is_empty() {
        let places: Vec<String> = closest
            .iter()
            .map(|c| match (&c.page, &c.url) {
                (Some(page), _) => format!("page {page} of {}", c.title),
                (None, Some(url)) => url.clone(),
                (None, None) => c.title.clone(),
            })
            .collect();
        answer.push_str(&format!(" The closest passages are on {}.", places.join(" and ")));
    }
    answer.push_str(" Member Services can confirm the details for you.");
    Composition {
        status: Status::Unanswered,
        answer,
        citations: closest.to_vec(),
    }
}

fn answered(chosen: &[Scored<'_>]) -> Composition {
    let mut citations: Vec<Citation> = Vec::new();
    let mut lines = vec!["Here is what your plan documents say:".to_string()];
    for scored in chosen {
        let citation = scored.citation();
        if !citations.contains(citation) {
            citations.push(citation.clone());
        }
        lines.push(format!("• {} {}", scored.text(), citation.marker()));
    }
    Composition {
        status: Status::Answered,
        answer: lines.join("\n"),
        citations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{CallRecord, CallResult};
    use crate::plan::{PlannedCall, ToolCall};
    use navigator_platform::contracts::{ChunkHit, RetrieveOutput, RetrieveTimings, WebResult, WebSearchOutput};
    use uuid::Uuid;

    fn chunk(n: u128, page: u32, text: &str, score: f32) -> ChunkHit {
        ChunkHit {
            chunk_id: Uuid::from_u128(n),
            document_id: Uuid::from_u128(100),
            title: "SCAN Classic Evidence of Coverage".into(),
            page,
            section: "Chapter 4".into(),
            text: text.into(),
            score,
        }
    }

    fn evidence(chunks: Vec<ChunkHit>, web: Vec<WebResult>) -> Evidence {
        let mut calls = vec![CallRecord {
            wave: 1,
            call: PlannedCall {
                id: "w1-0".into(),
                call: ToolCall::Retrieve { query: "q".into() },
            },
            result: CallResult::Retrieved(RetrieveOutput {
                chunks,
                timings_ms: RetrieveTimings::default(),
            }),
            ms: 1.0,
        }];
        if !web.is_empty() {
            calls.push(CallRecord {
                wave: 1,
                call: PlannedCall {
                    id: "w1-1".into(),
                    call: ToolCall::WebSearch { query: "q".into() },
                },
                result: CallResult::Searched(WebSearchOutput { results: web }),
                ms: 1.0,
            });
        }
        Evidence { calls }
    }

    fn chart() -> Vec<ChunkHit> {
        vec![
            chunk(
                1,
                92,
                "Physician services\nPrimary care visit\n$0 copayment for each\noffice visit.\nSpecialist visit\n$20 copayment for each\noffice visit.\nPrior authorization rules may apply.",
                1.5,
            ),
            chunk(
                2,
                71,
                "Emergency care\nYou pay a $90 copayment for each\nemergency room visit.\nIf you are admitted, you do not pay it.",
                1.2,
            ),
            chunk(
                3,
                12,
                "You do not pay a separate monthly plan premium for SCAN Classic.\nYou must continue to pay your Medicare Part B premium.",
                1.1,
            ),
        ]
    }

    fn compose(question: &str, evidence: &Evidence) -> Composition {
        ExtractiveComposer::default().compose_now(question, evidence)
    }

    #[test]
    fn quotes_the_row_that_answers_with_its_page() {
        let answer = compose("What does a specialist visit cost me?", &evidence(chart(), vec![]));
        assert_eq!(answer.status, Status::Answered);
        assert!(
            answer
                .answer
                .contains("Specialist visit $20 copayment for each office visit. [p. 92]"),
            "{}",
            answer.answer
        );
        assert_eq!(
            answer.citations[0],
            Citation::page("SCAN Classic Evidence of Coverage", 92)
        );
        let er = compose("How much is the ER?", &evidence(chart(), vec![]));
        assert!(
            er.answer.contains("$90 copayment") && er.answer.contains("[p. 71]"),
            "{}",
            er.answer
        );
    }

    #[test]
    fn a_how_do_i_question_prefers_the_passage_that_says_what_to_send_where() {
        let chunks = vec![
            chunk(
                1,
                149,
                "You can ask us to pay you back for a bill you paid for covered medical care. We will look at the bill and decide whether the services should be covered.",
                1.4,
            ),
            chunk(
                2,
                152,
                "To get paid back for a bill, mail your request for payment with the bill and proof of payment to SCAN Health Plan, P.O. Box 21543, Eagan, MN 55121.",
                1.3,
            ),
        ];
        let answer = compose("How do I get paid back for a bill I paid?", &evidence(chunks, vec![]));
        assert_eq!(answer.status, Status::Answered);
        let address = answer
            .answer
            .find("P.O. Box 21543")
            .unwrap_or_else(|| panic!("the address is quoted: {}", answer.answer));
        let other = answer.answer.find("We will look at the bill").unwrap_or(usize::MAX);
        assert!(address < other, "the steps come first: {}", answer.answer);
        // Not a figure question: a procedure answer is not declined for lacking one.
        assert_eq!(intent("How do I appeal?"), Intent::Procedure);
        assert_eq!(intent("How do I appeal, and how long do I have?"), Intent::TimeSpan);
    }

    #[test]
    fn every_quoted_line_carries_a_citation() {
        let answer = compose(
            "Is there a monthly premium for SCAN Classic?",
            &evidence(chart(), vec![]),
        );
        assert_eq!(answer.status, Status::Answered);
        for line in answer.answer.lines().skip(1) {
            assert!(line.ends_with(']'), "{line}");
        }
    }

    #[test]
    fn a_name_the_sources_never_mention_is_unanswered() {
        let answer = compose(
            "What tier is Eliquis on, and what's my copay?",
            &evidence(chart(), vec![]),
        );
        assert_eq!(answer.status, Status::Unanswered);
        assert!(answer.answer.contains("do not mention Eliquis"), "{}", answer.answer);
        assert!(!answer.answer.contains('$'), "no amount is offered as an answer");
    }

    #[test]
    fn a_name_that_only_sets_the_scene_does_not_decline_the_question() {
        let answer = compose(
            "I'm flying to Lisbon next week. How much is the ER?",
            &evidence(chart(), vec![]),
        );
        assert_eq!(answer.status, Status::Answered, "{}", answer.answer);
        let asked = compose(
            "I'm flying next week. Does Lisbon General take my plan?",
            &evidence(chart(), vec![]),
        );
        assert_eq!(asked.status, Status::Unanswered, "{}", asked.answer);
    }

    #[test]
    fn an_amount_question_without_an_amount_in_the_sources_is_unanswered() {
        let sources = vec![chunk(
            1,
            12,
            "You must continue to pay your Medicare Part B premium to stay a member.",
            1.4,
        )];
        let answer = compose(
            "How much is the standard Medicare Part B premium?",
            &evidence(sources, vec![]),
        );
        assert_eq!(answer.status, Status::Unanswered, "{}", answer.answer);
    }

    #[test]
    fn nothing_retrieved_is_unanswered_not_an_empty_answer() {
        let answer = compose("Is acupuncture covered?", &Evidence::default());
        assert_eq!(answer.status, Status::Unanswered);
        assert!(answer.answer.starts_with("I could not find"));
    }

    #[test]
    fn web_results_are_cited_by_url() {
        let web = vec![WebResult {
            title: "Medicare costs".into(),
            url: "https://www.medicare.gov/basics/costs".into(),
            snippet: "The standard Part B premium amount in 2025 is $185.00.".into(),
            score: 0.9,
        }];
        let answer = compose(
            "How much is the standard Part B premium in 2025?",
            &evidence(vec![], web),
        );
        assert_eq!(answer.status, Status::Answered, "{}", answer.answer);
        assert!(
            answer
                .answer
                .contains("$185.00. [https://www.medicare.gov/basics/costs]")
        );
        assert_eq!(
            answer.citations[0].url.as_deref(),
            Some("https://www.medicare.gov/basics/costs")
        );
    }

    #[test]
    fn a_referred_section_that_was_read_is_quoted_after_its_reference() {
        let in_section = |n: u128, page: u32, section: &str, text: &str, score: f32| ChunkHit {
            section: section.into(),
            ..chunk(n, page, text, score)
        };
        let referrer = in_section(
            1,
            10,
            "CHAPTER 1: Getting started › Section 2.1 Your eligibility requirements",
            "You are eligible as long as you live in our geographic service area (Section 2.2 below describes our \
             service area).",
            1.4,
        );
        let target = in_section(
            2,
            10,
            "CHAPTER 1: Getting started › Section 2.2 Here is the plan service area",
            "Section 2.2 Here is the plan service area\nThe plan is for people who live in our service area.\n\
             Our service area includes these counties in California: Alameda and San Mateo counties.",
            0.7,
        );
        let unrelated = in_section(
            3,
            131,
            "CHAPTER 5: Drugs › Section 9.1 Hospital stays",
            "If you live in a hospital, we cover your drugs.",
            1.0,
        );
        let question = "Where do I have to live to stay on this plan?";
        let with_section = evidence(vec![referrer.clone(), target.clone(), unrelated.clone()], vec![]);
        let answer = ExtractiveComposer::default().compose_now(question, &with_section);
        assert_eq!(answer.status, Status::Answered);
        let reference = answer.answer.find("Section 2.2 below").unwrap();
        let counties = answer
            .answer
            .find("Alameda and San Mateo counties")
            .expect("the opening is quoted");
        assert!(reference < counties, "{}", answer.answer);
        assert!(
            answer.answer.contains("hospital"),
            "with room, a near-best passage stays: {}",
            answer.answer
        );

        // Without the section's passage there is nothing to follow: the reference stands alone.
        let without = evidence(vec![referrer, unrelated], vec![]);
        let answer = ExtractiveComposer::default().compose_now(question, &without);
        assert!(!answer.answer.contains("Alameda"), "{}", answer.answer);

        // With room for only two passages, the one kept for scoring near the best gives way to the opening of the
        // section the best one refers to.
        let tight = ExtractiveComposer {
            settings: ExtractiveSettings {
                max_passages: 2,
                ..ExtractiveSettings::default()
            },
        };
        let answer = tight.compose_now(question, &with_section);
        assert!(
            answer.answer.contains("Alameda and San Mateo counties"),
            "{}",
            answer.answer
        );
        assert!(!answer.answer.contains("hospital"), "{}", answer.answer);
    }
}
