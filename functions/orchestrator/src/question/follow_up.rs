//! A short follow-up ("and for a specialist?") means little alone: it is read with the member's previous question.

use navigator_platform::text::terms;

use crate::chat::{Role, Turn};

/// Openers that make a message a follow-up to the previous question.
const FOLLOW_UP_OPENERS: &[&str] = &[
    "and ",
    "what about",
    "how about",
    "also ",
    "y ",
    "¿y ",
    "and?",
    "y para",
    "¿y para",
];

/// A message with this few content words is read together with the previous question.
const FOLLOW_UP_MAX_TERMS: usize = 3;

/// The question to search: a short follow-up is read with the member's previous question.
pub fn with_context(question: &str, history: &[Turn]) -> String {
    let lower = question.trim().to_lowercase();
    let follow_up = FOLLOW_UP_OPENERS.iter().any(|opener| lower.starts_with(opener))
        || terms(question).len() <= FOLLOW_UP_MAX_TERMS;
    let previous = history.iter().rev().find(|turn| turn.role == Role::User);
    match previous {
        Some(previous) if follow_up && !history.is_empty() => {
            format!("{} {}", previous.content.trim(), question.trim())
        }
        _ => question.trim().to_string(),
    }
}
