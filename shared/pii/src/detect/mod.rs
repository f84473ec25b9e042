//! One module per kind of personal data. Every detector returns byte spans into the original text.

pub mod address;
pub mod card;
pub mod dob;
pub mod email;
pub mod mbi;
pub mod member_id;
pub mod name;
pub mod person;
pub mod phone;
pub mod ssn;

use crate::Detection;

/// What every detector finds, overlaps included.
pub fn all(text: &str) -> Vec<Detection> {
    let mut found = Vec::new();
    found.extend(ssn::find(text));
    found.extend(mbi::find(text));
    found.extend(card::find(text));
    found.extend(phone::find(text));
    found.extend(email::find(text));
    found.extend(dob::find(text));
    found.extend(address::find(text));
    found.extend(member_id::find(text));
    found.extend(name::find(text));
    found.extend(person::find(text));
    found
}

/// Whether any of `cues` occurs (case-insensitively) within `window` bytes before `start`.
pub(crate) fn cue_before(text: &str, start: usize, window: usize, cues: &[&str]) -> bool {
    let mut from = start.saturating_sub(window);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    let before = text[from..start].to_lowercase();
    cues.iter().any(|cue| before.contains(cue))
}

/// Whether the characters right around a span are not letters or digits (a whole token).
pub(crate) fn standalone(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
}

/// The matched text of each detection, for tests.
#[cfg(test)]
pub(crate) fn matched(text: &str, found: Vec<Detection>) -> Vec<&str> {
    found.into_iter().map(|d| &text[d.start..d.end]).collect()
}
