//! The answer as the member reads it: quoted passages with their citations, or a plain "not found".

use super::scoring::Scored;
use crate::compose::passages::Sentence;
use crate::compose::{Citation, Composition, Status};

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

pub(super) fn answered(chosen: &[Scored<'_>]) -> Composition {
    let mut citations: Vec<Citation> = Vec::new();
    let mut lines = vec!["Here is what your plan documents say:".to_string()];
    for scored in chosen {
        let citation = scored.citation();
        if !citations.contains(citation) {
            citations.push(citation.clone());
        }
        lines.push(format!("• {} {}", scored.text(), citation.marker()));
    }
    Composition {
        status: Status::Answered,
        answer: lines.join("\n"),
        citations,
    }
}
