//! Long texts read in overlapping windows, so an attack is caught wherever it sits: a jailbreak several KB long, or
//! an instruction buried in the middle of a pasted letter, would otherwise be diluted by everything around it (and a
//! sentence model reads only its first 256 word pieces).

/// Words per window: about 130 word pieces, well inside the sentence model's 256.
pub const WINDOW_WORDS: usize = 100;
/// The most windows one text is cut into: 256 overlapping windows cover 12,800 words, a 64 KiB text of short words,
/// and the lexical model screens them all in a few milliseconds.
pub const MAX_WINDOWS: usize = 256;
/// The most windows of one text the sentence model reads. Each is one pass of about 130 word pieces, some 35 ms on
/// one core (`cargo bench --bench guard`), and the name model reads the same text beside it: four keep a 4,000-character
/// message (twelve windows) inside the ML stage's 300 ms, where reading all twelve took 400 ms and left the stage
/// to fail.
pub const MAX_SENTENCE_WINDOWS: usize = 4;

/// The text itself when it is short; otherwise windows of [`WINDOW_WORDS`] words overlapping by half (or less, to
/// stay within [`MAX_WINDOWS`]), the last one ending at the text's end.
pub fn windows(text: &str) -> Vec<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.len() <= WINDOW_WORDS {
        return vec![text.to_string()];
    }
    let span = words.len() - WINDOW_WORDS;
    let stride = (WINDOW_WORDS / 2).max(span.div_ceil(MAX_WINDOWS - 1));
    let mut starts: Vec<usize> = (0..=span).step_by(stride).collect();
    if starts.last() != Some(&span) {
        starts.push(span);
    }
    starts
        .into_iter()
        .map(|start| words[start..start + WINDOW_WORDS].join(" "))
        .collect()
}

/// Which of a text's windows the sentence model reads, given each window's risk as a cheap model screens it: the
/// first (a role-play or a fake mode is set up there) and the riskiest of the rest, `keep` in all (the first at
/// least), in text order.
pub fn riskiest(risks: &[f32], keep: usize) -> Vec<usize> {
    if risks.len() <= keep {
        return (0..risks.len()).collect();
    }
    let mut rest: Vec<usize> = (1..risks.len()).collect();
    // Ties go to the earlier window, so the choice does not depend on the sort.
    rest.sort_by(|&a, &b| risks[b].total_cmp(&risks[a]).then(a.cmp(&b)));
    let mut chosen: Vec<usize> = std::iter::once(0)
        .chain(rest.into_iter().take(keep.saturating_sub(1)))
        .collect();
    chosen.sort_unstable();
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_texts_are_one_window_and_long_ones_are_covered_to_the_end() {
        assert_eq!(windows("What is my copay?"), vec!["What is my copay?".to_string()]);
        let long: String = (0..350).map(|i| format!("w{i} ")).collect();
        let read = windows(&long);
        assert!(read.len() > 3);
        assert!(read[0].starts_with("w0 ") && read.last().unwrap().ends_with("w349"));
        assert!(read.iter().all(|w| w.split_whitespace().count() == WINDOW_WORDS));
        let huge: String = (0..20_000).map(|i| format!("w{i} ")).collect();
        let read = windows(&huge);
        assert!(read.len() <= MAX_WINDOWS + 1 && read.last().unwrap().ends_with("w19999"));
    }

    #[test]
    fn the_first_window_and_the_riskiest_are_read_in_text_order() {
        assert_eq!(riskiest(&[0.1, 0.9], 4), vec![0, 1]);
        assert_eq!(riskiest(&[0.0, 0.2, 0.9, 0.1, 0.8, 0.3], 3), vec![0, 2, 4]);
        // The first is read however harmless it looks; equal risks go to the earlier window.
        assert_eq!(riskiest(&[0.0, 0.5, 0.5, 0.5], 2), vec![0, 1]);
        assert_eq!(riskiest(&[], 4), Vec::<usize>::new());
    }
}
