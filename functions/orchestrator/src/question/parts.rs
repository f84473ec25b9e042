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

/// The searches for a question's later parts: each later part followed by the first, which names what it is about.
/// A later part usually leans on the first ("Who reviews a Level 2 appeal? Does SCAN run it?", "How do I appeal a
/// denied prescription online, and what's my deadline?"): searched alone, it finds passages about its own few words
/// (SCAN, deadlines) rather than its subject. The whole question is searched too, so the first part needs no search
/// of its own.
pub fn later_part_searches(question: &str) -> Vec<String> {
    let mut parts = question_parts(question).into_iter();
    let Some(first) = parts.next() else {
        return Vec::new();
    };
    parts.map(|part| format!("{part} {first}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_question_splits_at_its_question_marks_and_its_and_clauses() {
        assert_eq!(
            question_parts("How many days are covered, and what do I pay per day? When does the benefit period start?"),
            vec![
                "How many days are covered",
                "what do I pay per day?",
                "When does the benefit period start?"
            ]
        );
        assert_eq!(question_parts("What is my copay?"), vec!["What is my copay?"]);
        assert_eq!(
            question_parts("Why? What is my copay?"),
            vec!["What is my copay?"],
            "too few words alone"
        );
    }

    #[test]
    fn each_later_part_is_searched_with_the_first_part_as_its_subject() {
        assert_eq!(
            later_part_searches("Who is the outside organization that reviews a Level 2 appeal? Does SCAN run it?"),
            vec!["Does SCAN run it? Who is the outside organization that reviews a Level 2 appeal?"]
        );
        assert!(later_part_searches("What is my copay for a specialist?").is_empty());
        assert!(later_part_searches("").is_empty());
    }
}
