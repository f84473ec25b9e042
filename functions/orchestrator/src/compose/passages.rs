//! Sources cut into sentences a composer can quote and cite.
//!
//! The cut is `navigator_platform::text::sentences`, the same one ingest used for the units retrieval scores, so a
//! chunk's unit scores line up with its sentences here.

use navigator_platform::text::sentences as split_sentences;

use crate::chat::Citation;
use crate::evidence::Evidence;

/// One quotable sentence and where it comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct Sentence {
    pub text: String,
    pub citation: Citation,
    /// The rank of its source among the turn's sources, 0 = best.
    pub source_rank: usize,
    /// Its source's retrieval score (0 for a web result).
    pub source_score: f32,
    /// Its position within the source.
    pub position: usize,
    /// The section path of its source ("CHAPTER 3: ... › Section 2.4 ..."); empty for a web result.
    pub section: String,
    /// How close the sentence's own vector is to the question, when retrieval scored the chunk's sentences.
    pub similarity: Option<f32>,
    /// For each of the question's word pieces, its best cosine against the sentence's pieces, when the search whose
    /// rows the turn weighs matched them (see `ChunkHit::piece_matches` and `Evidence::question_piece_matches`).
    pub piece_matches: Option<Vec<f32>>,
}

/// Every sentence of the turn's sources, documents first (best chunk first), then web results.
pub fn sentences(evidence: &Evidence) -> Vec<Sentence> {
    let mut out = Vec::new();
    let chunks = evidence.chunks();
    let piece_matches = evidence.question_piece_matches();
    for (rank, chunk) in chunks.iter().enumerate() {
        let citation = Citation::document_page(&chunk.title, chunk.document_id, chunk.page);
        let texts = split_sentences(&chunk.text);
        // Scores from a store cut by another version of the splitter do not line up: then there are none.
        let scored = chunk.units.len() == texts.len();
        let rows = piece_matches
            .get(&chunk.chunk_id)
            .filter(|rows| rows.len() == texts.len());
        for (position, text) in texts.into_iter().enumerate() {
            out.push(Sentence {
                text,
                citation: citation.clone(),
                source_rank: rank,
                source_score: chunk.score,
                position,
                section: chunk.section.clone(),
                similarity: scored.then(|| chunk.units[position]),
                piece_matches: rows.map(|rows| rows[position].clone()),
            });
        }
    }
    for (offset, result) in evidence.web_results().into_iter().enumerate() {
        let citation = Citation::web(&result.title, &result.url);
        for (position, text) in split_sentences(&result.snippet).into_iter().enumerate() {
            out.push(Sentence {
                text,
                citation: citation.clone(),
                source_rank: chunks.len() + offset,
                source_score: 0.0,
                position,
                section: String::new(),
                similarity: None,
                piece_matches: None,
            });
        }
    }
    out
}
