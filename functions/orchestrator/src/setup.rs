//! Building a [`Navigator`] from configuration (DESIGN.md §8), once per execution environment.

use navigator_platform::NavigatorError;
use navigator_platform::config::Budgets;
use std::sync::Arc;

use crate::compose::Composer;
use crate::compose::extractive::ExtractiveComposer;
use crate::plan::Planner;
use crate::plan::rules::RulePlanner;
use crate::tools::lambda_invoke::LambdaInvoke;
use crate::tools::{ToolInvoker, ToolName, Tools};
use crate::turn::budget::OFFLINE_STAGE;
use crate::turn::{Navigator, TurnBudgets};

/// The planner and composer the environment selects, with the stage budgets they need.
pub struct Brains {
    pub planner: Arc<dyn Planner>,
    pub composer: Arc<dyn Composer>,
    pub budgets: TurnBudgets,
}

/// `LLM_PROVIDER=none` (the default): the rule planner and the extractive composer.
pub async fn brains_from_env(budgets: &Budgets) -> Result<Brains, NavigatorError> {
    let provider = std::env::var("LLM_PROVIDER").unwrap_or_default();
    match provider.trim() {
        "" | "none" => Ok(offline_brains(budgets)),
        other => Err(NavigatorError::internal(format!(
            "LLM_PROVIDER={other:?}: expected none, openai or bedrock"
        ))),
    }
}

pub fn offline_brains(budgets: &Budgets) -> Brains {
    Brains {
        planner: Arc::new(RulePlanner),
        composer: Arc::new(ExtractiveComposer::default()),
        budgets: TurnBudgets::from_budgets(budgets, OFFLINE_STAGE, OFFLINE_STAGE),
    }
}

/// A navigator over `invoker` with the configured planner and composer.
pub async fn navigator(budgets: &Budgets, invoker: Arc<dyn ToolInvoker>) -> Result<Navigator, NavigatorError> {
    let brains = brains_from_env(budgets).await?;
    for tool in ToolName::ALL {
        if !invoker.provides(tool) {
            tracing::warn!(
                tool = tool.as_str(),
                "tool not configured; turns will name it in degraded"
            );
        }
    }
    Ok(Navigator::new(
        Tools::new(invoker),
        brains.planner,
        brains.composer,
        brains.budgets,
    ))
}

/// The orchestrator Lambda's navigator: tools reached through Lambda `Invoke` (`TOOL_INVOKER=lambda`, the only
/// invoker a Lambda can use: the in-process tools live in the CLI).
pub async fn lambda_navigator(budgets: &Budgets) -> Result<Navigator, NavigatorError> {
    let kind = std::env::var("TOOL_INVOKER").unwrap_or_else(|_| "lambda".into());
    if kind.trim() != "lambda" {
        return Err(NavigatorError::internal(format!(
            "TOOL_INVOKER={kind:?}: the orchestrator function reaches its tools through Lambda; use TOOL_INVOKER=lambda"
        )));
    }
    navigator(budgets, Arc::new(LambdaInvoke::from_env().await)).await
}
