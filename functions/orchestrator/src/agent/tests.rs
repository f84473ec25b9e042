//! The model-driven turn on a scripted model and fake tools, on tokio's paused clock.

use super::planner::planned_calls;
use super::*;
use crate::chat::{ChatRequest, Citation, Degraded, Status};
use crate::evidence::PlannedCall;
use crate::fakes::FakeTools;
use crate::llm::{ChatModel, ModelReply};
use crate::tools::Tools;
use crate::turn::{Navigator, OFFLINE_STAGE, TurnBudgets, TurnRequest};
use futures_util::future::BoxFuture;
use navigator_platform::NavigatorError;
use navigator_platform::config::Budgets;
use navigator_platform::section::SectionRef;
use navigator_resilience::Deadline;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use uuid::Uuid;

/// A model that plays back replies and records what it was sent.
#[derive(Default)]
struct ScriptedModel {
    replies: Mutex<Vec<Result<ModelReply, NavigatorError>>>,
    seen: Mutex<Vec<Vec<Message>>>,
    instructions: Mutex<Vec<String>>,
}

impl ScriptedModel {
    fn new(replies: Vec<Result<ModelReply, NavigatorError>>) -> Arc<Self> {
        Arc::new(Self {
            replies: Mutex::new(replies.into_iter().rev().collect()),
            seen: Mutex::default(),
            instructions: Mutex::default(),
        })
    }

    fn requests(&self) -> Vec<Vec<Message>> {
        self.seen.lock().unwrap().clone()
    }
}

impl ChatModel for ScriptedModel {
    fn name(&self) -> String {
        "scripted".into()
    }

    fn complete<'a>(
        &'a self,
        system: &'a str,
        messages: &'a [Message],
        _tools: &'a [ToolSpec],
        _deadline: Deadline,
    ) -> BoxFuture<'a, Result<ModelReply, NavigatorError>> {
        self.seen.lock().unwrap().push(messages.to_vec());
        self.instructions.lock().unwrap().push(system.to_string());
        let reply = self
            .replies
            .lock()
            .unwrap()
            .pop()
            .unwrap_or_else(|| Err(NavigatorError::internal("script ran out")));
        Box::pin(async move { reply })
    }
}

fn calls(calls: &[(&str, &str)]) -> Result<ModelReply, NavigatorError> {
    Ok(ModelReply {
        text: None,
        tool_calls: calls
            .iter()
            .enumerate()
            .map(|(i, (name, query))| ModelToolCall {
                id: format!("call-{name}-{i}-{query}"),
                name: (*name).into(),
                arguments: json!({"query": query}),
            })
            .collect(),
    })
}

fn text(answer: &str) -> Result<ModelReply, NavigatorError> {
    Ok(ModelReply {
        text: Some(answer.into()),
        tool_calls: Vec::new(),
    })
}

fn navigator(tools: &FakeTools, model: Arc<ScriptedModel>) -> Navigator {
    let budgets = Budgets::from_lookup(|_| None).unwrap();
    let turn_budgets = TurnBudgets::from_budgets(&budgets, Duration::from_millis(800), Duration::from_millis(800));
    let _ = OFFLINE_STAGE;
    Navigator::new(
        Tools::new(Arc::new(tools.clone())),
        Arc::new(LlmPlanner::new(model.clone())),
        Arc::new(LlmComposer::new(model)),
        turn_budgets,
    )
}

fn request(message: &str) -> TurnRequest {
    TurnRequest {
        request_id: "turn-1".into(),
        readers: navigator_platform::owner::Readers::new(Uuid::from_u128(7), None),
        chat: ChatRequest {
            message: message.into(),
            language: Some("en".into()),
            ..Default::default()
        },
        deadline: Deadline::after(Duration::from_secs(3)),
    }
}

const QUESTION: &str = "What does a specialist visit cost?";

#[tokio::test(start_paused = true)]
async fn the_models_tool_calls_become_a_wave_and_its_answer_keeps_its_citations() {
    let tools = FakeTools::answering(Duration::from_millis(50));
    let model = ScriptedModel::new(vec![
        calls(&[("retrieve", "specialist visit copay")]),
        text("A specialist visit costs a $20 copayment [p. 92]."),
    ]);
    let answer = navigator(&tools, model.clone())
        .answer(request(QUESTION))
        .await
        .unwrap();
    assert_eq!(answer.status, Status::Answered);
    assert_eq!(answer.answer, "A specialist visit costs a $20 copayment [p. 92].");
    assert_eq!(
        answer.citations,
        vec![Citation::document_page(
            "Sample Plan Evidence of Coverage",
            Uuid::from_u128(1000),
            92
        )]
    );
    assert_eq!(answer.tools.len(), 1);
    assert!(
        answer
            .degraded
            .iter()
            .all(|d| *d != Degraded::Planner && *d != Degraded::Composer),
        "{:?}",
        answer.degraded
    );
    // The second request carried the call and its result, labelled with page markers.
    let second = &model.requests()[1];
    assert!(matches!(&second[1], Message::ToolCalls(c) if c[0].name == "retrieve"));
    assert!(matches!(&second[2], Message::ToolResult { text, .. } if text.contains("[p. 92]")));
    let query = &tools.counters.requests()[1].1.input["query"];
    assert_eq!(
        query, "specialist visit copay",
        "the model's own query reaches the tool"
    );
}

#[tokio::test(start_paused = true)]
async fn the_model_composing_is_asked_for_the_extractive_composers_shape() {
    let tools = FakeTools::answering(Duration::from_millis(50));
    let model = ScriptedModel::new(vec![
        calls(&[("retrieve", "specialist visit copay")]),
        text("A specialist visit costs a $20 copayment [p. 92]."),
    ]);
    navigator(&tools, model.clone())
        .answer(request(QUESTION))
        .await
        .unwrap();
    let instructions = model.instructions.lock().unwrap().clone();
    let composing = instructions.last().expect("the model composed the answer");
    // The contract the offline composer keeps: the answer first, at most two supports, every part answered or said
    // to be open, every sentence cited, NOT_FOUND when nothing answers.
    for asked in [
        "open with the one sentence that answers",
        "at most two sentences that support it",
        "for each part",
        "Cite every sentence",
        "NOT_FOUND:",
    ] {
        assert!(
            composing.contains(asked),
            "the composing request asks {asked:?}: {composing}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn four_tools_are_capped_to_three_and_the_fourth_waits_a_wave() {
    let tools = FakeTools::answering(Duration::from_millis(50));
    let model = ScriptedModel::new(vec![
        calls(&[
            ("retrieve", "a"),
            ("retrieve", "b"),
            ("retrieve", "c"),
            ("retrieve", "d"),
        ]),
        text("Specialists cost $20 [p. 92]."),
    ]);
    let answer = navigator(&tools, model).answer(request(QUESTION)).await.unwrap();
    let waves: Vec<usize> = answer.tools.iter().map(|t| t.wave).collect();
    assert_eq!(waves, vec![1, 1, 1, 2]);
    assert_eq!(answer.status, Status::Answered);
}

#[tokio::test(start_paused = true)]
async fn a_third_wave_is_refused_and_the_model_answers_from_what_it_has() {
    let tools = FakeTools::answering(Duration::from_millis(50));
    let model = ScriptedModel::new(vec![
        calls(&[("retrieve", "a")]),
        calls(&[("retrieve", "b")]),
        calls(&[("retrieve", "c")]),
        text("Specialists cost $20 [p. 92]."),
    ]);
    let answer = navigator(&tools, model.clone())
        .answer(request(QUESTION))
        .await
        .unwrap();
    assert_eq!(answer.tools.len(), 2, "two waves, no third");
    assert_eq!(tools.counters.calls(ToolName::Retrieve), 2);
    let last = model.requests().last().unwrap().clone();
    assert!(matches!(last.last(), Some(Message::Text { text, .. }) if text == ANSWER_NOW));
    assert_eq!(answer.answer, "Specialists cost $20 [p. 92].");
}

#[tokio::test(start_paused = true)]
async fn an_invented_amount_is_dropped_and_an_invented_citation_removed() {
    let tools = FakeTools::answering(Duration::from_millis(50));
    let model = ScriptedModel::new(vec![
        calls(&[("retrieve", "specialist")]),
        text("A specialist visit costs $45 [p. 92]. Primary care is $0 [p. 92]. Dental is free [p. 400]."),
    ]);
    let answer = navigator(&tools, model).answer(request(QUESTION)).await.unwrap();
    assert!(!answer.answer.contains("$45"), "{}", answer.answer);
    assert!(
        answer.answer.contains("Primary care is $0 [p. 92]."),
        "{}",
        answer.answer
    );
    assert!(!answer.answer.contains("[p. 400]"), "{}", answer.answer);
    assert!(answer.citations.iter().all(|c| c.page == Some(92)));
}

#[tokio::test(start_paused = true)]
async fn an_uncited_answer_is_replaced_by_quotes_from_the_sources() {
    let tools = FakeTools::answering(Duration::from_millis(50));
    let model = ScriptedModel::new(vec![
        calls(&[("retrieve", "specialist")]),
        text("It is cheap, trust me."),
    ]);
    let answer = navigator(&tools, model).answer(request(QUESTION)).await.unwrap();
    assert!(answer.degraded.contains(&Degraded::Composer));
    assert!(
        answer.answer.contains("$20 copayment") && answer.answer.contains("[p. 92]"),
        "{}",
        answer.answer
    );
}

#[tokio::test(start_paused = true)]
async fn not_found_is_unanswered() {
    let tools = FakeTools::answering(Duration::from_millis(50));
    let model = ScriptedModel::new(vec![
        calls(&[("retrieve", "eliquis tier")]),
        text("NOT_FOUND: Your plan documents do not list drug tiers; the Drug List does."),
    ]);
    let answer = navigator(&tools, model)
        .answer(request("What tier is Eliquis on?"))
        .await
        .unwrap();
    assert_eq!(answer.status, Status::Unanswered);
    assert_eq!(
        answer.answer,
        "Your plan documents do not list drug tiers; the Drug List does."
    );
}

#[tokio::test(start_paused = true)]
async fn a_failing_model_hands_over_to_the_rules_and_the_quotes() {
    let tools = FakeTools::answering(Duration::from_millis(50));
    let model = ScriptedModel::new(vec![Err(NavigatorError::unavailable("openai chat", "HTTP 500"))]);
    let answer = navigator(&tools, model).answer(request(QUESTION)).await.unwrap();
    assert_eq!(answer.status, Status::Answered);
    assert!(answer.degraded.contains(&Degraded::Planner), "{:?}", answer.degraded);
    assert!(answer.degraded.contains(&Degraded::Composer), "{:?}", answer.degraded);
    assert!(answer.answer.contains("$20 copayment"), "{}", answer.answer);
}

#[test]
fn unknown_tools_and_empty_queries_are_ignored() {
    let planned = planned_calls(vec![
        ModelToolCall {
            id: "1".into(),
            name: "delete_member".into(),
            arguments: json!({"query": "x"}),
        },
        ModelToolCall {
            id: "2".into(),
            name: "retrieve".into(),
            arguments: json!({"q": "x"}),
        },
        ModelToolCall {
            id: "3".into(),
            name: "web_search".into(),
            arguments: json!({"query": "part b premium 2025"}),
        },
    ]);
    assert_eq!(
        planned,
        vec![PlannedCall {
            id: "3".into(),
            call: ToolCall::WebSearch {
                query: "part b premium 2025".into()
            }
        }]
    );
}

#[test]
fn a_section_read_needs_a_valid_section_and_goes_back_to_the_model_as_it_was_asked() {
    let call = |id: &str, arguments: serde_json::Value| ModelToolCall {
        id: id.into(),
        name: "read_section".into(),
        arguments,
    };
    let planned = planned_calls(vec![
        call(
            "1",
            json!({"section": "Chapter 3, Section 2.4", "query": "out-of-network doctor"}),
        ),
        call("2", json!({"section": "the appeals part", "query": "appeal"})),
        call("3", json!({"section": "Section 5"})),
    ]);
    let expected = ToolCall::ReadSection {
        section: SectionRef::parse("Chapter 3, Section 2.4").unwrap(),
        query: "out-of-network doctor".into(),
    };
    assert_eq!(
        planned,
        vec![PlannedCall {
            id: "1".into(),
            call: expected.clone()
        }]
    );
    assert!(tool_specs().iter().any(|spec| spec.name == "read_section"));

    // The model sees its own call again in the next round, with the arguments it used.
    let evidence = Evidence {
        calls: vec![crate::evidence::CallRecord {
            wave: 1,
            call: PlannedCall {
                id: "1".into(),
                call: expected,
            },
            result: CallResult::Retrieved(navigator_platform::contracts::RetrieveOutput {
                chunks: Vec::new(),
                best_similarity: None,
                timings_ms: navigator_platform::contracts::RetrieveTimings::default(),
            }),
            ms: 1.0,
        }],
    };
    let messages = conversation("Can I see an out-of-network doctor?", &[], &evidence);
    let Some(Message::ToolCalls(sent)) = messages.get(1) else {
        panic!("{messages:?}");
    };
    assert_eq!(sent[0].name, "read_section");
    assert_eq!(
        sent[0].arguments,
        json!({"section": "Chapter 3, Section 2.4", "query": "out-of-network doctor"})
    );
}
