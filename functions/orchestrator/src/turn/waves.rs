//! The tool waves: ask the planner for each wave's calls, cap them, and run them at once under the wave's budget.
//! A wave's overflow waits for the next wave; past the last it is dropped. Either way it is logged and counted.

use futures_util::FutureExt;
use navigator_platform::NavigatorError;
use navigator_resilience::{CallOutcome, Deadline};
use tokio::time::Instant;

use super::Navigator;
use super::ledger::{Ledger, ms};
use crate::chat::{Degraded, Outcome, Stage, ToolReport, Turn};
use crate::evidence::{CallRecord, CallResult, Evidence, PlannedCall, ToolCall};
use crate::plan::rules::RulePlanner;
use crate::plan::{PlanContext, Planner, Step};
use crate::tools::CallContext;

/// Chunks asked of each retrieve call.
const RETRIEVE_TOP_K: u8 = 8;
/// Chunks read from a followed section: its opening ones say what it is about.
const SECTION_TOP_K: u8 = 2;
/// Results asked of each web search.
const WEB_RESULTS: u8 = 5;

/// What the waves brought back.
#[derive(Default)]
pub(super) struct Gathered {
    pub(super) evidence: Evidence,
    /// An answer a model planner already wrote from the evidence.
    pub(super) draft: Option<String>,
    pub(super) reports: Vec<ToolReport>,
}

impl Navigator {
    /// Plans and runs at most `max_waves` waves: what the tools found, the draft a model planner may have written,
    /// and one report per call. A tool that failed in every wave that called it is named in `degraded`.
    pub(super) async fn gather(
        &self,
        cx: &CallContext,
        question: &str,
        history: &[Turn],
        translating_back: bool,
        deadline: Deadline,
        ledger: &mut Ledger,
    ) -> Gathered {
        let mut gathered = Gathered::default();
        let mut carried: Vec<PlannedCall> = Vec::new();
        for wave in 1..=self.budgets.max_waves {
            let after_waves = self.budgets.after_waves(translating_back);
            if wave > 1 && deadline.remaining() < after_waves + self.budgets.min_wave {
                tracing::info!(wave, "no time left for another wave");
                break;
            }
            let stage = Instant::now();
            let plan_deadline = deadline.stage(self.budgets.plan, self.budgets.min_wave + after_waves);
            let step = self
                .plan(question, history, &gathered.evidence, wave - 1, plan_deadline, ledger)
                .await;
            ledger.time(Stage::Plan(wave), stage);
            let planned = match step {
                Step::Call(calls) => calls,
                Step::Done { draft } => {
                    gathered.draft = draft;
                    Vec::new()
                }
            };
            // Calls a wave had no room for run first in the next.
            let mut calls = std::mem::take(&mut carried);
            calls.extend(planned);
            if calls.is_empty() {
                break;
            }
            let calls = self.cap(calls, wave, &mut carried);
            let wave_deadline = deadline.stage(self.budgets.wave, after_waves);
            let stage = Instant::now();
            let records = self.run_wave(cx, wave, calls, wave_deadline).await;
            ledger.time(Stage::Wave(wave), stage);
            for record in records {
                gathered.reports.push(ToolReport {
                    name: record.call.call.tool(),
                    wave,
                    outcome: record.result.outcome(),
                    ms: record.ms,
                });
                gathered.evidence.calls.push(record);
            }
        }
        if !carried.is_empty() {
            tracing::warn!(
                dropped = carried.len(),
                max_waves = self.budgets.max_waves,
                "no wave left for planned calls; capped"
            );
            metrics::counter!(navigator_metrics::PLANNER_CAPPED.name, "cap" => "waves").increment(1);
        }
        // A tool that failed in one wave but answered in the next is not degraded.
        for report in &gathered.reports {
            let answered = gathered
                .reports
                .iter()
                .any(|r| r.name == report.name && r.outcome == Outcome::Ok);
            if !answered {
                ledger.degrade(Degraded::tool(report.name));
            }
        }
        gathered
    }

    async fn plan(
        &self,
        question: &str,
        history: &[Turn],
        evidence: &Evidence,
        waves_done: usize,
        deadline: Deadline,
        ledger: &mut Ledger,
    ) -> Step {
        let cx = PlanContext {
            question,
            history,
            evidence,
            waves_done,
            max_waves: self.budgets.max_waves,
            max_calls_per_wave: self.budgets.max_parallel_tools,
        };
        let planned = match deadline.run(self.planner.next_step(cx, deadline)).await {
            Ok(Ok(step)) => return step,
            Ok(Err(error)) => error,
            Err(_) => NavigatorError::timeout("plan"),
        };
        tracing::warn!(planner = self.planner.name(), error = %planned, "planner failed; the rule planner takes over");
        ledger.degrade(Degraded::Planner);
        match RulePlanner.next_step(cx, deadline).now_or_never() {
            Some(Ok(step)) => step,
            _ => Step::Done { draft: None },
        }
    }

    /// At most `max_parallel_tools` calls a wave; the excess waits for the next wave (in `carried`), and is
    /// dropped if there is none. Either way it is logged.
    fn cap(&self, mut calls: Vec<PlannedCall>, wave: usize, carried: &mut Vec<PlannedCall>) -> Vec<PlannedCall> {
        let limit = self.budgets.max_parallel_tools;
        if calls.len() > limit {
            tracing::warn!(
                wave,
                asked = calls.len(),
                limit,
                "more tool calls than a wave runs; the rest wait"
            );
            metrics::counter!(navigator_metrics::PLANNER_CAPPED.name, "cap" => "tools").increment(1);
            *carried = calls.split_off(limit);
        }
        metrics::histogram!(navigator_metrics::WAVE_TOOL_CALLS.name).record(calls.len() as f64);
        calls
    }

    async fn run_wave(
        &self,
        cx: &CallContext,
        wave: usize,
        calls: Vec<PlannedCall>,
        deadline: Deadline,
    ) -> Vec<CallRecord> {
        let mut unavailable = Vec::new();
        let mut runnable = Vec::new();
        for call in calls {
            if self.tools.provides(call.call.tool()) {
                runnable.push(call);
            } else {
                unavailable.push(call);
            }
        }
        let futures = runnable
            .iter()
            .map(|planned| {
                let tools = &self.tools;
                let call = planned.call.clone();
                let future = async move {
                    match call {
                        ToolCall::Retrieve { query } => tools
                            .retrieve(cx, &query, RETRIEVE_TOP_K, deadline)
                            .await
                            .map(CallResult::Retrieved),
                        ToolCall::ReadSection { section, query } => tools
                            .retrieve_within(cx, &query, Some(&section), SECTION_TOP_K, deadline)
                            .await
                            .map(CallResult::Retrieved),
                        ToolCall::WebSearch { query } => tools
                            .web_search(cx, &query, WEB_RESULTS, deadline)
                            .await
                            .map(CallResult::Searched),
                    }
                };
                (planned.call.tool().as_str().to_string(), future)
            })
            .collect();
        let reports = self.waves.run(futures, deadline).await;
        let mut records: Vec<CallRecord> = runnable
            .into_iter()
            .zip(reports)
            .map(|(call, report)| {
                let result = match report.outcome {
                    CallOutcome::Ok(result) => result,
                    CallOutcome::Err(error) => CallResult::failed(error),
                    CallOutcome::Timeout => CallResult::Failed {
                        outcome: Outcome::Timeout,
                        error: None,
                    },
                };
                let outcome = result.outcome();
                let tool = call.call.tool().as_str();
                metrics::histogram!(navigator_metrics::TOOL_CALL_DURATION.name, "tool" => tool, "outcome" => outcome.as_str())
                    .record(report.elapsed.as_secs_f64());
                metrics::counter!(
                    navigator_metrics::TOOL_CALLS.name,
                    "tool" => tool,
                    "outcome" => outcome.as_str(),
                    "wave" => wave.to_string()
                )
                .increment(1);
                if let CallResult::Failed { error: Some(error), .. } = &result {
                    tracing::warn!(tool, wave, error = %error, "tool call failed");
                }
                CallRecord {
                    wave,
                    call,
                    result,
                    ms: ms(report.elapsed),
                }
            })
            .collect();
        records.extend(unavailable.into_iter().map(|call| CallRecord {
            wave,
            call,
            result: CallResult::Failed {
                outcome: Outcome::Unavailable,
                error: None,
            },
            ms: 0.0,
        }));
        records
    }
}

/// No call reached a source: 504 when time ran out, 503 otherwise.
pub(super) fn no_source(evidence: &Evidence, deadline: Deadline) -> NavigatorError {
    let all_timed_out =
        !evidence.calls.is_empty() && evidence.calls.iter().all(|r| r.result.outcome() == Outcome::Timeout);
    if deadline.is_expired() || all_timed_out {
        NavigatorError::timeout("tool waves")
    } else {
        NavigatorError::unavailable("plan sources", "no tool answered")
    }
}
