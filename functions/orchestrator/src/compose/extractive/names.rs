//! Names and years a question asks about that no source mentions: members ask about drugs, hospitals and companies
//! the plan documents never name, and about other years than theirs; quoting a neighbouring passage would read as an
//! answer. A country or a holiday is mentioned when the sources speak of its kind (care "worldwide", hours "including
//! holidays"): the documents name neither, and answer both.

use std::collections::HashSet;
use std::sync::LazyLock;

use crate::evidence::Evidence;

/// Capitalised words that name no outside entity (see the file for what belongs there).
const COMMON_NAMES: &str = include_str!("../../../data/common-names.txt");

/// Capitalised words the documents speak of by their kind: countries ("worldwide"), holidays ("holiday").
const NAME_KINDS: &str = include_str!("../../../data/name-kinds.txt");

/// One kind of `NAME_KINDS`: the phrases that speak of it, and the words that name one of it.
#[derive(Debug, Default)]
struct NameKind {
    phrases: Vec<String>,
    words: HashSet<String>,
}

static KINDS: LazyLock<Vec<NameKind>> = LazyLock::new(|| parse_kinds(NAME_KINDS));

fn parse_kinds(text: &str) -> Vec<NameKind> {
    let mut kinds: Vec<NameKind> = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(heading) = line.strip_prefix('[') {
            let phrases = heading.split_once(']').map_or("", |(_, phrases)| phrases);
            kinds.push(NameKind {
                phrases: phrases
                    .split('|')
                    .map(|p| p.trim().to_lowercase())
                    .filter(|p| !p.is_empty())
                    .collect(),
                words: HashSet::new(),
            });
        } else if let Some(kind) = kinds.last_mut() {
            kind.words.insert(line.to_lowercase());
        }
    }
    kinds
}

/// Whether `lower` names something of a kind the sources speak of (a country when they cover care worldwide).
fn mentioned_by_kind(lower: &str, corpus: &str) -> bool {
    KINDS
        .iter()
        .any(|kind| kind.words.contains(lower) && kind.phrases.iter().any(|p| corpus.contains(p.as_str())))
}

/// `COMMON_NAMES`, read once like `NAME_KINDS` rather than line by line for every capitalised word.
static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    COMMON_NAMES
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect()
});

fn is_common_name(lower: &str) -> bool {
    COMMON.contains(lower)
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
            if !corpus.contains(&lower) && !mentioned_by_kind(&lower, &corpus) {
                return Some(word.to_string());
            }
        }
    }
    None
}

/// Each kind's number of phrases and words, for the file's own test.
#[cfg(test)]
pub(super) fn kinds_for_tests() -> Vec<(usize, usize)> {
    KINDS.iter().map(|k| (k.phrases.len(), k.words.len())).collect()
}
