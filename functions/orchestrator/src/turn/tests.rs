//! The turn on fake tools with set latencies and failures, on tokio's paused clock.

use super::*;
use crate::chat::{Degraded, Outcome, Status};
use crate::evidence::{PlannedCall, ToolCall};
use crate::fakes::{FakeTools, sample_web_results};
use crate::plan::{PlanContext, Step};
use futures_util::future::BoxFuture;
use navigator_platform::config::Budgets;
use navigator_platform::contracts::{BlockCategory, ChunkHit, ToolName, Verdict};
use navigator_platform::owner::{PlanId, Readers};
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;
use uuid::Uuid;

fn test_plan() -> PlanId {
    PlanId::parse("plan-7").unwrap()
}

const MS: fn(u64) -> Duration = Duration::from_millis;

/// A planner that plays back fixed steps, one per wave.
struct Scripted(Mutex<Vec<Step>>);

impl Scripted {
    fn new(steps: Vec<Vec<ToolCall>>) -> Arc<Self> {
        let steps = steps
            .into_iter()
            .enumerate()
            .map(|(wave, calls)| {
                Step::Call(
                    calls
                        .into_iter()
                        .enumerate()
                        .map(|(i, call)| PlannedCall {
                            id: format!("s{wave}-{i}"),
                            call,
                        })
                        .collect(),
                )
            })
            .rev()
            .collect();
        Arc::new(Self(Mutex::new(steps)))
    }
}

impl Planner for Scripted {
    fn name(&self) -> &'static str {
        "scripted"
    }

    fn next_step<'a>(
        &'a self,
        _cx: PlanContext<'a>,
        _deadline: Deadline,
    ) -> BoxFuture<'a, Result<Step, NavigatorError>> {
        let step = self.0.lock().unwrap().pop().unwrap_or(Step::Done { draft: None });
        Box::pin(async move { Ok(step) })
    }
}

fn budgets() -> TurnBudgets {
    let budgets = Budgets::from_lookup(|_| None).unwrap();
    TurnBudgets::from_budgets(
        &budgets,
        crate::turn::budget::OFFLINE_STAGE,
        crate::turn::budget::OFFLINE_STAGE,
    )
}

fn navigator(tools: &FakeTools, planner: Arc<dyn Planner>) -> Navigator {
    Navigator::new(
        Tools::new(Arc::new(tools.clone())),
        planner,
        Arc::new(ExtractiveComposer::default()),
        budgets(),
    )
}

fn request(message: &str) -> TurnRequest {
    TurnRequest {
        request_id: "turn-1".into(),
        readers: Readers::new(Uuid::from_u128(7), Some(test_plan())),
        chat: ChatRequest {
            message: message.into(),
            language: Some("en".into()),
            ..ChatRequest::default()
        },
        deadline: Deadline::after(budgets().total),
    }
}

fn retrieve(query: &str) -> ToolCall {
    ToolCall::Retrieve { query: query.into() }
}

fn web(query: &str) -> ToolCall {
    ToolCall::WebSearch { query: query.into() }
}

const QUESTION: &str = "What does a specialist visit cost?";

#[tokio::test(start_paused = true)]
async fn four_calls_run_as_a_wave_of_three_then_one() {
    let tools = FakeTools::answering(MS(100)).web(MS(100), sample_web_results());
    let planner = Scripted::new(vec![vec![
        retrieve(QUESTION),
        retrieve("specialist"),
        web("copay"),
        retrieve("visit"),
    ]]);
    let answer = navigator(&tools, planner).answer(request(QUESTION)).await.unwrap();
    let waves: Vec<usize> = answer.tools.iter().map(|t| t.wave).collect();
    assert_eq!(waves, vec![1, 1, 1, 2]);
    assert!(answer.tools.iter().all(|t| t.outcome == Outcome::Ok));
    assert_eq!(tools.counters.peak(), 3, "never more than 3 at once");
    assert_eq!(answer.status, Status::Answered);
}

#[tokio::test(start_paused = true)]
async fn a_call_slower_than_its_wave_is_cancelled_and_reported_timeout() {
    let tools = FakeTools::answering(MS(100)).web(MS(5_000), sample_web_results());
    let planner = Scripted::new(vec![vec![retrieve(QUESTION), web(QUESTION)]]);
    let started = Instant::now();
    let answer = navigator(&tools, planner).answer(request(QUESTION)).await.unwrap();
    let web_report = answer.tools.iter().find(|t| t.name == ToolName::WebSearch).unwrap();
    assert_eq!(web_report.outcome, Outcome::Timeout);
    assert!(
        web_report.ms <= 800.0 + 1.0,
        "cancelled at the wave budget: {}",
        web_report.ms
    );
    assert!(
        started.elapsed() <= MS(900),
        "the turn did not wait for it: {:?}",
        started.elapsed()
    );
    assert_eq!(tools.counters.live(), 0, "no call outlives the turn");
    assert_eq!(answer.degraded, vec![Degraded::WebSearch]);
    assert_eq!(answer.status, Status::Answered);
}

#[tokio::test(start_paused = true)]
async fn web_search_failing_or_rejected_degrades_to_the_plan_documents() {
    for error in [
        NavigatorError::unavailable("tavily", "500"),
        NavigatorError::rejected("breaker open", None),
    ] {
        let tools = FakeTools::answering(MS(50)).failing(ToolName::WebSearch, MS(10), error);
        let planner = Scripted::new(vec![vec![retrieve(QUESTION), web(QUESTION)]]);
        let answer = navigator(&tools, planner).answer(request(QUESTION)).await.unwrap();
        assert_eq!(answer.status, Status::Answered);
        assert_eq!(answer.degraded, vec![Degraded::WebSearch]);
        assert!(answer.answer.contains("$20 copayment"), "{}", answer.answer);
        assert!(answer.citations.iter().all(|c| c.page.is_some()));
    }
}

#[tokio::test(start_paused = true)]
async fn an_unconfigured_tool_is_unavailable_and_never_called() {
    let tools = FakeTools::answering(MS(50));
    let planner = Scripted::new(vec![vec![retrieve(QUESTION), web(QUESTION)]]);
    let answer = navigator(&tools, planner).answer(request(QUESTION)).await.unwrap();
    let web_report = answer.tools.iter().find(|t| t.name == ToolName::WebSearch).unwrap();
    assert_eq!(web_report.outcome, Outcome::Unavailable);
    assert_eq!(tools.counters.calls(ToolName::WebSearch), 0);
    assert!(answer.degraded.contains(&Degraded::WebSearch));
}

#[tokio::test(start_paused = true)]
async fn everything_failing_is_503_and_everything_hanging_is_504() {
    let down = FakeTools::answering(MS(0))
        .failing(
            ToolName::Retrieve,
            MS(10),
            NavigatorError::unavailable("postgres", "refused"),
        )
        .failing(
            ToolName::WebSearch,
            MS(10),
            NavigatorError::rejected("breaker open", None),
        );
    let planner = Scripted::new(vec![vec![retrieve(QUESTION), web(QUESTION)], vec![retrieve(QUESTION)]]);
    let error = navigator(&down, planner).answer(request(QUESTION)).await.unwrap_err();
    assert_eq!(error.http_status(), 503, "{error:?}");

    let hung = FakeTools::answering(MS(60_000));
    let error = navigator(&hung, Arc::new(RulePlanner))
        .answer(request(QUESTION))
        .await
        .unwrap_err();
    assert_eq!(error.http_status(), 504, "{error:?}");
    assert_eq!(hung.counters.live(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_blocked_turn_calls_no_tool() {
    let tools = FakeTools::answering(MS(10)).guard(Verdict::Block, Some(BlockCategory::UnsafeMedical));
    let answer = navigator(&tools, Arc::new(RulePlanner))
        .answer(request("Should I stop taking my blood pressure pills?"))
        .await
        .unwrap();
    assert_eq!(answer.status, Status::Refused);
    assert!(answer.answer.contains("ask your doctor"), "{}", answer.answer);
    assert_eq!(tools.counters.calls(ToolName::Retrieve), 0);
    assert_eq!(tools.counters.calls(ToolName::WebSearch), 0);
    assert!(answer.tools.is_empty() && answer.citations.is_empty());
}

#[tokio::test(start_paused = true)]
async fn an_emergency_is_told_to_call_911_and_gets_no_plan_text() {
    let tools = FakeTools::answering(MS(10)).guard(Verdict::Block, Some(BlockCategory::Emergency));
    let answer = navigator(&tools, Arc::new(RulePlanner))
        .answer(request("My husband swallowed a bottle of pills, ER or wait?"))
        .await
        .unwrap();
    assert_eq!(answer.status, Status::Refused);
    assert!(
        answer
            .answer
            .starts_with("This sounds like it could be an emergency. Call 911"),
        "{}",
        answer.answer
    );
    assert_eq!(tools.counters.calls(ToolName::Retrieve), 0);
}

#[tokio::test(start_paused = true)]
async fn a_treatment_choice_is_refused_and_its_coverage_part_answered() {
    let tools = FakeTools::answering(MS(10)).guard(Verdict::Block, Some(BlockCategory::UnsafeMedical));
    let answer = navigator(&tools, Arc::new(RulePlanner))
        .answer(request(
            "Should I pick surgery or physical therapy for my knee, and what does a specialist visit cost?",
        ))
        .await
        .unwrap();
    assert_eq!(answer.status, Status::Answered, "{}", answer.answer);
    assert!(
        answer.answer.starts_with(BlockCategory::UnsafeMedical.refusal()),
        "{}",
        answer.answer
    );
    assert!(answer.answer.len() > BlockCategory::UnsafeMedical.refusal().len() + 20);
    assert!(tools.counters.calls(ToolName::Retrieve) >= 1);
}

#[tokio::test(start_paused = true)]
async fn the_guard_fails_closed() {
    let tools = FakeTools::answering(MS(10)).failing(ToolName::Guard, MS(5), NavigatorError::internal("bug"));
    let error = navigator(&tools, Arc::new(RulePlanner))
        .answer(request(QUESTION))
        .await
        .unwrap_err();
    assert_eq!(error.http_status(), 503);
    assert_eq!(tools.counters.calls(ToolName::Retrieve), 0);
}

#[tokio::test(start_paused = true)]
async fn tools_see_the_redacted_question_and_the_member_from_the_session() {
    let tools = FakeTools::answering(MS(10)).with(
        ToolName::Guard,
        MS(1),
        Ok(
            serde_json::json!({"verdict": "redact", "text": "My SSN is [SSN]. What does a specialist visit cost?",
                              "findings": [{"kind": "ssn", "start": 10, "end": 21, "score": 1.0}], "stages_ms": {}}),
        ),
    );
    let answer = navigator(&tools, Arc::new(RulePlanner))
        .answer(request("My SSN is 123-45-6789. What does a specialist visit cost?"))
        .await
        .unwrap();
    assert_eq!(answer.status, Status::Answered, "{}", answer.answer);
    for (tool, request) in tools.counters.requests() {
        assert_eq!(request.user_id, Some(Uuid::from_u128(7)));
        assert_eq!(
            request.plan_id,
            Some(test_plan()),
            "every call carries the member's plan"
        );
        if tool == ToolName::Retrieve {
            let query = request.input["query"].as_str().unwrap();
            assert!(!query.contains("123-45-6789") && query.contains("[SSN]"), "{query}");
            assert_eq!(request.input["user_id"], Uuid::from_u128(7).to_string());
            assert_eq!(request.input["plan_id"], "plan-7");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_foreign_question_is_guarded_before_translation_and_answered_in_its_language() {
    let tools = FakeTools::answering(MS(10)).translator("es");
    let mut turn = request("¿Cuánto cuesta una visita al especialista?");
    turn.chat.language = Some("auto".into());
    let answer = navigator(&tools, Arc::new(RulePlanner)).answer(turn).await.unwrap();
    assert_eq!(answer.language, "es");
    assert!(answer.answer.starts_with("[es] "), "translated back: {}", answer.answer);
    let order: Vec<ToolName> = tools.counters.requests().into_iter().map(|(tool, _)| tool).collect();
    assert_eq!(
        order[0],
        ToolName::Guard,
        "personal data is redacted before a translator sees it"
    );
    assert_eq!(order[1], ToolName::Translate);
    assert_eq!(order[2], ToolName::Guard, "the English text is checked again");
}

#[tokio::test(start_paused = true)]
async fn the_embedded_translator_s_english_is_not_guarded_again_because_the_guard_read_it() {
    let provider = navigator_platform::contracts::TERM_BY_TERM_PROVIDER;
    let tools = FakeTools::answering(MS(10)).translator_named("es", provider);
    let mut turn = request("¿Cuánto cuesta una visita al especialista?");
    turn.chat.language = Some("auto".into());
    let answer = navigator(&tools, Arc::new(RulePlanner)).answer(turn).await.unwrap();
    assert_eq!(answer.language, "es");
    let order: Vec<ToolName> = tools.counters.requests().into_iter().map(|(tool, _)| tool).collect();
    assert_eq!(&order[..2], &[ToolName::Guard, ToolName::Translate]);
    assert_eq!(
        order.iter().filter(|tool| **tool == ToolName::Guard).count(),
        1,
        "the guard read the term-by-term rendering with the message: {order:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn an_english_question_from_a_member_who_set_spanish_is_read_as_written_and_answered_in_spanish() {
    // The translator detects English under the requested Spanish and returns the question as it is.
    let tools = FakeTools::answering(MS(10)).translator("en");
    let mut turn = request(QUESTION);
    turn.chat.language = Some("es".into());
    let answer = navigator(&tools, Arc::new(RulePlanner)).answer(turn).await.unwrap();
    assert_eq!(answer.language, "es");
    assert!(answer.answer.starts_with("[es] "), "translated out: {}", answer.answer);
    assert!(
        !answer.degraded.contains(&Degraded::Translation),
        "nothing failed: {:?}",
        answer.degraded
    );
    let asked = tools.counters.requests();
    let (_, translate_in) = asked.iter().find(|(tool, _)| *tool == ToolName::Translate).unwrap();
    assert_eq!(
        translate_in.input["source_lang"], "es",
        "the member's language goes to the translator"
    );
    let (_, retrieval) = asked.iter().find(|(tool, _)| *tool == ToolName::Retrieve).unwrap();
    assert_eq!(retrieval.input["query"], QUESTION, "searched as written");
}

#[tokio::test(start_paused = true)]
async fn without_a_translator_a_foreign_answer_says_it_is_in_english() {
    let tools = FakeTools::answering(MS(10));
    let mut turn = request(QUESTION);
    turn.chat.language = Some("es".into());
    let answer = navigator(&tools, Arc::new(RulePlanner)).answer(turn).await.unwrap();
    assert_eq!(answer.language, "es");
    assert!(answer.answer.ends_with(super::language::UNTRANSLATED_NOTE));
    assert!(answer.degraded.contains(&Degraded::Translation));
}

#[tokio::test(start_paused = true)]
async fn a_failed_retrieval_is_retried_in_the_second_wave() {
    // The first call fails, the retry (wave 2) times out too: the turn reports both and ends 503, in time.
    let tools = FakeTools::answering(MS(0)).failing(
        ToolName::Retrieve,
        MS(10),
        NavigatorError::unavailable("postgres", "reset"),
    );
    let error = navigator(&tools, Arc::new(RulePlanner))
        .answer(request(QUESTION))
        .await
        .unwrap_err();
    assert_eq!(error.http_status(), 503);
    assert_eq!(tools.counters.calls(ToolName::Retrieve), 2, "one retry, in wave 2");
}

#[tokio::test(start_paused = true)]
async fn a_section_a_passage_refers_to_is_read_in_the_second_wave_and_answers() {
    // Retrieval scores every sentence; here the section's own sentences are the closest to the question.
    let chunk = |id: u128, page: u32, section: &str, text: &str, score: f32| ChunkHit {
        chunk_id: Uuid::from_u128(id),
        document_id: Uuid::from_u128(1000),
        title: "Plan".into(),
        page,
        section: section.into(),
        text: text.into(),
        score,
        similarity: None,
        units: navigator_platform::text::sentences(text)
            .iter()
            .map(|s| if s.contains("does not cover") { 0.8 } else { 0.4 })
            .collect(),
        piece_matches: Vec::new(),
    };
    let referrer = chunk(
        1,
        42,
        "CHAPTER 3: Using the plan › Section 1.2 Basic rules",
        "You must get your care from network providers. For information about getting approval to see an \
         out-of-network doctor, see Section 2.4 in this chapter.",
        1.5,
    );
    let target = chunk(
        2,
        47,
        "CHAPTER 3: Using the plan › Section 2.4 How to get care from out-of-network providers",
        "Section 2.4 How to get care from out-of-network providers\nThe plan does not cover out-of-network \
         services, except emergency care or urgently needed services.",
        0.8,
    );
    let tools = FakeTools::answering(MS(50))
        .retrieve(MS(50), vec![referrer])
        .section("Chapter 3, Section 2.4", vec![target]);
    let question = "Will the plan pay if I see an out-of-network doctor?";
    let answer = navigator(&tools, Arc::new(RulePlanner))
        .answer(request(question))
        .await
        .unwrap();

    let sections: Vec<Option<String>> = tools
        .counters
        .requests()
        .into_iter()
        .filter(|(tool, _)| *tool == ToolName::Retrieve)
        .map(|(_, request)| request.input.get("section").and_then(|s| s.as_str()).map(String::from))
        .collect();
    assert_eq!(sections, vec![None, Some("Chapter 3, Section 2.4".to_string())]);
    let waves: Vec<usize> = answer.tools.iter().map(|t| t.wave).collect();
    assert_eq!(waves, vec![1, 2]);
    assert_eq!(answer.status, Status::Answered);
    let first = answer.answer.lines().nth(1).unwrap_or_default();
    assert!(
        first.contains("does not cover out-of-network services") && first.ends_with("[p. 47]"),
        "the section read in wave 2 answers first: {}",
        answer.answer
    );
}
