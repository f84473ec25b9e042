//! The answer as the member reads it: the passage that answers first, each part of the question answered or said
//! to be missing, then at most a couple of supporting passages, every one cited. Or a plain "not found".

use super::scoring::Scored;
use crate::chat::{Citation, Status};
use crate::compose::Composition;
use crate::compose::passages::Sentence;

/// One line of the answer.
pub(super) enum Line<'s> {
    /// A quoted passage.
    Quote(Scored<'s>),
    /// A part of the question no passage answers.
    Missing(String),
}

pub(super) fn closest_citations(candidates: &[Sentence]) -> Vec<Citation> {
    let mut citations: Vec<Citation> = Vec::new();
    for sentence in candidates {
        if !citations.contains(&sentence.citation) {
            citations.push(sentence.citation.clone());
        }
        if citations.len() == 2 {
            break;
        }
    }
    citations
}

pub(super) fn unanswered(closest: &[Citation], why: &str) -> Composition {
    let mut answer = format!("I could not find the answer in your plan documents: {why}.");
    if !closest.is_empty() {
        let places: Vec<String> = closest
            .iter()
            .map(|c| match (&c.page, &c.url) {
                (Some(page), _) => format!("page {page} of {}", c.title),
                (None, Some(url)) => url.clone(),
                (None, None) => c.title.clone(),
            })
            .collect();
        answer.push_str(&format!(" The closest passages are on {}.", places.join(" and ")));
    }
    answer.push_str(" Member Services can confirm the details for you.");
    Composition {
        status: Status::Unanswered,
        answer,
        citations: closest.to_vec(),
    }
}

pub(super) fn answered(lines: &[Line<'_>]) -> Composition {
    let mut citations: Vec<Citation> = Vec::new();
    let mut out = vec!["Here is what your plan documents say:".to_string()];
    for line in lines {
        match line {
            Line::Quote(scored) => {
                let citation = scored.citation();
                if !citations.contains(citation) {
                    citations.push(citation.clone());
                }
                out.push(format!("• {} {}", scored.text(), citation.marker()));
            }
            Line::Missing(part) => {
                out.push(format!("• Your plan documents do not say: {}", part.trim()));
            }
        }
    }
    Composition {
        status: Status::Answered,
        answer: out.join("\n"),
        citations,
    }
}
