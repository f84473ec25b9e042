//! A name signing off a message after a dash.

use super::{GAZETTEER, Token, folded};
use crate::{Detection, Kind};

/// A sign-off after a dash at the end of a message: "Any update? -Lorenzo", "thanks!! -- dottie r.".
pub(super) fn find(text: &str, all: &[Token]) -> Vec<Detection> {
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
