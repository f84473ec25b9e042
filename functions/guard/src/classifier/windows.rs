//! Long texts read in overlapping windows, so an attack is caught wherever it sits: a jailbreak several KB long, or
//! an instruction buried in the middle of a pasted letter, would otherwise be diluted by everything around it (and a
//! sentence model reads only its first 256 word pieces).

/// Words per window: about 130 word pieces, well inside the sentence model's 256.
pub const WINDOW_WORDS: usize = 100;
/// The most windows one text is read in: a 64 KiB text still fits the ML stage's budget.
pub const MAX_WINDOWS: usize = 32;

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
}
