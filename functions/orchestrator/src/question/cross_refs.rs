//! Cross-references in retrieved passages: "you live in our service area (Section 2.2 below describes our service
//! area)", "see Section 2.4 in this chapter", "see Chapter 9, Section 5.3". Plan documents often answer a question
//! one section away from the passage that matches its words; the rule planner's second wave reads those sections.
//!
//! A reference is followed only when the sentence holding it shares enough of the question's words: a passage
//! cites many sections, and only the one about the question is worth a call.

use navigator_platform::contracts::ChunkHit;
use navigator_platform::section::SectionRef;
use navigator_platform::text::{share_held, terms};

/// The share of the question's content words the referring sentence must hold.
const MIN_SHARED_TERMS: f32 = 0.25;
/// How many of the best passages are read for references.
const PASSAGES_READ: usize = 3;
/// Words every reference uses ("for more information, see Section 5"): shared, they say nothing about the topic.
const REFERENCE_WORDS: &[&str] = &["see", "section", "chapter", "information", "more", "details", "refer"];

/// A section a passage refers to, with how much of the question the referring sentence shares.
#[derive(Debug, Clone, PartialEq)]
pub struct CrossReference {
    pub section: SectionRef,
    pub shared: f32,
}

/// The sections worth reading for `question`, most relevant first, at most `limit`: referred to by one of the best
/// passages, about the question, and not among the passages already found.
pub fn worth_following(question: &str, chunks: &[&ChunkHit], limit: usize) -> Vec<SectionRef> {
    let question_terms: Vec<String> = terms(question)
        .into_iter()
        .filter(|term| !REFERENCE_WORDS.contains(&term.as_str()))
        .collect();
    if question_terms.is_empty() || limit == 0 {
        return Vec::new();
    }
    let mut found: Vec<CrossReference> = Vec::new();
    for chunk in chunks.iter().take(PASSAGES_READ) {
        for (section, sentence) in references(chunk) {
            let shared = share_held(&question_terms, &sentence);
            let already_read = chunks.iter().any(|c| section.holds(&c.section));
            if shared < MIN_SHARED_TERMS || already_read {
                continue;
            }
            match found.iter_mut().find(|r| r.section == section) {
                Some(known) => known.shared = known.shared.max(shared),
                None => found.push(CrossReference { section, shared }),
            }
        }
    }
    // Stable: equally relevant references keep the order of the passages they came from.
    found.sort_by(|a, b| b.shared.total_cmp(&a.shared));
    found.into_iter().take(limit).map(|r| r.section).collect()
}

/// Every section reference of a chunk, with the sentence it sits in. A reference without a chapter is to the
/// chunk's own chapter; a reference to the chunk's own section is no reference.
pub fn references(chunk: &ChunkHit) -> Vec<(SectionRef, String)> {
    references_in(&chunk.text, &chunk.section)
}

/// Every section reference of a text from the section at `section_path`, with the sentence it sits in.
pub fn references_in(text: &str, section_path: &str) -> Vec<(SectionRef, String)> {
    let own_chapter = SectionRef::chapter_of(section_path);
    let mut out = Vec::new();
    for sentence in sentences(text) {
        for (chapter, number) in section_mentions(sentence) {
            let Some(chapter) = chapter.or(own_chapter) else {
                continue;
            };
            let section = SectionRef {
                chapter: Some(chapter),
                number,
            };
            if !section.holds(section_path) && !out.iter().any(|(s, _)| *s == section) {
                out.push((section, sentence.to_string()));
            }
        }
    }
    out
}

/// The (chapter, number) of each "Section X.Y" in a sentence; the chapter when the sentence names it right beside:
/// "Chapter 9, Section 5.3", "Section 5.3 of Chapter 9", "Section 5.3 in Chapter 9".
fn section_mentions(sentence: &str) -> Vec<(Option<u16>, String)> {
    let words: Vec<&str> = sentence.split_whitespace().collect();
    let number_at = |i: usize| -> Option<String> {
        let word = words.get(i)?.trim_end_matches([',', '.', ')', ';', ':']);
        let valid = !word.is_empty()
            && word
                .split('.')
                .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()));
        valid.then(|| word.to_string())
    };
    let chapter_at = |i: usize| -> Option<u16> { number_at(i)?.parse().ok() };
    let is = |i: usize, word: &str| {
        words
            .get(i)
            .is_some_and(|w| w.trim_start_matches('(').eq_ignore_ascii_case(word))
    };
    let mut mentions = Vec::new();
    for i in 0..words.len() {
        if !is(i, "section") {
            continue;
        }
        let Some(number) = number_at(i + 1) else {
            continue;
        };
        let before = (i >= 2 && is(i - 2, "chapter")).then(|| chapter_at(i - 1)).flatten();
        let after = ((is(i + 2, "of") || is(i + 2, "in")) && is(i + 3, "chapter"))
            .then(|| chapter_at(i + 4))
            .flatten();
        mentions.push((before.or(after), number));
    }
    mentions
}

/// The text cut at sentence ends and bullets: enough to keep a reference with the words around it.
fn sentences(text: &str) -> impl Iterator<Item = &str> {
    text.split(['•', '◦', '\n'])
        .flat_map(|piece| piece.split(". "))
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn chunk(id: u128, section: &str, text: &str) -> ChunkHit {
        ChunkHit {
            chunk_id: Uuid::from_u128(id),
            document_id: Uuid::nil(),
            title: "Plan".into(),
            page: 1,
            section: section.into(),
            text: text.into(),
            score: 1.0,
            similarity: None,
            units: Vec::new(),
            piece_matches: Vec::new(),
        }
    }

    fn section(text: &str) -> SectionRef {
        SectionRef::parse(text).unwrap()
    }

    #[test]
    fn finds_references_in_the_forms_the_documents_use() {
        let found = references(&chunk(
            1,
            "CHAPTER 1: Getting started › Section 2.1 Your eligibility requirements",
            "You live in our service area (Section 2.2 below describes our service area). For appeals, see \
             Chapter 9, Section 5.3. The rules are in Section 4 of Chapter 7. As Section 2.1 says, you must enroll.",
        ));
        let sections: Vec<String> = found.iter().map(|(s, _)| s.to_string()).collect();
        assert_eq!(
            sections,
            [
                "Chapter 1, Section 2.2",
                "Chapter 9, Section 5.3",
                "Chapter 7, Section 4"
            ],
            "the chunk's own section 2.1 is not a reference"
        );
        assert!(found[0].1.contains("live in our service area"));
    }

    #[test]
    fn a_reference_without_a_chapter_needs_the_chunks_chapter() {
        let front_matter = chunk(1, "SECTION 2 Use providers", "See Section 2.4 for details.");
        assert!(references(&front_matter).is_empty());
    }

    #[test]
    fn follows_only_references_about_the_question() {
        let passage = chunk(
            1,
            "CHAPTER 3: Using the plan › Section 1.2 Basic rules",
            "For information about getting approval to see an out-of-network doctor, see Section 2.4 in this \
             chapter. For durable medical equipment rules, see Section 5.",
        );
        let chunks = [&passage];
        let question = "If I see a doctor who isn't in the network, will the plan pay for it?";
        assert_eq!(
            worth_following(question, &chunks, 2),
            vec![section("Chapter 3, Section 2.4")]
        );
        assert!(worth_following("What does a wheelchair cost?", &chunks, 2).is_empty());
        assert!(worth_following(question, &chunks, 0).is_empty());
    }

    #[test]
    fn a_section_already_found_is_not_read_again() {
        let passage = chunk(
            1,
            "CHAPTER 3: Using the plan › Section 1.2 Basic rules",
            "To see an out-of-network doctor, see Section 2.4 in this chapter.",
        );
        let target = chunk(
            2,
            "CHAPTER 3: Using the plan › Section 2.4 How to get care from out-of-network providers",
            "SCAN Classic does not cover out-of-network services.",
        );
        let question = "Can I see an out-of-network doctor?";
        assert_eq!(worth_following(question, &[&passage], 2).len(), 1);
        assert!(worth_following(question, &[&passage, &target], 2).is_empty());
    }
}
