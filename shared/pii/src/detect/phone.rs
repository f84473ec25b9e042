//! North American phone numbers: `(510) 555-0147`, `510-555-0147`, `510.555.0147`, `+1 510 555 0147`, and ten bare
//! digits (`5105550147`) after a word that says it is a phone number.
//!
//! Toll-free numbers (800, 833, 844, 855, 866, 877, 888) belong to businesses, such as the plan's own Member
//! Services line, and are not personal data; they stay.

use regex::Regex;
use std::sync::LazyLock;

use super::{cue_before, standalone};
use crate::{Detection, Kind};

static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)] // a constant pattern, checked by the tests
    Regex::new(r"(?:\+?1[-. ]?)?(?:\((\d{3})\)\s?|(\d{3})[-. ])(\d{3})[-. ](\d{4})").expect("valid phone pattern")
});

/// Ten digits with no separators, a phone only after one of [`PHONE_CUES`]: alone, they could be any id.
static BARE: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)] // a constant pattern, checked by the tests
    Regex::new(r"(?:\+?1)?(\d{3})(\d{3})\d{4}").expect("valid bare phone pattern")
});

const PHONE_CUES: &[&str] = &[
    "phone",
    "cell",
    "call",
    "number",
    "tel",
    "text me",
    "fax",
    "teléfono",
    "telefono",
    "celular",
    "llam",
    "llám",
    "número",
];

const TOLL_FREE: &[&str] = &["800", "833", "844", "855", "866", "877", "888"];

fn personal(area: &str, exchange: &str) -> bool {
    !area.starts_with(['0', '1']) && !exchange.starts_with(['0', '1']) && !TOLL_FREE.contains(&area)
}

pub fn find(text: &str) -> Vec<Detection> {
    let bare = BARE.captures_iter(text).filter_map(|caps| {
        let whole = caps.get(0)?;
        let cued = cue_before(text, whole.start(), 30, PHONE_CUES);
        (cued && standalone(text, whole.start(), whole.end()) && personal(&caps[1], &caps[2])).then_some(Detection {
            kind: Kind::Phone,
            start: whole.start(),
            end: whole.end(),
            score: 0.9,
        })
    });
    PHONE
        .captures_iter(text)
        .filter_map(|caps| {
            let whole = caps.get(0)?;
            let area = caps.get(1).or_else(|| caps.get(2))?.as_str();
            let exchange = &caps[3];
            let start = whole.start();
            // "(510) ..." starts with a parenthesis; the token check applies to what surrounds the match.
            let token = standalone(text, start, whole.end()) || text[start..].starts_with('(');
            (token && personal(area, exchange)).then_some(Detection {
                kind: Kind::Phone,
                start,
                end: whole.end(),
                score: 0.9,
            })
        })
        .chain(bare)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<&str> {
        crate::detect::matched(text, find(text))
    }

    #[test]
    fn common_formats() {
        assert_eq!(found("call me at (510) 555-0147 today"), vec!["(510) 555-0147"]);
        assert_eq!(found("at 925-555-0182 or"), vec!["925-555-0182"]);
        assert_eq!(found("tel 925.555.0182"), vec!["925.555.0182"]);
        assert_eq!(found("+1 925 555 0182"), vec!["+1 925 555 0182"]);
    }

    #[test]
    fn toll_free_and_impossible_numbers_stay() {
        assert!(found("Member Services 1-800-559-3500").is_empty());
        assert!(found("(877) 588-1123").is_empty());
        assert!(found("055-555-0182 and 925-155-0182").is_empty());
    }

    #[test]
    fn ten_bare_digits_only_after_a_phone_word() {
        assert_eq!(found("my cell is 9255550182, call after 5"), vec!["9255550182"]);
        assert_eq!(found("Llámeme al 3235550188 por favor"), vec!["3235550188"]);
        assert!(found("claim 9255550182 was denied").is_empty());
        assert!(found("call 8005593500 for Member Services").is_empty());
        assert!(found("phone: 92555501823").is_empty());
    }
}
