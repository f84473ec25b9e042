//! An English question never comes back with the note that its answer could not be translated: every English
//! question of the repository's sets goes through a whole turn with the real offline translate tool (detection and
//! the glossary) and must be answered in English, with no note.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test crate: a panic is a failed test

use futures_util::future::BoxFuture;
use navigator_platform::NavigatorError;
use navigator_platform::config::Budgets;
use navigator_platform::contracts::ToolName;
use navigator_resilience::Deadline;
use orchestrator::fakes::FakeTools;
use orchestrator::{ChatRequest, Degraded, InProcess, Navigator, ToolInvoker, TurnRequest, WireRequest};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// The real translate tool in-process; guard and retrieve are fakes that answer at once.
struct RealTranslation {
    translate: InProcess,
    others: FakeTools,
}

impl ToolInvoker for RealTranslation {
    fn provides(&self, tool: ToolName) -> bool {
        tool == ToolName::Translate || self.others.provides(tool)
    }

    fn invoke(&self, tool: ToolName, request: WireRequest) -> BoxFuture<'_, Result<serde_json::Value, NavigatorError>> {
        match tool {
            ToolName::Translate => self.translate.invoke(tool, request),
            _ => self.others.invoke(tool, request),
        }
    }
}

fn english_questions() -> Vec<String> {
    let files = [
        include_str!("../shared/language/data/short-tuning.jsonl"),
        include_str!("../shared/language/data/short-validation.jsonl"),
        include_str!("../shared/language/data/detection-set.jsonl"),
    ];
    let mut questions: Vec<String> = files
        .iter()
        .flat_map(|file| file.lines())
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .filter(|row| row["lang"] == "en")
        .map(|row| row["text"].as_str().unwrap().to_string())
        .collect();
    for file in [
        include_str!("../data/eval/answers-tuning.jsonl"),
        include_str!("../data/eval/answers-validation.jsonl"),
        include_str!("../data/eval/retrieval-dev.jsonl"),
    ] {
        questions.extend(
            file.lines()
                .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
                .filter(|row| row["lang"] == "en")
                .map(|row| row["question"].as_str().unwrap().to_string()),
        );
    }
    questions
}

#[tokio::test]
async fn english_questions_are_answered_in_english_without_a_note() {
    let budgets = Budgets::from_lookup(|_| None).unwrap();
    let translate = InProcess::new().with(ToolName::Translate, translate::Translate::offline(&budgets.translate));
    let invoker = RealTranslation {
        translate,
        others: FakeTools::answering(Duration::ZERO),
    };
    let navigator = Navigator::offline(Arc::new(invoker), &budgets);
    let questions = english_questions();
    assert!(questions.len() >= 450, "{}", questions.len());
    let mut noted = Vec::new();
    for question in &questions {
        let turn = TurnRequest {
            request_id: Uuid::new_v4().to_string(),
            readers: navigator_platform::owner::Readers::new(Uuid::from_u128(1), None),
            chat: ChatRequest {
                message: question.clone(),
                language: Some("auto".into()),
                ..ChatRequest::default()
            },
            deadline: Deadline::after(Duration::from_secs(3)),
        };
        let answer = navigator.answer(turn).await.unwrap();
        if answer.language != "en" || answer.degraded.contains(&Degraded::Translation) {
            noted.push((question.clone(), answer.language));
        }
    }
    assert!(
        noted.is_empty(),
        "{} English questions answered as another language: {noted:?}",
        noted.len()
    );
}
