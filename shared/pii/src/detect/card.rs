//! Payment card numbers: 13–19 digits, optionally grouped by spaces or dashes, passing the Luhn check.

use regex::Regex;
use std::sync::LazyLock;

use super::standalone;
use crate::{Detection, Kind};

static CARD: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)] // a constant pattern, checked by the tests
    Regex::new(r"\d(?:[ -]?\d){12,18}").expect("valid card pattern")
});

/// The Luhn checksum over a string of digits.
pub fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(*d);
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

pub fn find(text: &str) -> Vec<Detection> {
    CARD.find_iter(text)
        .filter(|m| standalone(text, m.start(), m.end()))
        .filter_map(|m| {
            let digits: Vec<u8> = m
                .as_str()
                .bytes()
                .filter(u8::is_ascii_digit)
                .map(|b| b - b'0')
                .collect();
            ((13..=19).contains(&digits.len()) && luhn(&digits)).then_some(Detection {
                kind: Kind::CreditCard,
                start: m.start(),
                end: m.end(),
                score: 0.96,
            })
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
    fn grouped_and_bare_numbers_passing_luhn() {
        assert_eq!(found("Visa 4813 6362 1606 9971, exp"), vec!["4813 6362 1606 9971"]);
        assert_eq!(found("MC 5150-3269-2786-8436 ok"), vec!["5150-3269-2786-8436"]);
        assert_eq!(found("4111111111111111"), vec!["4111111111111111"]);
    }

    #[test]
    fn a_wrong_check_digit_or_length_is_not_a_card() {
        assert!(found("4813 6362 1606 9972").is_empty(), "Luhn fails");
        assert!(found("411111111111").is_empty(), "12 digits");
    }
}
