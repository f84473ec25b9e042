//! The retrieve tool: the member's best chunks for a query, from their own ready documents only.

use navigator_lambda::Tool;
use navigator_platform::NavigatorError;
use navigator_platform::config::Settings;
use navigator_platform::contracts::{RetrieveInput, RetrieveOutput, ToolName};
use navigator_platform::envelope::Invocation;
use navigator_platform::secrets::SecretStore;
use navigator_resilience::CpuPool;
use navigator_retrieval::embed::{Embedder, Embedders};
use navigator_retrieval::retriever::{DEFAULT_TOP_K, Retriever};
use navigator_retrieval::setup;
use navigator_retrieval::store::{ChunkStore, Stores};
use std::sync::Arc;

/// The retrieve tool over a retriever built once per execution environment.
pub struct Retrieve<E = Embedders, S = Stores> {
    retriever: Arc<Retriever<E, S>>,
}

impl<E, S> Clone for Retrieve<E, S> {
    fn clone(&self) -> Self {
        Self {
            retriever: Arc::clone(&self.retriever),
        }
    }
}

impl Retrieve {
    /// The store and embedder the configuration selects (docs/DESIGN.md §8).
    pub async fn from_config(settings: &Settings) -> Result<Self, NavigatorError> {
        Ok(Self::new(setup::from_config(settings, &SecretStore::from_env()).await?))
    }
}

impl<E: Embedder, S: ChunkStore> Retrieve<E, S> {
    pub fn new(retriever: Retriever<E, S>) -> Self {
        Self::shared(Arc::new(retriever))
    }

    /// Over a retriever something else in this process uses too (the local documents API, whose ingests and
    /// deletions must drop this tool's cached results).
    pub fn shared(retriever: Arc<Retriever<E, S>>) -> Self {
        Self { retriever }
    }
}

impl<E: Embedder + 'static, S: ChunkStore + 'static> Tool for Retrieve<E, S> {
    const NAME: ToolName = ToolName::Retrieve;
    type Input = RetrieveInput;
    type Output = RetrieveOutput;

    async fn call(&self, invocation: Invocation<RetrieveInput>) -> Result<RetrieveOutput, NavigatorError> {
        // The envelope carries the authenticated member and their plan; an input naming anyone else is refused.
        if let Some(caller) = invocation.readers() {
            if caller.member != invocation.input.user_id {
                return Err(NavigatorError::invalid(
                    "input.user_id must be the authenticated member",
                ));
            }
            if caller.plan != invocation.input.plan_id {
                return Err(NavigatorError::invalid(
                    "input.plan_id must be the authenticated member's plan",
                ));
            }
        }
        let input = invocation.input;
        self.retriever
            .search_within(
                &input.readers(),
                &input.query,
                input.section.as_ref(),
                input.top_k.unwrap_or(DEFAULT_TOP_K),
                invocation.deadline,
            )
            .await
    }

    fn cpu_pools(&self) -> Vec<CpuPool> {
        self.retriever.embedder().cpu_pool().into_iter().collect()
    }
}
