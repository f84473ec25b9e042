//! Names written in lower case, as some members type everything.

use super::{GAZETTEER, INTRODUCERS, PARTICLES, TITLES, Token, WordList, adjacent};
use crate::{Detection, Kind};

/// Words a member introduces themself with, in lower case: "soy marisol", "me llamo ana".
const SELF_INTRODUCERS: &[&str] = &["soy", "llamo", "i'm", "im"];

/// Names written in lower case ("my granddaughter kayla ann moore", "hi jasmine", "mrs. tran"): a first name that is
/// no ordinary word, then names (and surname particles) up to a surname; or alone after a greeting, a relation, a
/// self-introduction or a title. Lower-case words need more than a capital would: none of them may be an ordinary or
/// ambiguous word.
pub(super) fn find(text: &str, all: &[Token]) -> Vec<Detection> {
    let gazetteer = &*GAZETTEER;
    let lower = |token: &Token| token.word.chars().all(|c| !c.is_uppercase()) && token.word.chars().count() >= 2;
    let ordinary = |word: &str| {
        gazetteer.common.contains(word)
            || gazetteer.ambiguous.contains(word)
            || gazetteer.never.contains(word)
            || gazetteer.cues.contains(word)
    };
    // A hyphenated surname counts when one of its parts is one: "okonkwo-bell".
    let in_list = |list: &WordList, word: &str| list.contains(word) || word.split('-').any(|part| list.contains(part));
    let first = |token: &Token| lower(token) && !ordinary(token.word) && in_list(&gazetteer.first, token.word);
    let any_name = |token: &Token| {
        lower(token)
            && !ordinary(token.word)
            && (in_list(&gazetteer.first, token.word) || in_list(&gazetteer.last, token.word))
    };
    let mut found = Vec::new();
    let mut i = 0;
    while i < all.len() {
        // After a title, a given name or a surname: "mrs. tran", "dr. okafor".
        let titled = i > 0
            && TITLES.contains(&all[i - 1].word.to_lowercase().as_str())
            && matches!(text[all[i - 1].end..all[i].start].trim(), "" | ".");
        if titled && any_name(&all[i]) {
            found.push(Detection {
                kind: Kind::Name,
                start: all[i].start,
                end: all[i].end,
                score: 0.7,
            });
            i += 1;
            continue;
        }
        if !first(&all[i]) {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        // Names, and surname particles between them: "anthony de la cruz".
        let particle = |token: &Token| PARTICLES.contains(&token.word);
        while j < all.len()
            && j - i < 5
            && (any_name(&all[j]) || particle(&all[j]))
            && adjacent(text, &all[j - 1], &all[j])
        {
            j += 1;
        }
        // Back off to the last surname: "kayla ann moore set" stops at "moore".
        while j > i + 1 && !in_list(&gazetteer.last, all[j - 1].word) {
            j -= 1;
        }
        let full = j > i + 1;
        let introduced = i > 0 && {
            let before = &all[i - 1];
            let word = before.word.to_lowercase();
            (INTRODUCERS.contains(&word.as_str()) || SELF_INTRODUCERS.contains(&word.as_str()))
                && matches!(text[before.end..all[i].start].trim(), "" | ",")
        };
        if full || introduced {
            let end = if full { all[j - 1].end } else { all[i].end };
            found.push(Detection {
                kind: Kind::Name,
                start: all[i].start,
                end,
                score: 0.7,
            });
            i = j.max(i + 1);
            continue;
        }
        i += 1;
    }
    found
}
