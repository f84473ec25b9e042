//! Words of a member's question: the content terms that search and answer selection both work from; and plan text
//! cut into sentences ([`sentences()`]); and how well sentences meet a question's word pieces ([`PieceWeights`]).

mod pieces;
mod sentences;

pub use pieces::PieceWeights;
pub use sentences::sentences;

/// Words that carry no meaning for search, in English and Spanish.
const STOP_WORDS: &[&str] = &[
    "a", "about", "am", "an", "and", "any", "are", "as", "at", "be", "been", "but", "by", "can", "could", "did", "do",
    "does", "for", "from", "get", "go", "going", "got", "had", "has", "have", "how", "i", "if", "in", "into", "is",
    "it", "its", "just", "let", "like", "may", "me", "might", "much", "my", "need", "of", "on", "once", "or", "our",
    "so", "some", "that", "the", "their", "them", "then", "there", "they", "this", "to", "up", "us", "was", "we",
    "what", "when", "where", "which", "who", "why", "will", "with", "would", "you", "your", "el", "la", "los", "las",
    "un", "una", "de", "del", "y", "o", "en", "que", "es", "mi", "por", "para", "con", "se", "lo", "al", "cuanto",
    "cuánto", "qué", "como", "cómo",
];

/// Abbreviations members use and the words the plan documents use for them.
const EXPANSIONS: &[(&str, &[&str])] = &[
    ("er", &["emergency"]),
    ("copay", &["copayment"]),
    ("copays", &["copayment"]),
    ("pcp", &["primary", "care"]),
    ("rx", &["prescription", "drug"]),
    ("meds", &["drugs"]),
    ("otc", &["counter"]),
    ("snf", &["skilled", "nursing"]),
    ("dme", &["durable", "medical", "equipment"]),
    ("moop", &["maximum", "pocket"]),
];

/// Lower-cased, de-duplicated content words of `query`, in order, at most 32. Only letters and digits survive, so a
/// term is always safe inside an FTS5 or `to_tsquery` expression.
pub fn terms(query: &str) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    for word in query.split(|c: char| !c.is_alphanumeric()) {
        let word = word.to_lowercase();
        if word.chars().count() < 2 || STOP_WORDS.contains(&word.as_str()) || terms.contains(&word) {
            continue;
        }
        if !word.chars().all(|c| c.is_ascii_alphanumeric()) {
            continue;
        }
        let expansion = EXPANSIONS
            .iter()
            .find(|(short, _)| *short == word)
            .map(|(_, long)| *long);
        terms.push(word);
        for extra in expansion.unwrap_or_default() {
            if !terms.iter().any(|t| t == extra) {
                terms.push(extra.to_string());
            }
        }
        if terms.len() >= 32 {
            terms.truncate(32);
            break;
        }
    }
    terms
}

/// Whether `phrase` occurs in `text` on word boundaries ("law" is not in "lawn").
pub fn contains_phrase(text: &str, phrase: &str) -> bool {
    text.match_indices(phrase).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + phrase.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// The share of `terms` that `text` holds, each matched by its first five letters (a crude stem: "doctors" meets
/// "doctor", "copay" meets "copayment"). No terms hold nothing.
pub fn share_held(terms: &[String], text: &str) -> f32 {
    if terms.is_empty() {
        return 0.0;
    }
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let held = terms
        .iter()
        .filter(|term| {
            let stem: String = term.chars().take(5).collect();
            words.iter().any(|w| w.starts_with(&stem))
        })
        .count();
    held as f32 / terms.len() as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_content_words_only_and_nothing_an_fts_parser_could_choke_on() {
        assert_eq!(
            terms("How much is a visit to my SPECIALIST?"),
            vec!["visit", "specialist"]
        );
        assert_eq!(terms("ER copay"), vec!["er", "emergency", "copay", "copayment"]);
        assert_eq!(
            terms("\"copay\" OR NEAR(x) -- $1,500 *"),
            vec!["copay", "copayment", "near", "500"]
        );
        assert_eq!(terms("¿Cuánto cuesta una visita?"), vec!["cuesta", "visita"]);
        assert!(terms("?!").is_empty());
    }

    #[test]
    fn the_share_held_matches_terms_by_their_stem() {
        let terms = vec!["doctors".to_string(), "copay".to_string(), "ambulance".to_string()];
        assert_eq!(share_held(&terms, "Your Doctor's copayment."), 2.0 / 3.0);
        assert_eq!(share_held(&[], "anything"), 0.0);
    }

    #[test]
    fn phrases_match_on_word_boundaries_only() {
        assert!(contains_phrase("is the law new?", "law"));
        assert!(!contains_phrase("the lawn is green", "law"));
    }
}
