//! The offline planner: deterministic rules, no model.
//!
//! Wave 1:
//! - always retrieve the question from the member's plan documents; a follow-up ("and for a specialist?") is
//!   searched together with the member's previous question;
//! - a question of several parts ("How many days are covered, and what do I pay per day?") also retrieves each later
//!   part, followed by the first part that names its subject, so every part finds its passage;
//! - web search joins when the question needs facts from outside the plan: this year's figures, the Medicare program
//!   itself, laws, drug prices and names, state programs (see `crate::question::needs_outside_facts`).
//!
//! Wave 2, only when wave 1 left a gap:
//! - retrieval failed outright → retry it once (an idempotent read);
//! - retrieval found nothing good (best score under
//!   [`ANSWERABLE_SCORE`](navigator_platform::contracts::ANSWERABLE_SCORE)) and the web was not asked → web search;
//! - one of the best passages refers to another section about the question ("Section 2.2 below describes our
//!   service area") → read that section (at most [`MAX_SECTIONS_FOLLOWED`], see [`crate::question::worth_following`]).
//!
//! Otherwise the plan is done after one wave.

use futures_util::future::BoxFuture;
use navigator_platform::NavigatorError;
use navigator_resilience::Deadline;

use super::{PlanContext, Planner, Step};
use crate::chat::Turn;
use crate::evidence::{PlannedCall, ToolCall};
use crate::question::{later_part_searches, needs_outside_facts, with_context, worth_following};

/// The most cross-referenced sections the second wave reads.
pub const MAX_SECTIONS_FOLLOWED: usize = 2;

/// The offline planner.
#[derive(Debug, Clone, Copy, Default)]
pub struct RulePlanner;

impl RulePlanner {
    /// The calls of wave 1.
    pub fn first_wave(question: &str, history: &[Turn], max_calls: usize) -> Vec<ToolCall> {
        let query = with_context(question, history);
        let mut calls = vec![ToolCall::Retrieve { query: query.clone() }];
        let wants_web = needs_outside_facts(question);
        let room_for_parts = max_calls.saturating_sub(1 + usize::from(wants_web));
        for query in later_part_searches(question).into_iter().take(room_for_parts) {
            calls.push(ToolCall::Retrieve { query });
        }
        if wants_web && calls.len() < max_calls {
            calls.push(ToolCall::WebSearch { query });
        }
        calls
    }
}

impl Planner for RulePlanner {
    fn name(&self) -> &'static str {
        "rules"
    }

    fn next_step<'a>(
        &'a self,
        cx: PlanContext<'a>,
        _deadline: Deadline,
    ) -> BoxFuture<'a, Result<Step, NavigatorError>> {
        let calls = if cx.waves_done == 0 {
            Self::first_wave(cx.question, cx.history, cx.max_calls_per_wave)
        } else if cx.waves_done < cx.max_waves {
            second_wave(cx)
        } else {
            Vec::new()
        };
        let step = if calls.is_empty() {
            Step::Done { draft: None }
        } else {
            let wave = cx.waves_done + 1;
            Step::Call(
                calls
                    .into_iter()
                    .enumerate()
                    .map(|(i, call)| PlannedCall {
                        id: format!("w{wave}-{i}"),
                        call,
                    })
                    .collect(),
            )
        };
        Box::pin(async move { Ok(step) })
    }
}

fn second_wave(cx: PlanContext<'_>) -> Vec<ToolCall> {
    let evidence = cx.evidence;
    let query = with_context(cx.question, cx.history);
    if !evidence.succeeded(ToolCall::is_retrieve) {
        return vec![ToolCall::Retrieve { query }];
    }
    let mut calls = Vec::new();
    if evidence.found_nothing_good() && !evidence.called(ToolCall::is_web_search) {
        calls.push(ToolCall::WebSearch { query: query.clone() });
    }
    let room = cx
        .max_calls_per_wave
        .saturating_sub(calls.len())
        .min(MAX_SECTIONS_FOLLOWED);
    for section in worth_following(cx.question, &evidence.chunks(), room) {
        calls.push(ToolCall::ReadSection {
            section,
            query: query.clone(),
        });
    }
    calls
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::{Outcome, Role};
    use crate::evidence::{CallRecord, CallResult, Evidence};
    use navigator_platform::contracts::{ChunkHit, RetrieveOutput, RetrieveTimings};
    use navigator_platform::section::SectionRef;
    use std::time::Duration;
    use uuid::Uuid;

    fn plan(question: &str, history: &[Turn], evidence: &Evidence, waves_done: usize) -> Step {
        let cx = PlanContext {
            question,
            history,
            evidence,
            waves_done,
            max_waves: 2,
            max_calls_per_wave: 3,
        };
        let deadline = Deadline::after(Duration::from_secs(1));
        futures_util::FutureExt::now_or_never(RulePlanner.next_step(cx, deadline))
            .unwrap()
            .unwrap()
    }

    fn calls(step: Step) -> Vec<ToolCall> {
        match step {
            Step::Call(calls) => calls.into_iter().map(|c| c.call).collect(),
            Step::Done { .. } => Vec::new(),
        }
    }

    fn retrieved(score: f32) -> Evidence {
        let chunk = ChunkHit {
            chunk_id: Uuid::from_u128(1),
            document_id: Uuid::from_u128(2),
            title: "Plan".into(),
            page: 1,
            section: String::new(),
            text: "text".into(),
            score,
            similarity: None,
            units: Vec::new(),
            piece_matches: Vec::new(),
        };
        let output = RetrieveOutput {
            chunks: vec![chunk],
            best_similarity: None,
            timings_ms: RetrieveTimings::default(),
        };
        record(CallResult::Retrieved(output))
    }

    fn record(result: CallResult) -> Evidence {
        Evidence {
            calls: vec![CallRecord {
                wave: 1,
                call: PlannedCall {
                    id: "w1-0".into(),
                    call: ToolCall::Retrieve { query: "q".into() },
                },
                result,
                ms: 1.0,
            }],
        }
    }

    #[test]
    fn a_plan_question_retrieves_only() {
        let step = plan("What does a specialist visit cost me?", &[], &Evidence::default(), 0);
        assert_eq!(
            calls(step),
            vec![ToolCall::Retrieve {
                query: "What does a specialist visit cost me?".into()
            }]
        );
    }

    #[test]
    fn outside_facts_add_web_search_in_the_first_wave() {
        let question = "How much is the standard Medicare Part B premium for this year?";
        let step = calls(plan(question, &[], &Evidence::default(), 0));
        assert_eq!(step.len(), 2);
        assert!(step[1].is_web_search());
        assert!(!needs_outside_facts("Is the lawn mower covered?"), "word boundaries");
    }

    #[test]
    fn each_later_part_of_a_question_is_searched_too() {
        let question = "How many days in a skilled nursing facility are covered, and what do I pay per day?";
        let step = calls(plan(question, &[], &Evidence::default(), 0));
        assert_eq!(step.len(), 2);
        assert_eq!(
            step[1],
            ToolCall::Retrieve {
                query: "what do I pay per day? How many days in a skilled nursing facility are covered".into()
            }
        );
    }

    #[test]
    fn a_follow_up_is_searched_with_the_previous_question() {
        let history = [
            Turn {
                role: Role::User,
                content: "What is the copay for a primary care visit?".into(),
            },
            Turn {
                role: Role::Assistant,
                content: "$0 copayment for each office visit.".into(),
            },
        ];
        let step = calls(plan("And for a specialist?", &history, &Evidence::default(), 0));
        assert_eq!(
            step,
            vec![ToolCall::Retrieve {
                query: "What is the copay for a primary care visit? And for a specialist?".into()
            }]
        );
        let standalone = calls(plan(
            "How much do hearing aids cost with this plan?",
            &history,
            &Evidence::default(),
            0,
        ));
        assert_eq!(
            standalone,
            vec![ToolCall::Retrieve {
                query: "How much do hearing aids cost with this plan?".into()
            }]
        );
    }

    #[test]
    fn the_second_wave_fills_gaps_only() {
        let question = "Is acupuncture covered?";
        assert_eq!(
            calls(plan(question, &[], &retrieved(1.6), 1)),
            Vec::new(),
            "a good answer needs no 2nd wave"
        );
        let weak = calls(plan(question, &[], &retrieved(0.4), 1));
        assert!(weak.len() == 1 && weak[0].is_web_search());
        let failed = record(CallResult::Failed {
            outcome: Outcome::Timeout,
            error: None,
        });
        let retry = calls(plan(question, &[], &failed, 1));
        assert!(
            retry.len() == 1 && retry[0].is_retrieve(),
            "a failed read is retried once"
        );
        assert_eq!(calls(plan(question, &[], &failed, 2)), Vec::new(), "never a third wave");
    }

    #[test]
    fn the_second_wave_reads_the_sections_the_best_passages_refer_to() {
        let chunk = ChunkHit {
            chunk_id: Uuid::from_u128(1),
            document_id: Uuid::from_u128(2),
            title: "Plan".into(),
            page: 42,
            section: "CHAPTER 3: Using the plan › Section 1.2 Basic rules".into(),
            text: "For information about getting approval to see an out-of-network doctor, see Section 2.4 in this \
                   chapter. For durable medical equipment, see Chapter 4, Section 2.1."
                .into(),
            score: 1.5,
            similarity: None,
            units: Vec::new(),
            piece_matches: Vec::new(),
        };
        let found = record(CallResult::Retrieved(RetrieveOutput {
            chunks: vec![chunk],
            best_similarity: None,
            timings_ms: RetrieveTimings::default(),
        }));
        let question = "Can I see an out-of-network doctor?";
        assert_eq!(
            calls(plan(question, &[], &found, 1)),
            vec![ToolCall::ReadSection {
                section: SectionRef::parse("Chapter 3, Section 2.4").unwrap(),
                query: question.into(),
            }],
            "only the reference about the question is read"
        );
        assert_eq!(calls(plan(question, &[], &found, 2)), Vec::new(), "never a third wave");
        assert_eq!(
            calls(plan("What does a specialist cost?", &[], &found, 1)),
            Vec::new(),
            "no reference is about this question"
        );
    }
}
