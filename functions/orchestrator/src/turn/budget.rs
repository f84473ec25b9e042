//! How one turn's deadline is shared among its stages (docs/DESIGN.md §1 step 2): each stage gets its own budget, but
//! never the time kept for the stages after it.

use navigator_platform::config::Budgets;
use std::time::Duration;

/// The stage budgets of a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TurnBudgets {
    pub total: Duration,
    pub translate: Duration,
    pub guard: Duration,
    pub wave: Duration,
    pub max_waves: usize,
    pub max_parallel_tools: usize,
    /// For the planner before each wave: nothing offline, a model call with an LLM.
    pub plan: Duration,
    /// Kept for composing: a few ms offline, a model call with an LLM.
    pub compose: Duration,
    /// Kept for translating the answer back, when the member's language is not English.
    pub translate_out_reserve: Duration,
    /// A second wave starts only with at least this much of its budget left.
    pub min_wave: Duration,
}

impl TurnBudgets {
    /// `plan` and `compose` depend on the planner and composer: a few ms offline, a model call with an LLM.
    pub fn from_budgets(budgets: &Budgets, plan: Duration, compose: Duration) -> Self {
        let orchestrator = &budgets.orchestrator;
        Self {
            total: orchestrator.total,
            translate: budgets.translate.timeout,
            guard: budgets.guard.total,
            wave: orchestrator.wave,
            max_waves: orchestrator.max_waves,
            max_parallel_tools: orchestrator.max_parallel_tools,
            plan,
            compose,
            translate_out_reserve: budgets.translate.timeout.min(Duration::from_millis(400)),
            min_wave: Duration::from_millis(150),
        }
    }

    /// Time kept after the tool waves.
    pub fn after_waves(&self, translating_back: bool) -> Duration {
        self.compose
            + if translating_back {
                self.translate_out_reserve
            } else {
                Duration::ZERO
            }
    }

    /// Time kept after the guard: one wave and what follows it.
    pub fn after_guard(&self, translating_back: bool) -> Duration {
        self.wave + self.after_waves(translating_back)
    }
}

/// What the offline planner and composer need: they do no I/O.
pub const OFFLINE_STAGE: Duration = Duration::from_millis(50);
