//! Building a [`Navigator`] from configuration (DESIGN.md §8), once per execution environment.

use aws_smithy_types::retry::RetryConfig;
use navigator_platform::NavigatorError;
use navigator_platform::config::Budgets;
use navigator_platform::secrets::{OPENAI_API_KEY, SecretStore};
use std::sync::Arc;
use std::time::Duration;

use crate::llm::ChatModel;
use crate::llm::agent::{LlmComposer, LlmPlanner};
use crate::llm::bedrock::BedrockChat;
use crate::llm::openai::OpenAiChat;

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

/// The default models.
pub const DEFAULT_OPENAI_MODEL: &str = "gpt-4o-mini";
pub const DEFAULT_BEDROCK_MODEL: &str = "amazon.nova-lite-v1:0";
const DEFAULT_OPENAI_BASE_URL: &str = "https://api.openai.com/v1";

/// AWS SDK calls on the chat path: at most two attempts, the second after ≤ 100 ms (DESIGN.md §9); the caller's
/// deadline bounds the whole call.
pub fn aws_retry_config() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(2)
        .with_initial_backoff(Duration::from_millis(100))
        .with_max_backoff(Duration::from_millis(100))
}

/// `LLM_PROVIDER`: `none` (the default: the rule planner and the extractive composer), `openai` (an
/// OpenAI-compatible chat API at `OPENAI_BASE_URL`, key `OPENAI_API_KEY` / `OPENAI_SECRET_ARN`) or `bedrock`
/// (Converse); `LLM_MODEL` names the model.
pub async fn brains_from_env(budgets: &Budgets) -> Result<Brains, NavigatorError> {
    let provider = std::env::var("LLM_PROVIDER").unwrap_or_default();
    let model_name = std::env::var("LLM_MODEL").ok().filter(|m| !m.trim().is_empty());
    let model: Arc<dyn ChatModel> = match provider.trim() {
        "" | "none" => return Ok(offline_brains(budgets)),
        "openai" => {
            let secrets = SecretStore::from_env();
            let key = secrets.get(&OPENAI_API_KEY).await?;
            let base_url = std::env::var("OPENAI_BASE_URL").unwrap_or_else(|_| DEFAULT_OPENAI_BASE_URL.into());
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(budgets.retrieve.http_keepalive)
                .build()
                .map_err(NavigatorError::internal)?;
            let model = model_name.as_deref().unwrap_or(DEFAULT_OPENAI_MODEL);
            Arc::new(OpenAiChat::new(client, &base_url, key, model))
        }
        "bedrock" => {
            let shared = aws_config::from_env().retry_config(aws_retry_config()).load().await;
            let model = model_name.as_deref().unwrap_or(DEFAULT_BEDROCK_MODEL);
            Arc::new(BedrockChat::new(aws_sdk_bedrockruntime::Client::new(&shared), model))
        }
        other => {
            return Err(NavigatorError::internal(format!(
                "LLM_PROVIDER={other:?}: expected none, openai or bedrock"
            )));
        }
    };
    tracing::info!(model = model.name(), "the planner and composer use a chat model");
    Ok(Brains {
        planner: Arc::new(LlmPlanner::new(Arc::clone(&model))),
        composer: Arc::new(LlmComposer::new(model)),
        budgets: TurnBudgets::from_budgets(budgets, budgets.orchestrator.llm_plan, budgets.orchestrator.llm_compose),
    })
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
