//! Grounding: the answer never states a dollar amount or a phone number that no source holds.
//!
//! A wrong copay or a made-up phone number is the costliest error this system can make, and a model can write one
//! with confidence. Whatever composed the answer, every figure in it is checked against the sources, and a line
//! holding a figure no source has is dropped (and counted in a metric).

/// A figure found in text, normalised so `$1,500.00` matches `$1500` and `(800) 559-3500` matches `1-800-559-3500`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Figure {
    Dollars(String),
    Phone(String),
}

/// Every dollar amount and phone number in `text`.
pub fn figures(text: &str) -> Vec<Figure> {
    let mut found = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '$' {
            let (amount, end) = read_amount(&chars, i + 1);
            if !amount.is_empty() {
                found.push(Figure::Dollars(amount));
            }
            i = end.max(i + 1);
            continue;
        }
        if chars[i].is_ascii_digit() || chars[i] == '(' {
            let glued = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '$');
            if !glued && let Some((digits, end)) = read_phone(&chars, i) {
                found.push(Figure::Phone(digits));
                i = end;
                continue;
            }
            // Skip the rest of this number so its tail is not read as the start of another.
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '(') {
                i += 1;
            }
            continue;
        }
        i += 1;
    }
    found
}

fn read_amount(chars: &[char], start: usize) -> (String, usize) {
    let mut digits = String::new();
    let mut i = start;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() {
            digits.push(c);
        } else if c == ',' && chars.get(i + 1).is_some_and(char::is_ascii_digit) {
            // thousands separator
        } else if c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit) {
            let cents: String = chars[i + 1..].iter().take_while(|c| c.is_ascii_digit()).collect();
            i += 1 + cents.len();
            if cents.trim_end_matches('0').is_empty() {
                break;
            }
            digits.push('.');
            digits.push_str(&cents);
            break;
        } else {
            break;
        }
        i += 1;
    }
    (digits, i)
}

/// A North American phone number: optional `1-`, a 3-digit area code (optionally in parentheses), then 3 and 4
/// digits, separated by `-`, `.`, or a space. Returns its last ten digits.
fn read_phone(chars: &[char], start: usize) -> Option<(String, usize)> {
    let mut digits = String::new();
    let mut groups = Vec::new();
    let mut i = start;
    let mut current = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() {
            digits.push(c);
            current += 1;
        } else if matches!(c, '-' | '.' | ' ' | '(' | ')')
            && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit() || *n == '(')
            || (c == ')' && chars.get(i + 1) == Some(&' '))
        {
            if current > 0 {
                groups.push(current);
                current = 0;
            }
        } else {
            break;
        }
        i += 1;
    }
    if current > 0 {
        groups.push(current);
    }
    let shape_ok = matches!(groups.as_slice(), [3, 3, 4] | [1, 3, 3, 4]);
    if !shape_ok || i < chars.len() && chars[i].is_alphanumeric() {
        return None;
    }
    let ten = digits[digits.len() - 10..].to_string();
    Some((ten, i))
}

/// The figures of `answer` that no source holds.
pub fn ungrounded<'a>(answer: &str, sources: impl IntoIterator<Item = &'a str>) -> Vec<Figure> {
    let known: std::collections::HashSet<Figure> = sources.into_iter().flat_map(figures).collect();
    let mut missing: Vec<Figure> = figures(answer).into_iter().filter(|f| !known.contains(f)).collect();
    missing.sort();
    missing.dedup();
    missing
}

/// `answer` without the sentences that state a figure no source holds, and how many were dropped.
pub fn drop_ungrounded<'a>(answer: &str, sources: impl IntoIterator<Item = &'a str> + Clone) -> (String, usize) {
    let mut kept = Vec::new();
    let mut dropped = 0;
    for line in answer.lines() {
        let mut kept_sentences = Vec::new();
        for sentence in line.split_inclusive(". ") {
            if ungrounded(sentence, sources.clone()).is_empty() {
                kept_sentences.push(sentence);
            } else {
                dropped += 1;
            }
        }
        let kept_line = kept_sentences.concat();
        // Blank lines that separated paragraphs stay; lines emptied by dropping go.
        if line.trim().is_empty() || !kept_line.trim().is_empty() {
            kept.push(kept_line.trim_end().to_string());
        }
    }
    (kept.join("\n").trim().to_string(), dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dollars(s: &str) -> Figure {
        Figure::Dollars(s.into())
    }

    fn phone(s: &str) -> Figure {
        Figure::Phone(s.into())
    }

    #[test]
    fn finds_amounts_and_phone_numbers_in_their_usual_shapes() {
        let text = "Pay $1,500.00 or $35.50 or $0. Call 1-800-559-3500, (877) 588-1123 or 855.431.5537; TTY 711. \
                    Room 12, 120 months, P.O. Box 22644, zip 55121-1234.";
        assert_eq!(
            figures(text),
            vec![
                dollars("1500"),
                dollars("35.50"),
                dollars("0"),
                phone("8005593500"),
                phone("8775881123"),
                phone("8554315537"),
            ]
        );
    }

    #[test]
    fn a_figure_must_be_in_some_source() {
        let sources = [
            "Specialist visit $0 copayment for each office visit.",
            "Call 1-800-559-3500.",
        ];
        assert!(ungrounded("You pay $0.00; call (800) 559-3500.", sources).is_empty());
        assert_eq!(
            ungrounded("You pay $40 and can call 1-800-555-0100.", sources),
            vec![dollars("40"), phone("8005550100")]
        );
    }

    #[test]
    fn sentences_with_invented_figures_are_dropped_and_the_rest_kept() {
        let sources = ["Emergency care $90 copayment for each visit."];
        let answer =
            "An ER visit costs $90 [p. 71]. Ambulance rides cost $250. Ask your doctor.\nCall 1-800-555-0199 today.";
        let (kept, dropped) = drop_ungrounded(answer, sources);
        assert_eq!(kept, "An ER visit costs $90 [p. 71]. Ask your doctor.");
        assert_eq!(dropped, 2);
    }
}
