//! People's names, in context: "my name is …", "this is …", "I'm …", "my caregiver, …", "member …", "me llamo …".
//! Two or three capitalised words after such a cue; the plan's own vocabulary ("Original Medicare") is not a name.

use regex::Regex;
use std::sync::LazyLock;

use crate::{Detection, Kind};

static NAME: LazyLock<Regex> = LazyLock::new(|| {
    let cue = r"(?i:my name is|name:|this is|i'm|i am|me llamo|soy|mi nombre es|caregiver,?|member|patient|paciente|afiliad[oa]|my (?:wife|husband|son|daughter|mother|father|neighbor|neighbour),?|mi (?:esposa|esposo|hijo|hija|madre|padre),?)";
    let word = r"[A-ZÁÉÍÓÚÑ][a-záéíóúñü'’-]+";
    let pattern = format!(r"(?-u:\b){cue}\s+({word}(?:\s+{word}){{1,2}})");
    #[allow(clippy::expect_used)] // a constant pattern, checked by the tests
    Regex::new(&pattern).expect("valid name pattern")
});

/// Capitalised words that are not people's names in this domain.
const NOT_NAMES: &[&str] = &[
    "original",
    "medicare",
    "medicaid",
    "scan",
    "classic",
    "part",
    "plan",
    "health",
    "services",
    "member",
    "advantage",
    "extra",
    "help",
    "social",
    "security",
    "evidence",
    "coverage",
    "the",
    "a",
    "an",
    "not",
    "very",
    "so",
    "still",
    "going",
    "trying",
    "calling",
    "asking",
    "new",
    "enrolled",
    "from",
    "in",
    "on",
    "at",
    "and",
    "but",
    "here",
    "there",
];

pub fn find(text: &str) -> Vec<Detection> {
    NAME.captures_iter(text)
        .filter_map(|caps| caps.get(1))
        .filter(|name| {
            name.as_str()
                .split_whitespace()
                .all(|word| !NOT_NAMES.contains(&word.to_lowercase().as_str()))
        })
        .map(|name| Detection {
            kind: Kind::Name,
            start: name.start(),
            end: name.end(),
            score: 0.8,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<&str> {
        crate::detect::matched(text, find(text))
    }

    #[test]
    fn names_after_their_cue() {
        assert_eq!(found("This is Harold Tsosie, 2218"), vec!["Harold Tsosie"]);
        assert_eq!(found("Hi, I'm Evelyn Marchetti (DOB"), vec!["Evelyn Marchetti"]);
        assert_eq!(found("my caregiver, Tomás Ibarra, at"), vec!["Tomás Ibarra"]);
        assert_eq!(found("record of member Rosa Delgado."), vec!["Rosa Delgado"]);
        assert_eq!(found("Me llamo Ana María Soto y"), vec!["Ana María Soto"]);
    }

    #[test]
    fn plan_words_and_lone_words_are_not_names() {
        assert!(found("This is Original Medicare, right?").is_empty());
        assert!(found("I'm Maria and").is_empty());
        assert!(found("I'm not happy with SCAN Classic").is_empty());
    }
}
