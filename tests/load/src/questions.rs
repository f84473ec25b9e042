//! The question mix: the dev eval set's questions plus questions that need outside facts
//! (`tests/load/questions.jsonl`). A question's path is decided by the same cues the planners use.

use orchestrator::needs_outside_facts;
use serde::Deserialize;
use std::path::Path as FilePath;

/// Which tools a question needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Path {
    /// Answered from the member's plan only.
    Retrieval,
    /// Retrieval and web search.
    RetrievalAndWeb,
}

impl Path {
    pub fn label(self) -> &'static str {
        match self {
            Self::Retrieval => "retrieval only",
            Self::RetrievalAndWeb => "retrieval + web",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Question {
    pub id: String,
    pub text: String,
    pub path: Path,
}

#[derive(Deserialize)]
struct Line {
    id: String,
    question: String,
}

/// Reads a JSON-lines file of `{id, question}`, interleaving the paths so that every stretch of a run holds both.
pub fn load(file: &FilePath) -> Result<Vec<Question>, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut retrieval = Vec::new();
    let mut web = Vec::new();
    for (number, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let line: Line = serde_json::from_str(line).map_err(|e| format!("{}:{}: {e}", file.display(), number + 1))?;
        let path = if needs_outside_facts(&line.question) {
            Path::RetrievalAndWeb
        } else {
            Path::Retrieval
        };
        let question = Question {
            id: line.id,
            text: line.question,
            path,
        };
        match path {
            Path::Retrieval => retrieval.push(question),
            Path::RetrievalAndWeb => web.push(question),
        }
    }
    if retrieval.is_empty() || web.is_empty() {
        return Err(format!("{}: the mix needs questions of both paths", file.display()));
    }
    // One web question in every four requests.
    let mut mix = Vec::with_capacity(retrieval.len() + web.len());
    let mut web_cycle = web.iter().cycle();
    for (i, question) in retrieval.iter().enumerate() {
        mix.push(question.clone());
        if i % 3 == 2
            && let Some(web_question) = web_cycle.next()
        {
            mix.push(web_question.clone());
        }
    }
    Ok(mix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_mix_has_both_paths_about_one_in_four_with_the_web() {
        let mix = load(&FilePath::new(env!("CARGO_MANIFEST_DIR")).join("questions.jsonl")).unwrap();
        let web = mix.iter().filter(|q| q.path == Path::RetrievalAndWeb).count();
        assert!(mix.len() >= 40);
        assert!(
            (0.2..0.3).contains(&(web as f64 / mix.len() as f64)),
            "{web}/{}",
            mix.len()
        );
    }
}
