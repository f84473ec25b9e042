//! Medicare Beneficiary Identifiers: 11 characters in CMS's positional format (`1EG4-TE5-MK73`, dashes optional).
//! Position 1 is 1–9; 2, 5, 8 and 9 are letters; 4, 7, 10 and 11 are digits; 3 and 6 are either. The letters S, L,
//! O, I, B and Z are never used.

use regex::Regex;
use std::sync::LazyLock;

use super::standalone;
use crate::{Detection, Kind};

static MBI: LazyLock<Regex> = LazyLock::new(|| {
    let letter = "[AC-HJKMNP-RT-Y]";
    let either = "[AC-HJKMNP-RT-Y0-9]";
    let pattern = format!(r"(?i)[1-9]{letter}{either}[0-9]-?{letter}{either}[0-9]-?{letter}{letter}[0-9]{{2}}");
    #[allow(clippy::expect_used)] // a constant pattern, checked by the tests
    Regex::new(&pattern).expect("valid MBI pattern")
});

pub fn find(text: &str) -> Vec<Detection> {
    MBI.find_iter(text)
        .filter(|m| standalone(text, m.start(), m.end()))
        .filter(|m| {
            // Both dashes or neither.
            let dashes = m.as_str().matches('-').count();
            dashes == 0 || dashes == 2
        })
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
    fn letters_never_used_and_wrong_positions_are_not_mbis() {
        for text in [
            "1SG4-TE5-MK73",
            "1EG4-TE5-MK7Z",
            "0EG4TE5MK73",
            "1EG4TE5MK7",
            "1EG4-TE5MK73",
            "11G4TE5MK73",
            "1EGATE5MK73",
        ] {
            assert!(found(text).is_empty(), "{text}");
        }
    }
}
