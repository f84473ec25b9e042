//! One chat turn (DESIGN.md §1), under one deadline:
//! guard → translate in → plan → ≤ 2 waves of ≤ 3 tool calls → compose → ground → translate out.
//!
//! The guard runs on the member's own words before anything leaves for a translator, so personal data is redacted
//! before any third party sees it; a translated question is checked once more in English. A blocked verdict ends the
//! turn with a refusal, and no tool runs. One failed tool never fails the turn while another source answered: the
//! failure is named in `degraded`. No source at all is 503; the deadline gone first is 504.

pub mod budget;
pub mod refusal;
pub mod response;

use navigator_platform::NavigatorError;
use navigator_platform::contracts::{GuardOutput, TranslateInput, Verdict};
use navigator_resilience::{CallOutcome, Deadline, WaveRunner};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use uuid::Uuid;

pub use budget::TurnBudgets;
pub use response::{ChatResponse, ToolReport};

use crate::api::{ChatRequest, Role, Turn};
use crate::compose::extractive::ExtractiveComposer;
use crate::compose::grounding::drop_ungrounded;
use crate::compose::{ComposeContext, Composer, Composition, Status};
use crate::evidence::{CallRecord, CallResult, Evidence, Outcome};
use crate::plan::rules::RulePlanner;
use crate::plan::{PlanContext, PlannedCall, Planner, Step, ToolCall};
use crate::tools::{CallContext, ToolName, Tools};

/// Chunks asked of each retrieve call.
const RETRIEVE_TOP_K: u8 = 5;
/// Chunks read from a followed section: its opening ones say what it is about.
const SECTION_TOP_K: u8 = 2;
/// Results asked of each web search.
const WEB_RESULTS: u8 = 5;
/// Said when the answer could not be put in the member's language.
const UNTRANSLATED_NOTE: &str = "(We could not translate this answer into your language, so it is in English.)";

/// One turn's request, after the HTTP edge checked it.
#[derive(Debug, Clone)]
pub struct TurnRequest {
    pub request_id: String,
    pub user_id: Uuid,
    pub chat: ChatRequest,
    /// The request's absolute deadline: its total budget, capped by the Lambda deadline.
    pub deadline: Deadline,
}

/// Runs turns. Built once per execution environment and shared.
pub struct Navigator {
    tools: Tools,
    planner: Arc<dyn Planner>,
    composer: Arc<dyn Composer>,
    budgets: TurnBudgets,
    waves: WaveRunner,
}

/// The turn's running record: timings and degradations.
#[derive(Default)]
struct Ledger {
    timings: BTreeMap<String, f64>,
    degraded: Vec<String>,
}

impl Ledger {
    fn time(&mut self, stage: &str, since: Instant) {
        self.timings.insert(stage.to_string(), ms(since.elapsed()));
    }

    fn degrade(&mut self, what: &str) {
        if !self.degraded.iter().any(|d| d == what) {
            self.degraded.push(what.to_string());
        }
    }
}

fn ms(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1000.0 * 100.0).round() / 100.0
}

impl Navigator {
    pub fn new(tools: Tools, planner: Arc<dyn Planner>, composer: Arc<dyn Composer>, budgets: TurnBudgets) -> Self {
        let waves = WaveRunner::new(budgets.max_parallel_tools);
        Self {
            tools,
            planner,
            composer,
            budgets,
            waves,
        }
    }

    /// The offline defaults: rule planner and extractive composer.
    pub fn offline(tools: Tools, budgets: TurnBudgets) -> Self {
        Self::new(
            tools,
            Arc::new(RulePlanner),
            Arc::new(ExtractiveComposer::default()),
            budgets,
        )
    }

    pub fn budgets(&self) -> &TurnBudgets {
        &self.budgets
    }

    /// Runs one turn to its answer, or to the error that the chat API turns into a status code. However the
    /// stages behave, the caller has an answer or a `Timeout` by the request's deadline.
    pub async fn answer(&self, request: TurnRequest) -> Result<ChatResponse, NavigatorError> {
        let deadline = request.deadline;
        match deadline.run(self.run_turn(request)).await {
            Ok(result) => result,
            Err(_) => Err(NavigatorError::timeout("chat turn")),
        }
    }

    async fn run_turn(&self, request: TurnRequest) -> Result<ChatResponse, NavigatorError> {
        let started = Instant::now();
        let deadline = request.deadline;
        let cx = CallContext {
            request_id: request.request_id.clone(),
            user_id: request.user_id,
        };
        let mut ledger = Ledger::default();
        let requested = request.chat.language.clone().filter(|l| l != "auto");
        let maybe_foreign = requested.as_deref() != Some("en");

        // 1. Guard the member's own words before anything else sees them.
        let stage = Instant::now();
        let guard_deadline = deadline.stage(self.budgets.guard, self.budgets.after_guard(maybe_foreign));
        let guarded = self.guard(&cx, &request.chat, guard_deadline, &mut ledger).await?;
        ledger.time("guard", stage);
        let GuardedTurn { message, history } = match guarded {
            Guarded::Refused(text) => {
                let language = requested.unwrap_or_else(|| "en".into());
                let refusal = Composition {
                    status: Status::Refused,
                    answer: text,
                    citations: Vec::new(),
                };
                return Ok(self.finish(refusal, language, Vec::new(), ledger, started, &request.request_id));
            }
            Guarded::Allowed(turn) => turn,
        };

        // 2. Translate the (redacted) question into English.
        let stage = Instant::now();
        let translate_deadline = deadline.stage(self.budgets.translate, self.budgets.after_guard(maybe_foreign));
        let (question, language) = self
            .translate_in(&cx, &message, requested.as_deref(), translate_deadline, &mut ledger)
            .await;
        ledger.time("translate_in", stage);
        if language != "en" && question != message {
            // The translated text is new text: check it once more, in English.
            let recheck = deadline.stage(self.budgets.guard, self.budgets.after_guard(true));
            let chat = ChatRequest {
                message: question.clone(),
                ..ChatRequest::default()
            };
            if let Guarded::Refused(text) = self.guard(&cx, &chat, recheck, &mut ledger).await? {
                let refusal = Composition {
                    status: Status::Refused,
                    answer: text,
                    citations: Vec::new(),
                };
                return Ok(self.finish(refusal, language, Vec::new(), ledger, started, &request.request_id));
            }
        }
        let translating_back = language != "en";

        // 3. Plan and run at most MAX_WAVES waves.
        let mut evidence = Evidence::default();
        let mut draft = None;
        let mut reports = Vec::new();
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
                .plan(&question, &history, &evidence, wave - 1, plan_deadline, &mut ledger)
                .await;
            ledger.time(&format!("plan_{wave}"), stage);
            let planned = match step {
                Step::Call(calls) => calls,
                Step::Done { draft: written } => {
                    draft = written;
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
            let records = self.run_wave(&cx, wave, calls, wave_deadline).await;
            ledger.time(&format!("wave_{wave}"), stage);
            for record in records {
                reports.push(ToolReport {
                    name: record.call.call.tool(),
                    wave,
                    outcome: record.result.outcome(),
                    ms: record.ms,
                });
                evidence.calls.push(record);
            }
        }
        if !carried.is_empty() {
            tracing::warn!(
                dropped = carried.len(),
                max_waves = self.budgets.max_waves,
                "no wave left for planned calls; capped"
            );
            metrics::counter!("planner_capped_total", "cap" => "waves").increment(1);
        }
        // A tool that failed in one wave but answered in the next is not degraded.
        for report in &reports {
            let answered = reports
                .iter()
                .any(|r| r.name == report.name && r.outcome == Outcome::Ok);
            if !answered {
                ledger.degrade(report.name.as_str());
            }
        }
        if !evidence.any_source_answered() {
            return Err(no_source(&evidence, deadline));
        }

        // 4. Compose, and keep only what the sources hold.
        let stage = Instant::now();
        let compose_deadline = deadline.stage(
            deadline.remaining(),
            if translating_back {
                self.budgets.translate_out_reserve
            } else {
                Duration::ZERO
            },
        );
        let sources = source_texts(&evidence);
        let composition = self
            .compose(
                &question,
                &evidence,
                &sources,
                draft.as_deref(),
                compose_deadline,
                &mut ledger,
            )
            .await;
        ledger.time("compose", stage);

        // 5. The output check: no one else's personal data, no internal text.
        let stage = Instant::now();
        let composition = output_check(composition, &request.chat.message, &sources);
        ledger.time("output_check", stage);

        // 6. Translate the answer back.
        let stage = Instant::now();
        let composition = if translating_back {
            let out_deadline = deadline.stage(self.budgets.translate, Duration::ZERO);
            let translated = self
                .translate_out(&cx, composition, &language, out_deadline, &mut ledger)
                .await;
            ledger.time("translate_out", stage);
            translated
        } else {
            composition
        };
        Ok(self.finish(composition, language, reports, ledger, started, &request.request_id))
    }

    fn finish(
        &self,
        composition: Composition,
        language: String,
        tools: Vec<ToolReport>,
        mut ledger: Ledger,
        started: Instant,
        request_id: &str,
    ) -> ChatResponse {
        ledger.time("total", started);
        let status = match composition.status {
            Status::Answered => "answered",
            Status::Unanswered => "unanswered",
            Status::Refused => "refused",
        };
        metrics::counter!("chat_turns_total", "status" => status).increment(1);
        metrics::histogram!("chat_turn_ms", "status" => status).record(ledger.timings["total"]);
        for degraded in &ledger.degraded {
            metrics::counter!("chat_degraded_total", "what" => degraded.clone()).increment(1);
        }
        ChatResponse {
            status: composition.status,
            answer: composition.answer,
            language,
            citations: composition.citations,
            tools,
            degraded: ledger.degraded,
            timings_ms: ledger.timings,
            request_id: request_id.to_string(),
        }
    }

    async fn guard(
        &self,
        cx: &CallContext,
        chat: &ChatRequest,
        deadline: Deadline,
        ledger: &mut Ledger,
    ) -> Result<Guarded, NavigatorError> {
        if !self.tools.provides(ToolName::Guard) {
            ledger.degrade("guard");
            return Ok(Guarded::Allowed(GuardedTurn {
                message: chat.message.clone(),
                history: chat.history.clone(),
            }));
        }
        let history_text = joined_history(&chat.history);
        let (message, history) = tokio::join!(self.tools.guard(cx, &chat.message, deadline), async {
            match &history_text {
                Some(text) => Some(self.tools.guard(cx, text, deadline).await),
                None => None,
            }
        });
        // The guard fails closed: without its verdict the turn does not go on.
        let message = message.map_err(|error| guard_failure(error, "message"))?;
        let history = history.transpose().map_err(|error| guard_failure(error, "history"))?;
        for verdict in std::iter::once(&message).chain(history.as_ref()) {
            if verdict.degraded {
                ledger.degrade("guard");
            }
            if verdict.verdict == Verdict::Block {
                tracing::info!(category = ?verdict.category, "guard blocked the turn");
                let text = verdict
                    .refusal
                    .clone()
                    .unwrap_or_else(|| refusal::refusal(verdict.category).to_string());
                return Ok(Guarded::Refused(text));
            }
        }
        Ok(Guarded::Allowed(GuardedTurn {
            message: message.text,
            history: match history {
                Some(redacted) => split_history(&chat.history, &redacted),
                None => Vec::new(),
            },
        }))
    }

    /// The question in English and the member's language. On failure the question goes on untranslated.
    async fn translate_in(
        &self,
        cx: &CallContext,
        message: &str,
        requested: Option<&str>,
        deadline: Deadline,
        ledger: &mut Ledger,
    ) -> (String, String) {
        if requested == Some("en") {
            return (message.to_string(), "en".into());
        }
        if !self.tools.provides(ToolName::Translate) {
            if requested.is_some() {
                ledger.degrade("translation");
            }
            return (message.to_string(), requested.unwrap_or("en").to_string());
        }
        let input = TranslateInput {
            text: message.to_string(),
            source_lang: requested.unwrap_or("auto").to_string(),
            target_lang: "en".into(),
        };
        match self.tools.translate(cx, input, deadline).await {
            Ok(output) => {
                let language = requested.unwrap_or(&output.source_lang).to_string();
                if language != "en" && !output.translated {
                    ledger.degrade("translation");
                }
                let question = if output.translated {
                    output.text
                } else {
                    message.to_string()
                };
                (question, language)
            }
            Err(error) => {
                tracing::warn!(error = %error, "translation of the question failed; going on untranslated");
                ledger.degrade("translation");
                (message.to_string(), requested.unwrap_or("en").to_string())
            }
        }
    }

    async fn translate_out(
        &self,
        cx: &CallContext,
        mut composition: Composition,
        language: &str,
        deadline: Deadline,
        ledger: &mut Ledger,
    ) -> Composition {
        if self.tools.provides(ToolName::Translate) {
            let input = TranslateInput {
                text: composition.answer.clone(),
                source_lang: "en".into(),
                target_lang: language.to_string(),
            };
            match self.tools.translate(cx, input, deadline).await {
                Ok(output) if output.translated => {
                    composition.answer = output.text;
                    return composition;
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(error = %error, "translation of the answer failed"),
            }
        }
        ledger.degrade("translation");
        composition.answer = format!("{}\n\n{UNTRANSLATED_NOTE}", composition.answer);
        composition
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
        ledger.degrade("planner");
        match futures_util::FutureExt::now_or_never(RulePlanner.next_step(cx, deadline)) {
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
            metrics::counter!("planner_capped_total", "cap" => "tools").increment(1);
            *carried = calls.split_off(limit);
        }
        metrics::histogram!("wave_size").record(calls.len() as f64);
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
                metrics::histogram!("tool_call_ms", "tool" => tool, "outcome" => outcome_label(outcome))
                    .record(ms(report.elapsed));
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

    async fn compose(
        &self,
        question: &str,
        evidence: &Evidence,
        sources: &[String],
        draft: Option<&str>,
        deadline: Deadline,
        ledger: &mut Ledger,
    ) -> Composition {
        let cx = ComposeContext {
            question,
            evidence,
            draft,
        };
        let composed = match deadline.run(self.composer.compose(cx, deadline)).await {
            Ok(Ok(composition)) => Some(composition),
            Ok(Err(error)) => {
                tracing::warn!(composer = self.composer.name(), error = %error, "composer failed; quoting instead");
                None
            }
            Err(_) => {
                tracing::warn!(
                    composer = self.composer.name(),
                    "composer ran out of time; quoting instead"
                );
                None
            }
        };
        let fallback = || ExtractiveComposer::default().compose_now(question, evidence);
        let Some(mut composition) = composed else {
            ledger.degrade("composer");
            return fallback();
        };
        let (grounded, dropped) = drop_ungrounded(&composition.answer, sources.iter().map(String::as_str));
        if dropped > 0 {
            tracing::warn!(
                composer = self.composer.name(),
                dropped,
                "dropped sentences stating figures no source holds"
            );
            metrics::counter!("answer_ungrounded_sentences_total").increment(dropped as u64);
            if grounded.is_empty() {
                ledger.degrade("composer");
                return fallback();
            }
            composition.answer = grounded;
        }
        composition
    }
}

enum Guarded {
    Allowed(GuardedTurn),
    Refused(String),
}

struct GuardedTurn {
    message: String,
    history: Vec<Turn>,
}

/// Separates history turns in the one text the guard checks; no placeholder or redaction spans it.
const HISTORY_SEPARATOR: &str = "\n\n\u{2063}\n\n";

fn joined_history(history: &[Turn]) -> Option<String> {
    let texts: Vec<&str> = history.iter().map(|turn| turn.content.as_str()).collect();
    (!texts.is_empty()).then(|| texts.join(HISTORY_SEPARATOR))
}

/// The history with each turn's text replaced by its redacted form; turns that no longer line up are dropped.
fn split_history(history: &[Turn], redacted: &GuardOutput) -> Vec<Turn> {
    let parts: Vec<&str> = redacted.text.split(HISTORY_SEPARATOR).collect();
    if parts.len() != history.len() {
        return Vec::new();
    }
    history
        .iter()
        .zip(parts)
        .map(|(turn, text)| Turn {
            role: turn.role,
            content: text.to_string(),
        })
        .filter(|turn| turn.role == Role::User || turn.role == Role::Assistant)
        .collect()
}

fn guard_failure(error: NavigatorError, what: &str) -> NavigatorError {
    tracing::error!(error = %error, what, "guard failed; the turn stops (fail closed)");
    match error {
        NavigatorError::Timeout { .. } => NavigatorError::timeout("guard"),
        NavigatorError::Rejected { reason, retry_after } => NavigatorError::rejected(reason, retry_after),
        other => NavigatorError::unavailable("guard", other),
    }
}

/// No call reached a source: 504 when time ran out, 503 otherwise.
fn no_source(evidence: &Evidence, deadline: Deadline) -> NavigatorError {
    let all_timed_out =
        !evidence.calls.is_empty() && evidence.calls.iter().all(|r| r.result.outcome() == Outcome::Timeout);
    if deadline.is_expired() || all_timed_out {
        NavigatorError::timeout("tool waves")
    } else {
        NavigatorError::unavailable("plan sources", "no tool answered")
    }
}

/// Texts the answer must never quote: the model's instructions.
const INTERNAL_TEXTS: &[&str] = &[crate::llm::agent::SYSTEM_PROMPT, crate::llm::agent::ANSWER_NOW];

/// Removes personal data that neither the member's question nor the sources hold, and any leak of internal text.
fn output_check(mut composition: Composition, message: &str, sources: &[String]) -> Composition {
    let mut allowed: Vec<&str> = vec![message];
    allowed.extend(sources.iter().map(String::as_str));
    let checked = navigator_pii::output::check(&composition.answer, &allowed, INTERNAL_TEXTS);
    if checked.personal_values_removed + checked.leaked_sentences_removed > 0 {
        tracing::warn!(
            personal_values = checked.personal_values_removed,
            leaked_sentences = checked.leaked_sentences_removed,
            "output check removed text from the answer"
        );
        metrics::counter!("output_check_removed_total")
            .increment((checked.personal_values_removed + checked.leaked_sentences_removed) as u64);
        composition.answer = checked.text;
    }
    composition
}

fn outcome_label(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Ok => "ok",
        Outcome::Timeout => "timeout",
        Outcome::Error => "error",
        Outcome::Rejected => "rejected",
        Outcome::Unavailable => "unavailable",
    }
}

/// Every text a figure in the answer may come from.
fn source_texts(evidence: &Evidence) -> Vec<String> {
    let mut texts: Vec<String> = evidence.chunks().into_iter().map(|chunk| chunk.text.clone()).collect();
    texts.extend(
        evidence
            .web_results()
            .into_iter()
            .map(|result| format!("{} {}", result.title, result.snippet)),
    );
    texts
}

#[cfg(test)]
mod tests;
