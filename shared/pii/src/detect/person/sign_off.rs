//! A name signing off a message: after a dash, or after a short closing and a comma.

use super::{GAZETTEER, Token, folded};
use crate::{Detection, Kind};

/// A sign-off at the end of a message: "Any update? -Lorenzo", "thanks!! -- dottie r.", "Take care, Eudora",
/// "Warmly, Ichiro and Sachiko Endo".
pub(super) fn find(text: &str, all: &[Token]) -> Vec<Detection> {
    let mut found = after_dash(text, all);
    found.extend(after_closing(text, all));
    found
}

/// The names after a closing of at most three words and a comma that end the message: "Cheers, Niamh".
fn after_closing(text: &str, all: &[Token]) -> Option<Detection> {
    let gazetteer = &*GAZETTEER;
    let body = text.trim_end().trim_end_matches(['.', '!']);
    let from = body.rfind(['.', '!', '?', '\n']).map_or(0, |at| at + 1);
    let (closing, names) = body[from..].rsplit_once(',')?;
    let closing_words = closing.split_whitespace().count();
    let names_at = from + closing.len() + 1;
    let words: Vec<&Token> = all.iter().filter(|token| token.start >= names_at).collect();
    let joiner = |token: &Token| matches!(token.word, "and" | "y" | "&");
    let shaped = (1..=3).contains(&closing_words)
        && (1..=4).contains(&words.len())
        && names
            .chars()
            .all(|c| c.is_alphabetic() || matches!(c, ' ' | '-' | '\'' | '’' | '&'))
        && words.iter().all(|token| token.capital || joiner(token));
    let first = words.first()?;
    // The first word a given name, or written like one and no ordinary word.
    let named = gazetteer.first.contains(first.key.as_str())
        || (!gazetteer.common.contains(first.key.as_str())
            && !gazetteer.cues.contains(first.key.as_str())
            && first.word.chars().any(char::is_lowercase));
    let clean = words
        .iter()
        .all(|token| !gazetteer.never.contains(token.key.as_str()) || joiner(token));
    (shaped && named && clean).then(|| Detection {
        kind: Kind::Name,
        start: first.start,
        end: words.last().map_or(first.end, |token| token.end),
        score: 0.7,
    })
}

/// A sign-off after a dash at the end of a message: "Any update? -Lorenzo", "thanks!! -- dottie r.".
fn after_dash(text: &str, all: &[Token]) -> Vec<Detection> {
    let gazetteer = &*GAZETTEER;
    let body = text.trim_end();
    let last_line = &body[body.rfind('\n').map_or(0, |at| at + 1)..];
    let Some((dash, dash_char)) = last_line.char_indices().rfind(|&(_, c)| matches!(c, '-' | '—')) else {
        return Vec::new();
    };
    let dash = body.len() - last_line.len() + dash;
    let from = dash + dash_char.len_utf8();
    let before_dash = body[..dash].chars().next_back();
    let signature = body[from..].trim_end_matches('.');
    let words = signature.split_whitespace().count();
    if before_dash.is_some_and(char::is_alphanumeric) || !(1..=3).contains(&words) || signature.len() > 40 {
        return Vec::new();
    }
    let Some(name) = all.iter().find(|token| token.start >= from) else {
        return Vec::new();
    };
    let key = folded(name.word);
    if !gazetteer.first.contains(key.as_str()) || gazetteer.common.contains(key.as_str()) {
        return Vec::new();
    }
    let end = all
        .iter()
        .rfind(|token| token.start >= from)
        .map_or(name.end, |token| token.end);
    vec![Detection {
        kind: Kind::Name,
        start: name.start,
        end,
        score: 0.7,
    }]
}
