//! US Social Security numbers: `123-45-6789`, `123 45 6789` or nine bare digits, within the SSA's structural rules
//! (no area 000, 666 or 900–999; no group 00; no serial 0000).

use regex::Regex;
use std::sync::LazyLock;

use super::{cue_before, standalone};
use crate::{Detection, Kind};

static SSN: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)] // a constant pattern, checked by the tests
    Regex::new(r"(\d{3})([- ]?)(\d{2})([- ]?)(\d{4})").expect("valid SSN pattern")
});

const CUES: &[&str] = &["ssn", "social security", "seguro social", "social"];

/// Whether the three parts are a possible SSN.
pub fn valid(area: &str, group: &str, serial: &str) -> bool {
    let area: u32 = area.parse().unwrap_or(0);
    area != 0 && area != 666 && area < 900 && group != "00" && serial != "0000"
}

pub fn find(text: &str) -> Vec<Detection> {
    SSN.captures_iter(text)
        .filter_map(|caps| {
            let whole = caps.get(0)?;
            if !standalone(text, whole.start(), whole.end()) {
                return None;
            }
            let (sep1, sep2) = (&caps[2], &caps[4]);
            if sep1 != sep2 || !valid(&caps[1], &caps[3], &caps[5]) {
                return None;
            }
            let cued = cue_before(text, whole.start(), 40, CUES);
            let score = match (sep1.is_empty(), cued) {
                (_, true) => 0.97,
                (false, false) => 0.9,
                // Nine bare digits without a cue might be another number; still redacted, with less confidence.
                (true, false) => 0.6,
            };
            Some(Detection {
                kind: Kind::Ssn,
                start: whole.start(),
                end: whole.end(),
                score,
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
    fn dashed_spaced_and_bare_forms() {
        assert_eq!(found("SSN 499-64-2995."), vec!["499-64-2995"]);
        assert_eq!(found("ssn 499 64 2995"), vec!["499 64 2995"]);
        assert_eq!(found("Seguro Social es 541023996 y"), vec!["541023996"]);
    }

    #[test]
    fn invalid_ranges_are_not_ssns() {
        for text in [
            "000-12-3456",
            "666-12-3456",
            "912-34-5678",
            "123-00-4567",
            "123-45-0000",
            "499-642995",
        ] {
            assert!(found(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn digits_inside_longer_numbers_are_not_ssns() {
        assert!(found("card 4813636216069971").is_empty());
        assert!(found("claim 12349964299512").is_empty());
    }
}
