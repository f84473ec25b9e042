//! One module per subcommand, plus what they share.

pub mod ask;
pub mod ask_endpoint;
pub mod config;
pub mod eval_answers;
pub mod eval_guard;
pub mod eval_languages;
pub mod eval_retrieval;
pub mod eval_windows;
pub mod guard;
pub mod ingest;
pub mod migrate;
pub mod search;
pub mod serve;
pub mod translate;
pub mod websearch;

use indicatif::{ProgressBar, ProgressStyle};
use navigator_platform::config::{Budgets, Settings};
use navigator_platform::contracts::ToolName;
use navigator_platform::owner::Owner;
use navigator_platform::secrets::SecretStore;
use navigator_retrieval::embed::Embedders;
use navigator_retrieval::setup::{self, ConfiguredRetriever, SAMPLE_PLAN, demo_plan};
use orchestrator::{InProcess, Navigator};
use retrieve::Retrieve;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;

/// Retrieval as configured, with the sample plan ingested as the demo plan's document.
pub async fn retriever_with_sample() -> Result<(Settings, ConfiguredRetriever), String> {
    let settings = Settings::from_env().map_err(|e| e.to_string())?;
    let retriever = setup::from_config(&settings, &SecretStore::from_env())
        .await
        .map_err(|e| e.to_string())?;
    let bar = progress_bar("ingesting the sample plan");
    let report = setup::ensure_ingested(
        &retriever,
        &Owner::Plan(demo_plan()),
        Path::new(SAMPLE_PLAN),
        |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        },
    )
    .await
    .map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    if let Some(report) = report {
        eprintln!(
            "ingested the sample plan: {} pages, {} chunks",
            report.pages, report.chunks
        );
    }
    Ok((settings, retriever))
}

/// A whole navigator in this process over the embedded defaults (or what the environment configures), with the
/// sample plan ingested as the demo plan's document.
pub async fn navigator_with_sample() -> Result<(Budgets, Navigator), String> {
    let (settings, tools) = in_process_tools().await?;
    let navigator = orchestrator::navigator(&settings, Arc::new(tools))
        .await
        .map_err(|e| e.to_string())?;
    Ok((settings.budgets, navigator))
}

/// The tools this process can host, over the sample plan.
pub async fn in_process_tools() -> Result<(Settings, InProcess), String> {
    let (settings, tools, _) = in_process_tools_sharing_retrieval().await?;
    Ok((settings, tools))
}

/// The tools this process can host, over the sample plan, and the retriever the retrieve tool searches with.
pub async fn in_process_tools_sharing_retrieval() -> Result<(Settings, InProcess, Arc<ConfiguredRetriever>), String> {
    let (settings, retriever) = retriever_with_sample().await?;
    let retriever = Arc::new(retriever);
    let Settings { budgets, providers } = &settings;
    // Retrieval's local sentence model, if it has one, is the guard's too: one copy of the weights in memory.
    let sentences = match retriever.embedder() {
        Embedders::Local(model) => Some(model.clone()),
        _ => None,
    };
    let guard = ::guard::Guard::from_config_sharing(&budgets.guard, providers.guard_ml, sentences)
        .await
        .map_err(|e| e.to_string())?;
    let web = web_search::WebSearch::from_env(&budgets.web_search)
        .await
        .map_err(|e| e.to_string())?;
    let translator =
        ::translate::Translate::from_config(&budgets.translate, &providers.translate, &SecretStore::from_env())
            .await
            .map_err(|e| e.to_string())?;
    let tools = InProcess::new()
        .with(ToolName::Translate, translator)
        .with(ToolName::Guard, guard)
        .with(ToolName::Retrieve, Retrieve::shared(Arc::clone(&retriever)))
        .with(ToolName::WebSearch, web);
    Ok((settings, tools, retriever))
}

/// A progress bar on a terminal; hidden when stderr is not one (CI, pipes).
pub fn progress_bar(message: &'static str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0).with_message(message);
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} chunks ({eta})") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}
