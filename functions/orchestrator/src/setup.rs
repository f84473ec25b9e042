//! Building a [`Navigator`] from configuration (docs/DESIGN.md §8), once per execution environment.

use navigator_platform::NavigatorError;
use navigator_platform::config::{Budgets, LlmProvider, Settings, ToolInvokerKind};
use navigator_platform::contracts::ToolName;
use navigator_platform::secrets::{OPENAI_API_KEY, SecretStore};
use std::sync::Arc;

use crate::agent::{LlmComposer, LlmPlanner};
use crate::llm::{BedrockChat, ChatModel, OpenAiChat};
use crate::tools::{LambdaInvoke, ToolInvoker, Tools};
use crate::turn::{Navigator, TurnBudgets};

/// The default models.
pub const DEFAULT_OPENAI_MODEL: &str = "gpt-4o-mini";
pub const DEFAULT_BEDROCK_MODEL: &str = "amazon.nova-lite-v1:0";
const DEFAULT_OPENAI_BASE_URL: &str = "https://api.openai.com/v1";

/// The chat model `LLM_PROVIDER` names: `openai` (an OpenAI-compatible chat API at `OPENAI_BASE_URL`, key
/// `OPENAI_API_KEY` / `OPENAI_SECRET_ARN`) or `bedrock` (Converse); `LLM_MODEL` names the model. `none` is no
/// model: the rule planner and the extractive composer.
async fn chat_model(settings: &Settings) -> Result<Option<Arc<dyn ChatModel>>, NavigatorError> {
    let model_name = std::env::var("LLM_MODEL").ok().filter(|m| !m.trim().is_empty());
    let model: Arc<dyn ChatModel> = match settings.providers.llm {
        LlmProvider::None => return Ok(None),
        LlmProvider::OpenAi => {
            let key = SecretStore::from_env().get(&OPENAI_API_KEY).await?;
            let base_url = std::env::var("OPENAI_BASE_URL").unwrap_or_else(|_| DEFAULT_OPENAI_BASE_URL.into());
            let http = settings.budgets.orchestrator.http;
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(http.keepalive)
                .connect_timeout(http.connect)
                .build()
                .map_err(NavigatorError::internal)?;
            let model = model_name.as_deref().unwrap_or(DEFAULT_OPENAI_MODEL);
            Arc::new(OpenAiChat::new(client, &base_url, key, model))
        }
        LlmProvider::Bedrock => {
            let shared = navigator_platform::aws::load().await;
            let model = model_name.as_deref().unwrap_or(DEFAULT_BEDROCK_MODEL);
            Arc::new(BedrockChat::new(aws_sdk_bedrockruntime::Client::new(&shared), model))
        }
    };
    tracing::info!(model = model.name(), "the planner and composer use a chat model");
    Ok(Some(model))
}

/// A navigator over `invoker` with the configured planner and composer.
pub async fn navigator(settings: &Settings, invoker: Arc<dyn ToolInvoker>) -> Result<Navigator, NavigatorError> {
    for tool in ToolName::ALL {
        if !invoker.provides(tool) {
            tracing::warn!(
                tool = tool.as_str(),
                "tool not configured; turns will name it in degraded"
            );
        }
    }
    let Some(model) = chat_model(settings).await? else {
        return Ok(Navigator::offline(invoker, &settings.budgets));
    };
    Ok(Navigator::new(
        Tools::new(invoker),
        Arc::new(LlmPlanner::new(Arc::clone(&model))),
        Arc::new(LlmComposer::new(model)),
        llm_budgets(&settings.budgets),
    ))
}

fn llm_budgets(budgets: &Budgets) -> TurnBudgets {
    let orchestrator = &budgets.orchestrator;
    TurnBudgets::from_budgets(budgets, orchestrator.llm_plan, orchestrator.llm_compose)
}

/// The orchestrator Lambda's navigator: tools reached through Lambda `Invoke` (`TOOL_INVOKER=lambda` or unset, the
/// only invoker a Lambda can use: the in-process tools live in the CLI).
pub async fn lambda_navigator(settings: &Settings) -> Result<Navigator, NavigatorError> {
    if settings.providers.tool_invoker == Some(ToolInvokerKind::InProcess) {
        return Err(NavigatorError::internal(
            "TOOL_INVOKER=in-process: the orchestrator function reaches its tools through Lambda; use TOOL_INVOKER=lambda",
        ));
    }
    navigator(settings, Arc::new(LambdaInvoke::from_env().await)).await
}
