//! The parts of a multi-part question ("How many days are covered, and what do I pay per day?"): each part is
//! searched and answered on its own.

use navigator_platform::text::terms;

/// The parts of a question, each with enough words to stand on its own; a one-part question gives one part.
pub fn question_parts(question: &str) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    for sentence in question.split_inclusive(['?', '¿']) {
        for clause in sentence.split(", and ") {
            let clause = clause.trim().trim_start_matches('¿').trim();
            if terms(clause).len() >= 2 {
                parts.push(clause.to_string());
            }
        }
    }
    parts
}
