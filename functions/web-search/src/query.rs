//! What may leave for the web: a neutral query, never personal data.
//!
//! A query that still holds personal data (checked with the guard's detectors) is refused, not cleaned: it means a
//! redaction upstream failed, and the safe answer is no search at all. A clean query is made neutral: redaction
//! placeholders and first-person words go ("my copay" and "a copay" find the same pages), whitespace is collapsed, and
//! the length is capped.

use navigator_platform::NavigatorError;

/// The longest query sent.
pub const MAX_QUERY_CHARS: usize = 200;

/// Words that say who is asking, not what about.
const PERSONAL_WORDS: &[&str] = &[
    "i", "i'm", "im", "i've", "i'd", "me", "my", "mine", "myself", "we", "our", "us", "please", "yo", "mi", "mis", "me",
];

/// The query to send, or why none may be sent.
pub fn neutral_query(query: &str) -> Result<String, NavigatorError> {
    let found = navigator_pii::find(query);
    if !found.is_empty() {
        let mut kinds: Vec<&str> = found.iter().map(|d| d.kind.as_str()).collect();
        kinds.dedup();
        return Err(NavigatorError::invalid(format!(
            "the query holds personal data ({}); it was not sent",
            kinds.join(", ")
        )));
    }
    let words: Vec<&str> = query
        .split_whitespace()
        .filter(|word| !(word.starts_with('[') && word.trim_end_matches(['.', ',', '?', '!']).ends_with(']')))
        .filter(|word| {
            let bare = word
                .trim_matches(|c: char| !c.is_alphanumeric() && c != '\'')
                .to_lowercase();
            !PERSONAL_WORDS.contains(&bare.as_str())
        })
        .collect();
    let mut neutral = words.join(" ");
    if neutral.chars().count() > MAX_QUERY_CHARS {
        neutral = neutral.chars().take(MAX_QUERY_CHARS).collect();
        if let Some(cut) = neutral.rfind(' ') {
            neutral.truncate(cut);
        }
    }
    if neutral.trim().is_empty() {
        return Err(NavigatorError::invalid("the query has nothing left to search for"));
    }
    Ok(neutral)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_data_is_refused_and_never_cleaned_into_a_query() {
        for query in [
            "part b premium for SSN 499-64-2995",
            "medicare number 3AN2-Y71-QK79 status",
            "call (510) 555-0147 about drugs",
            "email maria@example.com drug list",
            "born 04/17/1951 medicare eligibility",
        ] {
            let error = neutral_query(query).unwrap_err();
            assert_eq!(error.error_type(), "InvalidInput", "{query}");
            assert!(
                !error.to_string().contains("499-64"),
                "the error does not echo the value"
            );
        }
    }

    #[test]
    fn a_clean_query_is_made_neutral() {
        assert_eq!(
            neutral_query("What is my Part B premium for 2025 with [MBI] please?").unwrap(),
            "What is Part B premium for 2025 with"
        );
        assert_eq!(
            neutral_query("SCAN Classic HMO star rating").unwrap(),
            "SCAN Classic HMO star rating"
        );
        assert!(neutral_query("my [SSN]").is_err());
        assert!(neutral_query(&"medicare ".repeat(100)).unwrap().chars().count() <= MAX_QUERY_CHARS);
    }
}
