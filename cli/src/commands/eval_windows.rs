//! `navigator eval answers --windows FILE`: every passage the extractive composer weighed for each question, with
//! its features and whether it holds an answer fact, one JSON line per question. What the composer's weights and
//! answer threshold are chosen from, on the tuning half only.

use navigator_retrieval::eval::{is_hit, parse_questions};
use orchestrator::tuning::recording_navigator;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::eval_answers::{answer, composer_settings};
use super::in_process_tools;

#[derive(serde::Serialize)]
struct Line<'a> {
    id: &'a str,
    lang: &'a str,
    negative: bool,
    kind: &'a str,
    status: &'static str,
    /// One per composition of the turn (a turn composes once), each window with `hit`.
    compositions: Vec<serde_json::Value>,
}

pub async fn run(files: &[PathBuf], out: &Path, settings: &[String]) -> Result<(), String> {
    let composer = composer_settings(settings.iter().map(String::as_str))?;
    let (settings, tools) = in_process_tools().await?;
    let (navigator, recorder) = recording_navigator(Arc::new(tools), &settings.budgets, composer);
    let mut file = std::fs::File::create(out).map_err(|e| format!("{}: {e}", out.display()))?;
    for path in files {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        for question in parse_questions(&text)? {
            let response = answer(&navigator, &question).await?;
            let mut compositions = Vec::new();
            for record in recorder.take() {
                let hits: Vec<bool> = record.windows.iter().map(|w| is_hit(&question, &w.text)).collect();
                let mut value = serde_json::to_value(&record).map_err(|e| e.to_string())?;
                if let Some(windows) = value.get_mut("windows").and_then(|w| w.as_array_mut()) {
                    for (window, hit) in windows.iter_mut().zip(hits) {
                        window["hit"] = serde_json::Value::Bool(hit);
                    }
                }
                compositions.push(value);
            }
            let line = Line {
                id: &question.id,
                lang: &question.lang,
                negative: question.is_negative(),
                kind: &question.kind,
                status: response.status.as_str(),
                compositions,
            };
            let json = serde_json::to_string(&line).map_err(|e| e.to_string())?;
            writeln!(file, "{json}").map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}
