//! North American phone numbers: `(510) 555-0147`, `510-555-0147`, `510.555.0147`, `+1 510 555 0147`, and ten bare
//! digits (`5105550147`) or a local seven (`555-0147`) after a word that says it is a phone number. Numbers abroad
//! written with their country code (`+52 55 8765 4321`, `+44 20 7946 0958`): a member's family often lives there.
//!
//! Toll-free numbers (800, 833, 844, 855, 866, 877, 888) belong to businesses, such as the plan's own Member
//! Services line, and are not personal data; they stay.

use regex::{Captures, Match, Regex};
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

/// A country code other than North America's, then 6 to 12 more digits in groups: an international number.
static INTERNATIONAL: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)] // a constant pattern, checked by the tests
    Regex::new(r"\+[2-9]\d{0,2}(?:[-. ]?(?:\(\d{1,5}\)|\d{1,5})){2,6}").expect("valid international phone pattern")
});

/// Ten to fifteen digits in groups right after a word that can only mean a phone ([`SURE_PHONE_WORDS`]): a number
/// abroad written without its `+` (`044 33 1234 5678`), or grouped as no pattern above expects (`51 05 55 01 47`).
static CUED_GROUPS: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)] // a constant pattern, checked by the tests
    Regex::new(r"\d{2,5}(?:[-. ]\d{2,5}){1,5}").expect("valid grouped phone pattern")
});

/// Words that name a phone and nothing else ("number" or "número" could name any id), matched as whole words: "tel"
/// is not "telehealth", nor "cell" "cellulitis". A trailing `*` matches the word's forms ("llámame", "llamar").
const SURE_PHONE_WORDS: &[&str] = &[
    "phone",
    "phones",
    "cellphone",
    "cell",
    "mobile",
    "call",
    "calls",
    "calling",
    "tel",
    "text me",
    "fax",
    "whatsapp",
    "teléfono",
    "telefono",
    "celular",
    "móvil",
    "movil",
    "llam*",
    "llám*",
];

/// Whether one of [`SURE_PHONE_WORDS`] is among the words within `window` bytes before `start`.
fn phone_word_before(text: &str, start: usize, window: usize) -> bool {
    let mut from = start.saturating_sub(window);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    let words: Vec<String> = text[from..start]
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let spaced = format!(" {} ", words.join(" "));
    SURE_PHONE_WORDS.iter().any(|cue| match cue.strip_suffix('*') {
        Some(stem) => spaced.contains(&format!(" {stem}")),
        None => spaced.contains(&format!(" {cue} ")),
    })
}

/// Seven digits as `555-0147`, a phone only after one of [`SURE_PHONE_WORDS`].
static LOCAL: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)] // a constant pattern, checked by the tests
    Regex::new(r"(\d{3})[-.](\d{4})").expect("valid local phone pattern")
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

/// Whether digits and a separator come right before `start`: the match is the tail of a longer number.
fn continues_a_number(text: &str, start: usize) -> bool {
    let mut before = text[..start].chars().rev();
    before.next().is_some_and(|c| matches!(c, '-' | '.' | ' ' | ')'))
        && before.next().is_some_and(|c| c.is_ascii_digit())
}

fn phone(start: usize, end: usize) -> Detection {
    Detection {
        kind: Kind::Phone,
        start,
        end,
        score: 0.9,
    }
}

pub fn find(text: &str) -> Vec<Detection> {
    let written_full: Vec<Captures<'_>> = PHONE.captures_iter(text).collect();
    let written_bare: Vec<Captures<'_>> = BARE.captures_iter(text).collect();
    let written_abroad: Vec<Match<'_>> = INTERNATIONAL.find_iter(text).collect();
    // Every number written as a phone, the plan's toll-free ones too: no shorter reading may be taken from inside one
    // ("(800) 559-3500" holds "559-3500", "1-800-559-3500 24 hours" holds "800-559-3500 24").
    let written: Vec<(usize, usize)> = written_full
        .iter()
        .chain(&written_bare)
        .filter_map(|caps| caps.get(0))
        .chain(written_abroad.iter().copied())
        .map(|m| (m.start(), m.end()))
        .collect();
    let inside_one = |start: usize, end: usize| written.iter().any(|&(s, e)| s < end && start < e);
    let international = written_abroad.iter().filter_map(|m| {
        let digits = m.as_str().chars().filter(char::is_ascii_digit).count();
        let end = m.start() + m.as_str().trim_end_matches([' ', '-', '.', '(']).len();
        ((9..=15).contains(&digits) && standalone(text, m.start(), end)).then(|| phone(m.start(), end))
    });
    let bare = written_bare.iter().filter_map(|caps| {
        let whole = caps.get(0)?;
        let cued = cue_before(text, whole.start(), 30, PHONE_CUES);
        (cued && standalone(text, whole.start(), whole.end()) && personal(&caps[1], &caps[2]))
            .then(|| phone(whole.start(), whole.end()))
    });
    let full: Vec<Detection> = written_full
        .iter()
        .filter_map(|caps| {
            let whole = caps.get(0)?;
            let area = caps.get(1).or_else(|| caps.get(2))?.as_str();
            let exchange = &caps[3];
            let start = whole.start();
            // "(510) ..." starts with a parenthesis; the token check applies to what surrounds the match.
            let token = standalone(text, start, whole.end()) || text[start..].starts_with('(');
            (token && personal(area, exchange)).then(|| phone(start, whole.end()))
        })
        .chain(bare)
        .chain(international)
        .collect();
    let grouped: Vec<Detection> = CUED_GROUPS
        .find_iter(text)
        .filter(|m| {
            let digits: String = m.as_str().chars().filter(char::is_ascii_digit).collect();
            let national = digits
                .strip_prefix('1')
                .filter(|_| digits.len() == 11)
                .unwrap_or(&digits);
            let business = national.len() == 10 && !personal(&national[..3], &national[3..6]);
            (10..=15).contains(&digits.len())
                && !business
                && phone_word_before(text, m.start(), 30)
                && standalone(text, m.start(), m.end())
                && !inside_one(m.start(), m.end())
        })
        .map(|m| phone(m.start(), m.end()))
        .collect();
    // Nor is a local number read from a grouped one.
    let local: Vec<Detection> = LOCAL
        .captures_iter(text)
        .filter_map(|caps| {
            let whole = caps.get(0)?;
            let cued = phone_word_before(text, whole.start(), 30);
            let alone = standalone(text, whole.start(), whole.end())
                && !continues_a_number(text, whole.start())
                && !text[..whole.start()].ends_with('$');
            let inside = inside_one(whole.start(), whole.end())
                || grouped.iter().any(|d| d.start < whole.end() && whole.start() < d.end);
            (cued && alone && !inside && !caps[1].starts_with(['0', '1'])).then(|| phone(whole.start(), whole.end()))
        })
        .collect();
    let mut found = full;
    found.extend(grouped);
    found.extend(local);
    found
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
    fn numbers_abroad_with_their_country_code() {
        assert_eq!(
            found("call him +52 55 8765 4321 he speaks English"),
            vec!["+52 55 8765 4321"]
        );
        assert_eq!(found("su celular es +52 33 1234 5678, ella"), vec!["+52 33 1234 5678"]);
        assert_eq!(found("(+44 20 7946 0958)"), vec!["+44 20 7946 0958"]);
        assert!(found("an A1c of +2 over 12 months").is_empty());
    }

    #[test]
    fn digits_grouped_otherwise_after_a_word_that_means_a_phone() {
        assert_eq!(found("su celular es 044 33 1234 5678, ella"), vec!["044 33 1234 5678"]);
        assert_eq!(found("my phone: 51 05 55 01 47"), vec!["51 05 55 01 47"]);
        assert!(found("call 1 800 559 3500 for").is_empty());
        assert!(found("NDC number 0002-8215-01 on the label").is_empty());
        assert!(found("My telehealth claim 2024 0311 5567 was denied").is_empty());
        assert!(found("I called about NDC 00002-8215-01").is_empty());
        assert!(found("Call 1-800-559-3500 24 hours a day").is_empty());
    }

    #[test]
    fn seven_local_digits_only_after_a_phone_word() {
        assert_eq!(found("call me at 555-0147 after lunch"), vec!["555-0147"]);
        assert!(found("form 555-0147 was sent").is_empty());
        assert!(found("call 1-800-559-3500 today").is_empty());
        assert!(found("Please call (800) 559-3500 for help").is_empty());
        assert!(found("Reference number 482-1937").is_empty());
        assert!(found("I called about the $500-1500 estimate").is_empty());
        assert!(found("call about the 2024-2025 letter").is_empty());
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
