//! Plan text cut into sentences: the units retrieval embeds and scores, and the composer quotes and cites.
//!
//! Plan documents arrive as lines from a PDF: a benefits-chart row is a label line ("Primary care visit") followed
//! by its cost lines ("$0 copayment for each", "office visit."). Lines are joined until a sentence ends, so each row
//! becomes one sentence that keeps its label. Ingest and composition cut with this one function, so a chunk's
//! sentences are the same on both sides.

/// A sentence longer than this is cut at its last line break before the limit.
const MAX_SENTENCE_CHARS: usize = 420;
/// Bullet glyphs PDFs use, the private-use one from Symbol fonts included.
const BULLETS: [char; 4] = ['•', '\u{f0b7}', '▪', '◦'];

/// Splits text into sentences: at a terminator followed by a new line or a capital, and at bullets.
pub fn sentences(text: &str) -> Vec<String> {
    let mut sentences = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line.starts_with(BULLETS) && !current.is_empty() {
            flush(&mut current, &mut sentences);
        }
        let line = line.trim_start_matches(BULLETS).trim();
        for piece in split_inside_line(line) {
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(piece);
            if ends_sentence(piece) || current.chars().count() > MAX_SENTENCE_CHARS {
                flush(&mut current, &mut sentences);
            }
        }
    }
    flush(&mut current, &mut sentences);
    sentences
}

fn flush(current: &mut String, sentences: &mut Vec<String>) {
    let sentence = current.trim();
    if sentence.chars().filter(|c| c.is_alphanumeric()).count() >= 3 {
        sentences.push(sentence.to_string());
    }
    current.clear();
}

fn ends_sentence(piece: &str) -> bool {
    piece.ends_with(['.', '?', '!', ':', ';']) && !(piece.ends_with('.') && is_abbreviation(&piece[..piece.len() - 1]))
}

/// Abbreviations that end in a full stop without ending the sentence, as `text` (the part before that stop) ends:
/// "P.O. Box", "U.S.", "a.m.", "e.g.", titles and street words. (Not single capitals: "Part D." ends sentences.)
fn is_abbreviation(text: &str) -> bool {
    const ABBREVIATIONS: &[&str] = &[
        "a.m", "p.m", "U.S", "P.O", "e.g", "i.e", "Dr", "Mr", "Mrs", "Ms", "St", "No", "Inc", "Ave", "Ste", "Blvd",
    ];
    let last_word = text.rsplit([' ', '(']).next().unwrap_or(text);
    ABBREVIATIONS.contains(&last_word)
}

/// Splits a line after each `. ` (or `? `, `! `) that is followed by a capital letter, a digit or `$`.
fn split_inside_line(line: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let bytes = line.as_bytes();
    for (at, c) in line.char_indices() {
        if !matches!(c, '.' | '?' | '!') || at + 2 >= line.len() || bytes[at + 1] != b' ' {
            continue;
        }
        let next = line[at + 2..].chars().next();
        if !is_abbreviation(&line[..at]) && next.is_some_and(|n| n.is_uppercase() || n.is_ascii_digit() || n == '$') {
            pieces.push(&line[start..=at]);
            start = at + 2;
        }
    }
    if start < line.len() {
        pieces.push(&line[start..]);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_row_becomes_one_sentence_with_its_label() {
        let text = "• Consultation, diagnosis, and treatment by a specialist\nPrimary care visit\n$0 copayment for each\noffice visit.\nSpecialist visit\n$0 copayment for each\noffice visit.";
        assert_eq!(
            sentences(text),
            vec![
                "Consultation, diagnosis, and treatment by a specialist Primary care visit $0 copayment for each office visit.",
                "Specialist visit $0 copayment for each office visit.",
            ]
        );
    }

    #[test]
    fn sentences_split_inside_lines_but_not_at_abbreviations() {
        let text = "You pay $90. The copay is waived if admitted. Call 8 a.m. to 8 p.m. Monday through Friday. \
                    Mail it to P.O. Box 21543, Eagan. It is covered under Part D. Dr. Lee agrees.";
        assert_eq!(
            sentences(text),
            vec![
                "You pay $90.",
                "The copay is waived if admitted.",
                "Call 8 a.m. to 8 p.m. Monday through Friday.",
                "Mail it to P.O. Box 21543, Eagan.",
                "It is covered under Part D.",
                "Dr. Lee agrees."
            ]
        );
    }

    #[test]
    fn a_runaway_sentence_is_cut_at_a_line() {
        let text = "word ".repeat(30).trim().to_string() + "\n";
        let long = text.repeat(5);
        let pieces = sentences(&long);
        assert!(pieces.len() > 1 && pieces.iter().all(|p| p.chars().count() <= MAX_SENTENCE_CHARS + 160));
    }
}
