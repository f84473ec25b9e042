//! Personal data in a member's text: found by validated detectors, replaced by typed placeholders.
//!
//! Each detector in [`detect`] checks what a bare pattern cannot: SSN area/group/serial ranges, the MBI's
//! character positions, the Luhn digit of a card, a phone's area code, a date that is a birth date by its context.
//! [`redact`] replaces every finding with its placeholder (`[SSN]`, `[MBI]`, ...), so later stages, logs and third
//! parties see only the redacted text.

pub mod detect;
pub mod output;

use serde::Serialize;

/// A kind of personal data, and its placeholder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Ssn,
    MedicareId,
    CreditCard,
    Phone,
    Email,
    Dob,
    Address,
    MemberId,
    Name,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ssn => "ssn",
            Self::MedicareId => "medicare_id",
            Self::CreditCard => "credit_card",
            Self::Phone => "phone",
            Self::Email => "email",
            Self::Dob => "dob",
            Self::Address => "address",
            Self::MemberId => "member_id",
            Self::Name => "name",
        }
    }

    /// What replaces a value of this kind.
    pub fn placeholder(self) -> &'static str {
        match self {
            Self::Ssn => "[SSN]",
            Self::MedicareId => "[MBI]",
            Self::CreditCard => "[CARD]",
            Self::Phone => "[PHONE]",
            Self::Email => "[EMAIL]",
            Self::Dob => "[DOB]",
            Self::Address => "[ADDRESS]",
            Self::MemberId => "[MEMBER_ID]",
            Self::Name => "[NAME]",
        }
    }
}

/// One value found: its kind, its byte span in the text, and how sure the detector is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Detection {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
    pub score: f32,
}

impl Detection {
    /// Whether the two spans share a byte.
    pub fn overlaps(&self, other: &Detection) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// Every personal value in `text`, in order, without overlaps (the surer, then the longer, finding wins).
pub fn find(text: &str) -> Vec<Detection> {
    let mut all = detect::all(text);
    all.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then((b.end - b.start).cmp(&(a.end - a.start)))
    });
    let mut taken = Taken::default();
    let mut kept: Vec<Detection> = Vec::new();
    for detection in all {
        if !taken.overlaps(&detection) {
            taken.insert(&detection);
            kept.push(detection);
        }
    }
    kept.sort_by_key(|d| d.start);
    kept
}

/// Spans already taken, none overlapping another, ordered by start: whether a new one overlaps any costs a lookup, so
/// that a long message with thousands of findings is not compared pair by pair (64 KiB of names: 6,000 findings).
#[derive(Debug, Default)]
pub struct Taken(std::collections::BTreeMap<usize, usize>);

impl Taken {
    /// The spans of `detections`, which must not overlap one another.
    pub fn of<'a>(detections: impl IntoIterator<Item = &'a Detection>) -> Self {
        let mut taken = Self::default();
        detections.into_iter().for_each(|d| taken.insert(d));
        taken
    }

    /// Whether `detection` shares a byte with a span taken.
    pub fn overlaps(&self, detection: &Detection) -> bool {
        // Taken spans are disjoint: only the last one starting before this one ends can reach into it.
        self.0
            .range(..detection.end)
            .next_back()
            .is_some_and(|(_, &end)| end > detection.start)
    }

    /// Takes `detection`'s span; an empty span takes nothing.
    pub fn insert(&mut self, detection: &Detection) {
        if detection.start < detection.end {
            self.0.insert(detection.start, detection.end);
        }
    }
}

/// `text` with each detection replaced by its placeholder. `detections` must be sorted and disjoint, as [`find`]
/// returns them.
pub fn redact(text: &str, detections: &[Detection]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for detection in detections {
        if detection.start < at || detection.end > text.len() {
            continue;
        }
        out.push_str(&text[at..detection.start]);
        out.push_str(detection.kind.placeholder());
        at = detection.end;
    }
    out.push_str(&text[at..]);
    out
}

/// Finds and redacts in one step.
pub fn scrub(text: &str) -> (String, Vec<Detection>) {
    let detections = find(text);
    (redact(text, &detections), detections)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_every_kind_in_one_message() {
        let text = "I'm Evelyn Marchetti (DOB 1947-09-03, MBI 9VC5KU4MU31), SSN 499-64-2995, card 4813 6362 1606 9971, \
                    call (510) 555-0147 or write maria.flores62@example.com; I live at 2218 Linden Street, Oakland, CA \
                    94607 and my member ID is SCN40918273.";
        let (redacted, found) = scrub(text);
        assert_eq!(
            redacted,
            "I'm [NAME] (DOB [DOB], MBI [MBI]), SSN [SSN], card [CARD], call [PHONE] or write [EMAIL]; I live at \
             [ADDRESS] and my member ID is [MEMBER_ID]."
        );
        assert_eq!(found.len(), 9);
    }

    #[test]
    fn the_plans_own_numbers_and_ordinary_figures_stay() {
        let text = "I called 1-800-559-3500 about the $1,500 limit for 2025 and 100 days per benefit period.";
        assert_eq!(scrub(text).0, text);
    }

    #[test]
    fn taken_spans_answer_overlaps_at_their_edges() {
        let span = |start, end| Detection {
            kind: Kind::Name,
            start,
            end,
            score: 0.5,
        };
        let taken = Taken::of(&[span(10, 20), span(0, 5)]);
        assert!(taken.overlaps(&span(4, 6)));
        assert!(taken.overlaps(&span(19, 25)));
        assert!(taken.overlaps(&span(12, 14)));
        assert!(taken.overlaps(&span(0, 30)));
        assert!(!taken.overlaps(&span(5, 10)));
        assert!(!taken.overlaps(&span(20, 30)));
    }

    #[test]
    fn no_text_makes_a_detector_panic() {
        // Multi-byte characters beside every construct a detector slices around: cues, dashes, digits, labels.
        let pieces = [
            "¿",
            "—",
            "–",
            "-",
            " ",
            "\n",
            ":",
            ",",
            ".",
            "/",
            "#",
            "(",
            ")",
            "de ",
            "la ",
            "Rosa",
            "Ñ",
            "é",
            "ü",
            "J.",
            "María",
            "Paciente: ",
            "DOB ",
            "born ",
            "nacido el ",
            "3/",
            "1946",
            "12",
            "555",
            "0147",
            "SCN",
            "ID ",
            "member ID ",
            "call ",
            "PO Box ",
            "Calle ",
            "Street",
            "1EG4",
            "@",
            "x.com",
            "Dr. ",
            "hi ",
            "ann ",
            "June ",
            "4813 ",
            "😀",
            "\u{200b}",
        ];
        let mut seed = 11u64;
        for _ in 0..20_000 {
            let mut text = String::new();
            for _ in 0..10 {
                seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                text.push_str(pieces[(seed >> 33) as usize % pieces.len()]);
            }
            let found = find(&text);
            for pair in found.windows(2) {
                assert!(pair[0].end <= pair[1].start, "overlap in {text:?}");
            }
            for detection in &found {
                assert!(text.is_char_boundary(detection.start) && text.is_char_boundary(detection.end));
            }
            let _ = redact(&text, &found);
        }
    }
}
