//! What a word-level name classifier reads about each word besides its meaning: how it is written, where it sits,
//! which of the gazetteer's lists hold it, what comes right before it, and whether the rules of this crate found it
//! inside a name. The guard's learned name model (functions/guard) weighs these with the word's MiniLM state.

use super::{GAZETTEER, TITLES, Token, adjacent, cued, folded, introduced, sentence_start, tokens};
use crate::{Detection, Kind};

/// How many cues each word has.
pub const WORD_CUES: usize = 14;

/// One word of a text (letters, with inner apostrophes and hyphens) and its cues, each 0 or 1.
#[derive(Debug, Clone, PartialEq)]
pub struct WordCues {
    /// Its byte range in the text.
    pub start: usize,
    pub end: usize,
    pub cues: [f32; WORD_CUES],
}

/// Every word of `text` with its cues; `rules` are the detections of [`crate::find`] on the same text.
pub fn word_cues(text: &str, rules: &[Detection]) -> Vec<WordCues> {
    let gazetteer = &*GAZETTEER;
    let all = tokens(text);
    let capital_next_to = |a: &Token, b: &Token, other: &Token| other.capital && adjacent(text, a, b);
    all.iter()
        .enumerate()
        .map(|(at, token)| {
            let key = if token.capital {
                token.key.clone()
            } else {
                folded(token.word)
            };
            let letters = token.word.chars().filter(|c| c.is_alphabetic()).count();
            let previous = at.checked_sub(1).map(|i| &all[i]);
            let next = all.get(at + 1);
            let titled = previous.is_some_and(|p| TITLES.contains(&p.word.to_lowercase().as_str()));
            let named_by_rules = rules
                .iter()
                .any(|d| d.kind == Kind::Name && d.start <= token.start && token.end <= d.end);
            let flag = |on: bool| f32::from(u8::from(on));
            WordCues {
                start: token.start,
                end: token.end,
                cues: [
                    flag(token.capital),
                    flag(letters >= 2 && token.word.chars().all(|c| !c.is_lowercase())),
                    flag(sentence_start(text, token)),
                    flag(previous.is_some_and(|p| capital_next_to(p, token, p))),
                    flag(next.is_some_and(|n| capital_next_to(token, n, n))),
                    flag(gazetteer.first.contains(&key)),
                    flag(gazetteer.last.contains(&key)),
                    flag(gazetteer.ambiguous.contains(&key)),
                    flag(gazetteer.common.contains(&key)),
                    flag(gazetteer.never.contains(&key) || gazetteer.cues.contains(&key)),
                    flag(letters <= 2),
                    flag(cued(&all, at) || introduced(text, &all, at)),
                    flag(titled),
                    flag(named_by_rules),
                ],
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cues_of(text: &str, word: &str) -> [f32; WORD_CUES] {
        let rules = crate::find(text);
        word_cues(text, &rules)
            .into_iter()
            .find(|w| &text[w.start..w.end] == word)
            .map(|w| w.cues)
            .unwrap_or_else(|| panic!("no word {word:?} in {text:?}"))
    }

    #[test]
    fn a_cued_gazetteer_name_carries_its_lists_its_cue_and_the_rules_verdict() {
        let cues = cues_of("Dear Rosa, your Delgado file is ready.", "Rosa");
        assert_eq!(cues[0], 1.0, "capitalised");
        assert_eq!(cues[5], 1.0, "a first name");
        assert_eq!(cues[11], 1.0, "after a salutation");
        assert_eq!(cues[13], 1.0, "the rules found it");
    }

    #[test]
    fn an_ordinary_word_in_lower_case_has_none_of_a_names_cues() {
        let cues = cues_of("does the plan cover hearing aids?", "hearing");
        assert_eq!(cues[0], 0.0);
        assert_eq!(cues[8], 1.0, "an ordinary word");
        assert_eq!(cues[13], 0.0);
    }

    #[test]
    fn capitals_shape_and_neighbours_are_read() {
        let text = "IS THE COPAY FOR DR. NAKASHIMA THE SAME";
        let cues = cues_of(text, "NAKASHIMA");
        assert_eq!(cues[1], 1.0, "all capitals");
        assert_eq!(cues[12], 1.0, "after a title");
        let cues = cues_of("Is Medicare Advantage cheaper?", "Medicare");
        assert_eq!(cues[4], 1.0, "a capitalised word follows");
        assert_eq!(cues[9], 1.0, "a plan word");
    }

    #[test]
    fn every_word_gets_its_own_byte_range() {
        let text = "Ana's son, José-Luis, called.";
        let words: Vec<&str> = word_cues(text, &[]).iter().map(|w| &text[w.start..w.end]).collect();
        assert_eq!(words, ["Ana", "son", "José-Luis", "called"]);
    }
}
