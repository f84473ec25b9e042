//! One chat turn (docs/DESIGN.md §1), under one deadline:
//! guard → translate in → plan → ≤ 2 waves of ≤ 3 tool calls → compose → check → translate out.
//!
//! The guard runs on the member's own words before anything leaves for a translator, so personal data is redacted
//! before any third party sees it; a translated question is checked once more in English. A blocked verdict ends the
//! turn with a refusal, and no tool runs. One failed tool never fails the turn while another source answered: the
//! failure is named in `degraded`. No source at all is 503; the deadline gone first is 504.
//!
//! - [`script`]: the turn, stage by stage; [`budget`]: how the deadline is shared among the stages;
//! - [`guard_stage`]: the message and its history guarded; [`language`]: translation in and out;
//! - [`waves`]: planning and running the tool waves; [`checks`]: composing, grounding and the output check;
//! - [`ledger`]: the turn's timings and degradations, and its metrics.

mod budget;
mod checks;
mod guard_stage;
mod language;
mod ledger;
mod script;
mod waves;

use navigator_platform::NavigatorError;
use navigator_platform::config::Budgets;
use navigator_platform::owner::Readers;
use navigator_resilience::{CpuPool, Deadline, WaveRunner};
use std::sync::Arc;

pub use budget::{OFFLINE_STAGE, TurnBudgets};

use crate::chat::{ChatRequest, ChatResponse};
use crate::compose::Composer;
use crate::compose::extractive::{ExtractiveComposer, ExtractiveSettings};
use crate::plan::Planner;
use crate::plan::rules::RulePlanner;
use crate::tools::{ToolInvoker, Tools};

/// One turn's request, after the HTTP edge checked it.
#[derive(Debug, Clone)]
pub struct TurnRequest {
    pub request_id: String,
    /// The authenticated member and their plan: whose documents the turn reads.
    pub readers: Readers,
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

    /// The offline navigator over `invoker`: the rule planner and the extractive composer, with their stage budgets.
    pub fn offline(invoker: Arc<dyn ToolInvoker>, budgets: &Budgets) -> Self {
        Self::offline_with(invoker, budgets, ExtractiveSettings::default())
    }

    /// The offline navigator with the extractive composer set otherwise: for measuring alternatives.
    pub fn offline_with(invoker: Arc<dyn ToolInvoker>, budgets: &Budgets, settings: ExtractiveSettings) -> Self {
        let orchestrator = &budgets.orchestrator;
        // Every admitted turn may compose at once; more never wait here, since admission holds them.
        let pool = CpuPool::new("compose", orchestrator.pool, orchestrator.in_flight).niced(orchestrator.cpu_niceness);
        Self::offline_composing(
            invoker,
            budgets,
            Arc::new(ExtractiveComposer { settings }.on_pool(pool)),
        )
    }

    /// The offline navigator's planner and budgets with another composer.
    pub(crate) fn offline_composing(
        invoker: Arc<dyn ToolInvoker>,
        budgets: &Budgets,
        composer: Arc<dyn Composer>,
    ) -> Self {
        Self::new(
            Tools::new(invoker),
            Arc::new(RulePlanner),
            composer,
            TurnBudgets::from_budgets(budgets, OFFLINE_STAGE, OFFLINE_STAGE),
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
}

#[cfg(test)]
mod tests;
