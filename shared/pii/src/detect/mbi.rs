//! Medicare Beneficiary Identifiers: 11 characters in CMS's positional format (`1EG4-TE5-MK73`), grouped 4-3-4 by
//! dashes or spaces as the card prints it or by nothing, or read out one character at a time (`1 E G 4 T E 5 M K 7
//! 3`).
//! Position 1 is 1–9; 2, 5, 8 and 9 are letters; 4, 7, 10 and 11 are digits; 3 and 6 are either. The letters S, L,
//! O, I, B and Z are never used.

use regex::Regex;
use std::sync::LazyLock;

use super::standalone;
use crate::{Detection, Kind};

static MBI: LazyLock<Regex> = LazyLock::new(|| {
    let letter = "[AC-HJKMNP-RT-Y]";
    let either = "[AC-HJKMNP-RT-Y0-9]";
    let grouped = format!(r"[1-9]{letter}{either}[0-9][- ]?{letter}{either}[0-9][- ]?{letter}{letter}[0-9]{{2}}");
    let spelled = format!(r"[1-9] {letter} {either} [0-9] {letter} {either} [0-9] {letter} {letter} [0-9] [0-9]");
    #[allow(clippy::expect_used)] // a constant pattern, checked by the tests
    Regex::new(&format!("(?i){spelled}|{grouped}")).expect("valid MBI pattern")
});

/// Both group separators alike (two dashes, two spaces, or none), or a space between every character.
fn evenly_separated(mbi: &str) -> bool {
    let (dashes, spaces) = (mbi.matches('-').count(), mbi.matches(' ').count());
    matches!((dashes, spaces), (0, 0) | (2, 0) | (0, 2) | (0, 10))
}

pub fn find(text: &str) -> Vec<Detection> {
    MBI.find_iter(text)
        .filter(|m| standalone(text, m.start(), m.end()))
        .filter(|m| evenly_separated(m.as_str()))
        .map(|m| Detection {
            kind: Kind::MedicareId,
            start: m.start(),
            end: m.end(),
            score: 0.95,
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
    fn both_forms_are_found() {
        assert_eq!(found("Medicare number 3AN2-Y71-QK79."), vec!["3AN2-Y71-QK79"]);
        assert_eq!(found("(MBI 9VC5KU4MU31)"), vec!["9VC5KU4MU31"]);
        assert_eq!(found("mbi 1eg4te5mk73"), vec!["1eg4te5mk73"]);
    }

    #[test]
    fn groups_as_the_card_prints_them_or_characters_read_out() {
        assert_eq!(found("Mine is 4GM6 AH3 KE81. Part A"), vec!["4GM6 AH3 KE81"]);
        assert_eq!(
            found("my medicare number is 2 E N 6 R K 9 H D 3 8 did you"),
            vec!["2 E N 6 R K 9 H D 3 8"]
        );
        assert!(found("1EG4 TE5-MK73").is_empty());
        assert!(found("1EG4 TE5MK73").is_empty());
    }

    #[test]
    fn letters_never_used_and_wrong_positions_are_not_mbis() {
        for text in [
            "1SG4-TE5-MK73",
            "1EG4-TE5-MK7Z",
            "0EG4TE5MK73",
            "1EG4TE5MK7",
            "1EG4-TE5MK73",
            "1EG4 TE5MK73",
            "1 E G 4 T E 5 M K 7",
            "11G4TE5MK73",
            "1EGATE5MK73",
        ] {
            assert!(found(text).is_empty(), "{text}");
        }
    }
}
