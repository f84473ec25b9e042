//! Retrieval quality against a question set with verified answer facts (the format of `retrieval-dev.jsonl`).
//!
//! A retrieved chunk *hits* when it holds an answer fact, compared case- and whitespace-insensitively. Where some of
//! a question's facts hold digits, only those count: "$0 copayment for each" proves an answer, "Primary care visit"
//! alone does not. A fact that starts or ends with a digit must not be part of a longer number (`$5` ≠ `$50`).

use serde::Deserialize;
use std::collections::BTreeMap;

use crate::document::normalize_text;

/// One question of the set.
#[derive(Debug, Clone, Deserialize)]
pub struct Question {
    pub id: String,
    pub question: String,
    pub lang: String,
    #[serde(default)]
    pub answer_facts: Vec<String>,
    #[serde(default)]
    pub pages: Vec<u32>,
    #[serde(default)]
    pub kind: String,
    /// `benefits_chart`, `drugs`, `appeals`, `enrollment`, `contacts`, `other` (not in the dev set).
    #[serde(default)]
    pub topic: String,
    /// `amount`, `time_limit`, `phone`, `yes_no`, `procedure`, `name_or_place`, `other` (not in the dev set).
    #[serde(default)]
    pub answer_type: String,
}

impl Question {
    pub fn is_negative(&self) -> bool {
        self.answer_facts.is_empty()
    }

    /// The facts a hit must hold: those with digits when there are any, else all.
    pub fn counted_facts(&self) -> Vec<&str> {
        let with_digits: Vec<&str> = self
            .answer_facts
            .iter()
            .map(String::as_str)
            .filter(|f| f.chars().any(|c| c.is_ascii_digit()))
            .collect();
        if with_digits.is_empty() {
            self.answer_facts.iter().map(String::as_str).collect()
        } else {
            with_digits
        }
    }
}

/// Parses a JSON-lines question file; a bad line is an error naming its number.
pub fn parse_questions(text: &str) -> Result<Vec<Question>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| serde_json::from_str(line).map_err(|e| format!("line {}: {e}", i + 1)))
        .collect()
}

/// Lower case, plain characters, single spaces.
pub fn normalize(text: &str) -> String {
    normalize_text(text)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Whether `text` holds `fact` under the set's matching rules.
pub fn holds_fact(text: &str, fact: &str) -> bool {
    let text = normalize(text);
    let fact = normalize(fact);
    if fact.is_empty() {
        return false;
    }
    let starts_digit = fact.starts_with(|c: char| c.is_ascii_digit());
    let ends_digit = fact.ends_with(|c: char| c.is_ascii_digit());
    text.match_indices(&fact).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + fact.len()..].chars().next();
        let glued = |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit() || c == ',' || c == '.');
        let number_continues_after = after.is_some_and(|c| c.is_ascii_digit())
            || (after.is_some_and(|c| c == ',' || c == '.')
                && text[at + fact.len() + 1..].starts_with(|c: char| c.is_ascii_digit()));
        let part_of_a_longer_number = (starts_digit && glued(before)) || (ends_digit && number_continues_after);
        !part_of_a_longer_number
    })
}

/// Whether any retrieved text proves the answer.
pub fn is_hit(question: &Question, text: &str) -> bool {
    question.counted_facts().iter().any(|fact| holds_fact(text, fact))
}

/// Hit rates and MRR of one group of questions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scores {
    pub questions: usize,
    pub hit_at_1: f64,
    pub hit_at_5: f64,
    pub mrr: f64,
}

/// One question's outcome: the 1-based rank of the first hit among the retrieved chunks, if any.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub question: Question,
    pub first_hit: Option<usize>,
    pub top_score: Option<f32>,
}

/// Scores of the answerable questions, overall and by `kind` and `lang`.
pub fn summarize(outcomes: &[Outcome]) -> BTreeMap<String, Scores> {
    let mut groups: BTreeMap<String, Vec<&Outcome>> = BTreeMap::new();
    for outcome in outcomes.iter().filter(|o| !o.question.is_negative()) {
        groups.entry("all".into()).or_default().push(outcome);
        groups
            .entry(format!("kind={}", outcome.question.kind))
            .or_default()
            .push(outcome);
        groups
            .entry(format!("lang={}", outcome.question.lang))
            .or_default()
            .push(outcome);
    }
    groups
        .into_iter()
        .map(|(name, group)| {
            let n = group.len() as f64;
            let share = |k: usize| group.iter().filter(|o| o.first_hit.is_some_and(|r| r <= k)).count() as f64 / n;
            let mrr = group
                .iter()
                .map(|o| o.first_hit.map_or(0.0, |r| 1.0 / r as f64))
                .sum::<f64>()
                / n;
            (
                name,
                Scores {
                    questions: group.len(),
                    hit_at_1: share(1),
                    hit_at_5: share(5),
                    mrr,
                },
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn question(facts: &[&str]) -> Question {
        Question {
            id: "q".into(),
            question: "?".into(),
            lang: "en".into(),
            answer_facts: facts.iter().map(|f| f.to_string()).collect(),
            pages: vec![],
            kind: "lookup".into(),
            topic: String::new(),
            answer_type: String::new(),
        }
    }

    #[test]
    fn numbers_must_not_be_part_of_longer_numbers() {
        assert!(holds_fact("You pay $5 per visit.", "$5"));
        assert!(!holds_fact("You pay $50 per visit.", "$5"));
        assert!(!holds_fact("You pay $5,000 per year.", "$5"));
        assert!(holds_fact("up to $1,500 each year", "$1,500"));
        assert!(!holds_fact("call 1-855-431-55379", "1-855-431-5537"));
        assert!(holds_fact("Call 1-855-431-5537.", "1-855-431-5537"));
    }

    #[test]
    fn matching_ignores_case_spacing_and_typography() {
        assert!(holds_fact(
            "You  do NOT pay a\nseparate monthly plan premium",
            "do not pay a separate monthly plan premium"
        ));
        assert!(holds_fact("your doctor\u{2019}s office", "doctor's office"));
    }

    #[test]
    fn only_facts_with_digits_count_when_there_are_any() {
        let q = question(&["Primary care visit", "$0 copayment for each"]);
        assert!(!is_hit(&q, "Primary care visit"));
        assert!(is_hit(&q, "$0 copayment for each office visit"));
        let words_only = question(&["Alameda and San Mateo counties"]);
        assert!(is_hit(&words_only, "You must live in Alameda and San Mateo counties."));
    }

    #[test]
    fn summaries_group_by_kind_and_language_and_skip_negatives() {
        let outcome = |facts: &[&str], lang: &str, first_hit| Outcome {
            question: Question {
                lang: lang.into(),
                ..question(facts)
            },
            first_hit,
            top_score: None,
        };
        let outcomes = vec![
            outcome(&["$1"], "en", Some(1)),
            outcome(&["$2"], "es", Some(3)),
            outcome(&[], "en", None),
        ];
        let scores = summarize(&outcomes);
        assert_eq!(scores["all"].questions, 2);
        assert_eq!(scores["all"].hit_at_1, 0.5);
        assert_eq!(scores["all"].hit_at_5, 1.0);
        assert!((scores["all"].mrr - (1.0 + 1.0 / 3.0) / 2.0).abs() < 1e-9);
        assert_eq!(scores["lang=es"].hit_at_1, 0.0);
    }
}
