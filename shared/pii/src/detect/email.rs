//! E-mail addresses.

use regex::Regex;
use std::sync::LazyLock;

use crate::{Detection, Kind};

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)] // a constant pattern, checked by the tests
    Regex::new(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}").expect("valid e-mail pattern")
});

pub fn find(text: &str) -> Vec<Detection> {
    EMAIL
        .find_iter(text)
        .map(|m| Detection {
            kind: Kind::Email,
            start: m.start(),
            end: m.end(),
            score: 0.98,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_but_not_their_sentence_end() {
        let text = "email maria.flores62@example.com? or tomas.ibarra@example.org.";
        let found: Vec<&str> = find(text).into_iter().map(|d| &text[d.start..d.end]).collect();
        assert_eq!(found, vec!["maria.flores62@example.com", "tomas.ibarra@example.org"]);
        assert!(find("a @ b and x@y").is_empty());
    }
}
