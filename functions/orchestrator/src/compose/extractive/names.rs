//! Names and years a question asks about that no source mentions: members ask about drugs, hospitals and companies
//! the plan documents never name, and about other years than theirs; quoting a neighbouring passage would read as an
//! answer.

use crate::evidence::Evidence;

/// Capitalised words that name no outside entity (see the file for what belongs there).
const COMMON_NAMES: &str = include_str!("../../../data/common-names.txt");

fn is_common_name(lower: &str) -> bool {
    COMMON_NAMES
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .any(|name| name == lower)
}

/// A name in the question's asking sentences (a capitalised word, not an acronym, not at a sentence start, and not
/// a common name) that no source mentions. Members ask about drugs, hospitals and companies the plan documents never name; quoting a
/// neighbouring passage would read as an answer.
pub(super) fn unmentioned_name(question: &str, evidence: &Evidence) -> Option<String> {
    // The documents' titles name the plan itself ("2025 Evidence of Coverage for SCAN Classic").
    let mut corpus = String::new();
    for chunk in evidence.chunks() {
        corpus.push_str(&chunk.title.to_lowercase());
        corpus.push(' ');
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
    for sentence in super::intent::asking_sentences(question) {
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
            // A year no source mentions ("What will the premium be in 2026?") is a fact the documents do not hold.
            let year = word.len() == 4
                && (word.starts_with("19") || word.starts_with("20"))
                && word.bytes().all(|b| b.is_ascii_digit());
            if year && !corpus.contains(word) {
                return Some(word.to_string());
            }
            // A name is capitalised and not an acronym: "Eliquis" and "TruHearing" are names; "SSN" and "ID" are
            // terms.
            let capitalised =
                word.chars().next().is_some_and(char::is_uppercase) && word.chars().skip(1).any(char::is_lowercase);
            let lower = word.to_lowercase();
            if !capitalised || is_common_name(&lower) || word.len() < 3 {
                continue;
            }
            if !corpus.contains(&lower) {
                return Some(word.to_string());
            }
        }
    }
    None
}
