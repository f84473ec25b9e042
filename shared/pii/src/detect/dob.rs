//! Dates of birth: a full date (US `04/17/1951`, day first `05.11.1950`, ISO `1947-09-03`, `March 12, 1949`,
//! `marzo 21, 1946`, `12 de marzo de 1949`) that its context marks as a birth date ("born", "DOB", "nací"...), or
//! whose four-digit year is long past (before 1990: a member's birth, not a claim's service date). A two-digit year
//! (`5/2/47`) counts only after such a cue, as does a date said in words, as voice dictation writes it ("June fifth
//! nineteen forty nine", "cinco de junio de mil novecientos cuarenta y nueve").

use regex::Regex;
use std::sync::LazyLock;

use super::cue_before;
use crate::{Detection, Kind};

const MONTHS_EN: &str = "january|february|march|april|may|june|july|august|september|october|november|december|\
                         jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec";
const MONTHS_ES: &str = "enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|\
                         diciembre|ene|feb|mar|abr|may|jun|jul|ago|sept|sep|set|oct|nov|dic";

static DATES: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    let patterns = [
        // Day and month either way round, `/`, `-` or `.` between them, a four- or two-digit year.
        r"(?-u:\b)(?:0?[1-9]|[12]\d|3[01])[/.-](?:0?[1-9]|[12]\d|3[01])[/.-]((?:19|20)\d{2}|\d{2})(?-u:\b)".to_string(),
        r"(?-u:\b)((?:19|20)\d{2})-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])(?-u:\b)".to_string(),
        format!(
            r"(?i)(?-u:\b)(?:{MONTHS_EN}|{MONTHS_ES})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+((?:19|20)\d{{2}})(?-u:\b)"
        ),
        format!(r"(?i)(?-u:\b)\d{{1,2}}\s+(?:of\s+)?(?:{MONTHS_EN})\.?\s*,?\s+((?:19|20)\d{{2}})(?-u:\b)"),
        format!(r"(?i)(?-u:\b)\d{{1,2}}[-/ ](?:{MONTHS_EN}|{MONTHS_ES})\.?[-/ ]((?:19|20)\d{{2}})(?-u:\b)"),
        format!(r"(?i)(?-u:\b)\d{{1,2}}\s+de\s+(?:{MONTHS_ES})\.?\s+(?:de|del)\s+((?:19|20)\d{{2}})(?-u:\b)"),
    ];
    #[allow(clippy::expect_used)] // constant patterns, checked by the tests
    patterns
        .iter()
        .map(|p| Regex::new(p).expect("valid date pattern"))
        .collect()
});

/// A day and a year said in words, after a month or around it; a cue must precede it.
static SPOKEN: LazyLock<Regex> = LazyLock::new(|| {
    let ones = "one|two|three|four|five|six|seven|eight|nine";
    let day = format!(
        "(?:twenty|thirty)[- ](?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|{ones})|\
         first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|thirteenth|fourteenth|\
         fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|thirtieth|{ones}|ten|eleven|twelve|\
         thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|thirty-one|\\d{{1,2}}(?:st|nd|rd|th)?"
    );
    let year = format!(
        "nineteen[- ](?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[- ](?:{ones}))?|oh[- ](?:{ones}))"
    );
    let dia = "uno|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|once|doce|trece|catorce|quince|dieciséis|\
               dieciseis|diecisiete|dieciocho|diecinueve|veinte|veinti\\w+|treinta(?:\\s+y\\s+uno)?|primero|\\d{1,2}";
    // The year's last two digits in words: "cuarenta y nueve", "treinta", "diecisiete".
    let year_es = "(?:(?:veinte|treinta|cuarenta|cincuenta|sesenta|setenta|ochenta|noventa)(?:\\s+y\\s+(?:uno|dos|tres|cuatro|\
               cinco|seis|siete|ocho|nueve))?|diez|once|doce|trece|catorce|quince|dieciséis|dieciseis|diecisiete|\
               dieciocho|diecinueve|veinti\\w+|uno|dos|tres|cuatro|cinco|seis|siete|ocho|nueve)";
    let patterns = [
        format!(r"(?:{MONTHS_EN})\s+(?:the\s+)?(?:{day})\s*,?\s+(?:of\s+)?{year}"),
        format!(r"(?:the\s+)?(?:{day})\s+(?:of\s+)?(?:{MONTHS_EN})\s*,?\s+{year}"),
        format!(r"(?:{dia})\s+de\s+(?:{MONTHS_ES})\s+(?:de|del)\s+mil\s+novecientos(?:\s+{year_es})?"),
    ];
    let joined = patterns.join("|");
    #[allow(clippy::expect_used)] // a constant pattern, checked by the tests
    Regex::new(&format!(r"(?i)(?-u:\b)(?:{joined})(?-u:\b)")).expect("valid spoken date pattern")
});

const CUES: &[&str] = &[
    "born",
    "birth",
    "dob",
    "d.o.b",
    "nací",
    "naci",
    "nacimiento",
    "cumpleaños",
    "birthday",
];

/// Years before this are read as birth years even without a cue.
const SURELY_BIRTH_BEFORE: u32 = 1990;

pub fn find(text: &str) -> Vec<Detection> {
    let mut found = Vec::new();
    for pattern in DATES.iter() {
        for caps in pattern.captures_iter(text) {
            let (Some(whole), Some(year)) = (caps.get(0), caps.get(1)) else {
                continue;
            };
            // A two-digit year says nothing of how long ago: only a cue makes such a date a birth date.
            let long_past =
                year.as_str().len() == 4 && year.as_str().parse::<u32>().unwrap_or(u32::MAX) < SURELY_BIRTH_BEFORE;
            let cued = cue_before(text, whole.start(), 40, CUES);
            let score = if cued {
                0.95
            } else if long_past {
                0.75
            } else {
                continue;
            };
            found.push(Detection {
                kind: Kind::Dob,
                start: whole.start(),
                end: whole.end(),
                score,
            });
        }
    }
    found.extend(
        SPOKEN
            .find_iter(text)
            .filter(|m| cue_before(text, m.start(), 40, CUES))
            .map(|m| Detection {
                kind: Kind::Dob,
                start: m.start(),
                end: m.end(),
                score: 0.95,
            }),
    );
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<&str> {
        crate::detect::matched(text, find(text))
    }

    #[test]
    fn birth_dates_in_us_iso_english_and_spanish_forms() {
        assert_eq!(found("I was born on 04/17/1951."), vec!["04/17/1951"]);
        assert_eq!(found("(DOB 1947-09-03, MBI"), vec!["1947-09-03"]);
        assert_eq!(found("nací el 12 de marzo de 1949."), vec!["12 de marzo de 1949"]);
        assert_eq!(found("born March 12, 1949"), vec!["March 12, 1949"]);
        assert_eq!(found("DOB: Sept. 3, 1948 |"), vec!["Sept. 3, 1948"]);
        assert_eq!(found("DOB 03-Mar-1948,"), vec!["03-Mar-1948"]);
        assert_eq!(found("Fecha de nacimiento: 3 dic. 1948"), vec!["3 dic. 1948"]);
    }

    #[test]
    fn day_first_dotted_two_digit_years_and_spanish_month_first() {
        assert_eq!(found("Date of birth: 5/2/47\nAmount"), vec!["5/2/47"]);
        assert_eq!(
            found("Patient: F. Begum / DOB: 05.11.1950 (day first)"),
            vec!["05.11.1950"]
        );
        assert_eq!(found("Fecha de nacimiento: dic. 12, 1944\n"), vec!["dic. 12, 1944"]);
        assert_eq!(found("Fecha de nacimiento: marzo 21, 1946"), vec!["marzo 21, 1946"]);
        assert_eq!(found("seen on 31.01.1948 at"), vec!["31.01.1948"]);
    }

    #[test]
    fn dates_said_in_words_after_a_birth_cue() {
        assert_eq!(
            found("her birthday is june fifth nineteen forty nine ok"),
            vec!["june fifth nineteen forty nine"]
        );
        assert_eq!(
            found("born on the 3rd of March, nineteen fifty-two."),
            vec!["the 3rd of March, nineteen fifty-two"]
        );
        assert_eq!(
            found("nació el cinco de junio de mil novecientos cuarenta y nueve, y"),
            vec!["cinco de junio de mil novecientos cuarenta y nueve"]
        );
        assert_eq!(
            found("DOB is the fifteenth of may nineteen thirty-eight"),
            vec!["the fifteenth of may nineteen thirty-eight"]
        );
        assert!(found("my appointment is june fifth at nine").is_empty());
        assert!(found("I moved here in June of nineteen seventy").is_empty());
        assert_eq!(
            found("nació el 3 de mayo de mil novecientos cincuenta en Jalisco"),
            vec!["3 de mayo de mil novecientos cincuenta"]
        );
    }

    #[test]
    fn a_two_digit_year_needs_a_cue() {
        assert!(found("my refill on 3/4/25 was late").is_empty());
        assert!(found("my refill on 3.4.47 was late").is_empty());
    }

    #[test]
    fn recent_dates_without_a_cue_are_service_dates() {
        assert!(found("my claim from 03/04/2025 was denied").is_empty());
        assert!(found("exp 08/27").is_empty());
    }
}
