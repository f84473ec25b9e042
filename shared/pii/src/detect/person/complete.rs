//! What belongs to a name found: middle initials, surname particles, a given name after a comma.

use super::{GAZETTEER, PARTICLES, capitalised, folded, name_char};
use crate::Detection;

/// Grows each name over what belongs to it, then drops names inside others:
/// - middle initials and what follows: "Walter J. Kowalski", a closing initial: "dottie r.";
/// - surname particles before it at the start of a line or after a label: "Patient: de la Rosa";
/// - a given name after a comma in a header: "Chen, Wei-Ming", "Van Dyke, Harriet --", or the surname before one:
///   "Fernández de la Torre, Ignacio";
/// - a given name joined to it by "and": "Faith and Hope Okoro".
pub(super) fn complete(text: &str, mut found: Vec<Detection>) -> Vec<Detection> {
    for name in &mut found {
        while let Some(end) = initial_and_name(text, name.end) {
            name.end = end;
        }
        name.start = particles_before(text, name.start);
        if line_lead(text, name.start)
            && let Some(end) = given_name_after_comma(text, name.end)
        {
            name.end = end;
        }
        // A header's "Surname, Given" holds one person; "Warmly, Tadashi and Michiko Sato" is a sign-off.
        let one_person = ![" and ", " y ", " & "]
            .iter()
            .any(|joiner| text[name.start..name.end].contains(joiner));
        if one_person && let Some(start) = surname_before_comma(text, name.start, name.end) {
            name.start = start;
        }
        if let Some(start) = given_name_before_and(text, name.start) {
            name.start = start;
        }
    }
    found.sort_by_key(|d| (d.start, std::cmp::Reverse(d.end)));
    let mut kept: Vec<Detection> = Vec::new();
    for name in found {
        match kept.last_mut() {
            Some(last) if name.start < last.end => last.end = last.end.max(name.end),
            _ => kept.push(name),
        }
    }
    kept
}

/// " J. Kowalski" or " K Thornbury" after a name: the end of the surname; " r." closing the text or a line: the end
/// of the initial.
pub(super) fn initial_and_name(text: &str, end: usize) -> Option<usize> {
    let rest = &text[end..];
    let after_space = rest.strip_prefix(' ')?;
    let mut chars = after_space.char_indices();
    let (_, initial) = chars.next()?;
    if !initial.is_alphabetic() {
        return None;
    }
    let mut at = initial.len_utf8();
    if after_space[at..].starts_with('.') {
        at += 1;
    }
    let tail = &after_space[at..];
    if tail.is_empty() || tail.starts_with('\n') || tail.starts_with(['!', '?', ',']) {
        // A closing initial needs its full stop, so "Maria y" stays "Maria".
        return (at == initial.len_utf8() + 1).then_some(end + 1 + at);
    }
    if !initial.is_uppercase() {
        return None;
    }
    let surname = tail.strip_prefix(' ')?;
    let word = leading_word(surname);
    let key = folded(word);
    let capital = capitalised(word) && word.chars().any(char::is_lowercase);
    (capital && !GAZETTEER.never.contains(key.as_str()) && !GAZETTEER.cues.contains(key.as_str()))
        .then(|| end + 1 + at + 1 + word.len())
}

/// The start of "de la " (and other surname particles) right before `start`, when they open a line or follow a label.
pub(super) fn particles_before(text: &str, start: usize) -> usize {
    let mut at = start;
    loop {
        let before = text[..at].trim_end_matches(' ');
        if before.len() == at {
            return start;
        }
        let word_start = last_word_start(before);
        let word = &before[word_start..];
        if !PARTICLES.contains(&word.to_lowercase().as_str()) {
            break;
        }
        at = word_start;
    }
    if at != start && line_lead(text, at) { at } else { start }
}

/// Whether `start` opens a line, maybe after a label of at most three words and a colon ("Patient: …").
///
/// Read backwards from `start` and no further than the label could reach: every name of a long line asks, and
/// reading the whole line each time made a 64 KiB message of names quadratic.
pub(super) fn line_lead(text: &str, start: usize) -> bool {
    let mut words = 0;
    let mut in_word = false;
    for c in text[..start].chars().rev() {
        if c == '\n' {
            break;
        }
        if c.is_whitespace() {
            in_word = false;
            continue;
        }
        // The last character before the name other than a space: a label's colon, or the line holds other words.
        if words == 0 && !in_word && c != ':' {
            return false;
        }
        if !in_word {
            in_word = true;
            words += 1;
            if words > 3 {
                return false;
            }
        }
    }
    true
}

/// Where the text after the last colon or line break of `head` starts, or `None` when that text, its leading
/// spaces trimmed, holds more than `max_words` words split at single spaces. Read backwards no further than those
/// words, for the reason [`line_lead`] gives.
fn label_free_start(head: &str, max_words: usize) -> Option<usize> {
    let mut spaces_between = 0;
    let mut pending_spaces = 0;
    for (at, c) in head.char_indices().rev() {
        match c {
            ':' | '\n' => return Some(at + 1),
            ' ' => pending_spaces += 1,
            c if c.is_whitespace() => {}
            _ => {
                // Spaces count as word breaks only with a word before them: leading spaces are trimmed.
                spaces_between += pending_spaces;
                pending_spaces = 0;
                if spaces_between >= max_words {
                    return None;
                }
            }
        }
    }
    Some(0)
}

/// ", Harriet" or ", Wei-Ming" after a surname, ending its line or followed by a dash: the end of the given name.
fn given_name_after_comma(text: &str, end: usize) -> Option<usize> {
    let rest = text[end..].strip_prefix(", ")?;
    let word = leading_word(rest);
    let key = folded(word);
    let gazetteer = &*GAZETTEER;
    let named = gazetteer.first.contains(key.as_str())
        || word
            .split('-')
            .any(|part| gazetteer.first.contains(folded(part).as_str()))
        || !gazetteer.common.contains(key.as_str());
    // A middle initial may follow: "Petrov, Dmitri A.".
    let mut taken = word.len();
    if let Some(initial) = initial_after(&rest[taken..]) {
        taken += initial;
    }
    (capitalised(word) && named && closes_line(&rest[taken..]) && !gazetteer.never.contains(key.as_str()))
        .then_some(end + 2 + taken)
}

/// The length of " A." at the start of `rest`: a middle initial with its full stop.
fn initial_after(rest: &str) -> Option<usize> {
    let after_space = rest.strip_prefix(' ')?;
    let mut chars = after_space.chars();
    let initial = chars.next()?;
    (initial.is_uppercase() && chars.next() == Some('.')).then_some(1 + initial.len_utf8() + 1)
}

/// "Fernández de la Torre, " opening the line (maybe after a label) before a given name that ends it: the start of
/// the surname.
fn surname_before_comma(text: &str, start: usize, end: usize) -> Option<usize> {
    let head = text[..start].strip_suffix(", ")?;
    if !closes_line(&text[end..]) {
        return None;
    }
    // After a label ("Patient: "), if any.
    let surname = head[label_free_start(head, 4)?..].trim_start();
    let surname_start = head.len() - surname.len();
    let words: Vec<&str> = surname.split(' ').collect();
    let capitalised_words = words.iter().filter(|w| capitalised(w)).count();
    let shaped = (1..=4).contains(&words.len())
        && capitalised_words >= 1
        && words.iter().all(|word| {
            let key = folded(word);
            PARTICLES.contains(&word.to_lowercase().as_str())
                || (capitalised(word)
                    && word.chars().all(name_char)
                    && !GAZETTEER.never.contains(key.as_str())
                    && !GAZETTEER.cues.contains(key.as_str()))
        });
    shaped.then_some(surname_start)
}

/// "Faith and " or "Rosa y " right before a name: the start of the first given name, which shares the surname, or
/// of another person's name in the same list ("Colleen, Bridie and Siobhan").
fn given_name_before_and(text: &str, start: usize) -> Option<usize> {
    let head = ["and ", "y ", "& "]
        .iter()
        .find_map(|joiner| text[..start].strip_suffix(joiner))?;
    let head = head.strip_suffix(' ')?;
    let word_start = last_word_start(head);
    let word = &head[word_start..];
    let key = folded(word);
    // A given name, or a word written like one that is no ordinary word: "Ichiro and Sachiko Endo".
    let named = GAZETTEER.first.contains(key.as_str())
        || (word.chars().any(char::is_lowercase)
            && !GAZETTEER.common.contains(key.as_str())
            && !GAZETTEER.cues.contains(key.as_str()));
    (capitalised(word) && named && !GAZETTEER.never.contains(key.as_str())).then_some(word_start)
}

/// The word `text` starts with: letters, and the hyphens and apostrophes inside a name.
fn leading_word(text: &str) -> &str {
    text.split(|c: char| !name_char(c)).next().unwrap_or_default()
}

/// Where the last run of letters of `text` starts.
fn last_word_start(text: &str) -> usize {
    text.char_indices()
        .rfind(|&(_, c)| !c.is_alphabetic())
        .map_or(0, |(i, c)| i + c.len_utf8())
}

/// Whether what follows a name ends its header line: nothing, a line break, a dash, a bracket or a slash.
fn closes_line(rest: &str) -> bool {
    let rest = rest.trim_start_matches(' ');
    rest.is_empty() || rest.starts_with(['\n', '-', '—', '(', '/'])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leads(text: &str) -> bool {
        line_lead(text, text.len())
    }

    #[test]
    fn a_line_lead_is_a_line_start_or_a_short_label() {
        assert!(leads(""));
        assert!(leads("Thanks\n   "));
        assert!(leads("Patient: "));
        assert!(leads("Visit notes\nName of patient:\t"));
        assert!(!leads("Name of the patient: "));
        assert!(!leads("Re: my visit with "));
        assert!(!leads("I called "));
    }

    #[test]
    fn the_text_after_a_label_holds_at_most_so_many_words() {
        assert_eq!(label_free_start("Patient:  de la Rosa", 4), Some(8));
        assert_eq!(label_free_start("Fernández de la Torre", 4), Some(0));
        assert_eq!(label_free_start("Notes\nvan der Berg", 4), Some(6));
        assert_eq!(label_free_start("Patient: a b c d e", 4), None);
        // Leading spaces are trimmed, not counted as word breaks.
        assert_eq!(label_free_start("Re:     Okafor", 1), Some(3));
    }

    #[test]
    fn a_long_line_of_names_reads_as_many_short_lines() {
        let one_line = "Ana Ruiz called Ana. ".repeat(2000);
        let many_lines = "Ana Ruiz called Ana.\n".repeat(2000);
        let spans = |text: &str| super::super::find(text).len();
        assert_eq!(spans(&one_line), spans(&many_lines));
        assert!(spans(&one_line) >= 2000);
    }
}
