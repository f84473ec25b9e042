//! Building retrieval from configuration (docs/DESIGN.md §8): which store, which embedder, the demo member and the
//! sample plan.

use navigator_platform::NavigatorError;
use navigator_platform::config::{Budgets, EmbeddingsProvider, Settings};
use navigator_platform::owner::{Owner, PlanId, Readers};
use navigator_platform::secrets::{OPENAI_API_KEY, SecretStore};
use navigator_resilience::CpuPool;
use std::path::Path;
use uuid::Uuid;

use crate::adapter::QueryAdapter;
use crate::db::{PoolSettings, connect_options, pg_pool, watch_pool};
use crate::document;
use crate::embed::{BedrockEmbedder, DEFAULT_REMOTE_CALLS_IN_FLIGHT, Embedders, MiniLm, OpenAiEmbedder, model_dir};
use crate::ingest::{IngestReport, document_id, ingest};
use crate::retriever::Retriever;
use crate::store::{ChunkStore, PgStore, SqliteStore, Stores};

/// The member local runs ask as: `navigator search`, `ask` and `serve` use it by default.
pub const DEMO_USER_ID: Uuid = Uuid::from_u128(0xd3e0_d3e0_0000_4000_8000_0000_0000_0001);

/// The sample plan's id: the demo member's default plan, whose document is the sample plan.
pub const DEMO_PLAN_ID: &str = "scan-classic-hmo-2025";

/// The demo member's plan.
pub fn demo_plan() -> PlanId {
    PlanId::parse(DEMO_PLAN_ID).expect("the demo plan id is valid")
}

/// The demo member of the demo plan: whose documents local runs read.
pub fn demo_readers() -> Readers {
    Readers::new(DEMO_USER_ID, Some(demo_plan()))
}

/// The sample plan shipped with the repository: the 2025 SCAN Classic (HMO) Evidence of Coverage.
pub const SAMPLE_PLAN: &str = "data/sample/scan_classic_hmo.pdf";

/// Vector dimensions the PostgreSQL schema indexes (one HNSW index each).
pub const INDEXED_DIMENSIONS: [usize; 2] = [384, 1024];

/// Retrieval as configured.
pub type ConfiguredRetriever = Retriever<Embedders, Stores>;

pub use navigator_platform::config::data_dir;

/// Builds the store and embedder the configuration selects.
pub async fn from_config(settings: &Settings, secrets: &SecretStore) -> Result<ConfiguredRetriever, NavigatorError> {
    let budgets = &settings.budgets;
    let store = match connect_options(secrets).await? {
        Some(options) => {
            let settings = PoolSettings::new(
                budgets.retrieve.db_pool,
                budgets.retrieve.db_acquire,
                "navigator-retrieve",
            );
            let pool = pg_pool(options, &settings);
            watch_pool(&pool, "postgres");
            Stores::Postgres(PgStore::new(pool))
        }
        None => {
            let store = SqliteStore::open(&data_dir()).await?;
            watch_pool(store.pool(), "sqlite");
            Stores::Sqlite(store)
        }
    };
    let embedder = embedder(settings.providers.embeddings, budgets, secrets).await?;
    adapted(Retriever::new(embedder, store, budgets.retrieve.clone()))
}

/// `retriever` with the query adapter `RETRIEVE_QUERY_ADAPTER` names: unset or `embedded`, the one shipped for the
/// local sentence model (none for another embedder); `off`, none; otherwise the path of one trained by
/// `train-query-adapter`, which must be for the configured embedder's model.
pub fn adapted<S: ChunkStore>(retriever: Retriever<Embedders, S>) -> Result<Retriever<Embedders, S>, NavigatorError> {
    let local = matches!(retriever.embedder(), Embedders::Local(_));
    match query_adapter(std::env::var("RETRIEVE_QUERY_ADAPTER").ok().as_deref(), local)? {
        Some(adapter) => retriever.with_adapter(adapter),
        None => Ok(retriever),
    }
}

/// The adapter `choice` (`RETRIEVE_QUERY_ADAPTER`) names, for a local embedder or another.
fn query_adapter(choice: Option<&str>, local: bool) -> Result<Option<QueryAdapter>, NavigatorError> {
    match choice.map(str::trim) {
        None | Some("" | "embedded") if local => Ok(Some(QueryAdapter::embedded()?)),
        None | Some("" | "embedded" | "off") => Ok(None),
        Some(path) => {
            let bytes = std::fs::read(path)
                .map_err(|e| NavigatorError::internal(format!("RETRIEVE_QUERY_ADAPTER={path}: {e}")))?;
            QueryAdapter::from_bytes(&bytes)
                .map(Some)
                .map_err(|e| NavigatorError::internal(format!("RETRIEVE_QUERY_ADAPTER={path}: {e}")))
        }
    }
}

/// `EMBEDDINGS_CALLS_IN_FLIGHT`: a remote embedder's calls in flight during an ingest.
fn calls_in_flight() -> Result<usize, NavigatorError> {
    parse_calls_in_flight(std::env::var("EMBEDDINGS_CALLS_IN_FLIGHT").ok().as_deref())
}

/// Unset: the default; otherwise a whole number from 1 to 64.
fn parse_calls_in_flight(raw: Option<&str>) -> Result<usize, NavigatorError> {
    let Some(raw) = raw else {
        return Ok(DEFAULT_REMOTE_CALLS_IN_FLIGHT);
    };
    match raw.trim().parse::<usize>() {
        Ok(calls) if (1..=64).contains(&calls) => Ok(calls),
        _ => Err(NavigatorError::internal(format!(
            "EMBEDDINGS_CALLS_IN_FLIGHT={raw:?}: must be a whole number from 1 to 64"
        ))),
    }
}

/// `EMBEDDINGS_DIMENSIONS`, else the provider's default; it must be a dimension the schema indexes.
fn dimensions(default: usize) -> Result<usize, NavigatorError> {
    let dimensions = match std::env::var("EMBEDDINGS_DIMENSIONS") {
        Ok(raw) => raw.trim().parse().map_err(|_| {
            NavigatorError::internal(format!(
                "EMBEDDINGS_DIMENSIONS={raw:?}: must be one of {INDEXED_DIMENSIONS:?}"
            ))
        })?,
        Err(_) => default,
    };
    if !INDEXED_DIMENSIONS.contains(&dimensions) {
        return Err(NavigatorError::internal(format!(
            "EMBEDDINGS_DIMENSIONS={dimensions}: must be one of {INDEXED_DIMENSIONS:?}"
        )));
    }
    Ok(dimensions)
}

async fn embedder(
    provider: EmbeddingsProvider,
    budgets: &Budgets,
    secrets: &SecretStore,
) -> Result<Embedders, NavigatorError> {
    match provider {
        EmbeddingsProvider::Local => {
            let threads = budgets.vcpus.clamp(1, 4);
            let pool = CpuPool::new("embed", threads, 4 * threads).niced(budgets.retrieve.cpu_niceness);
            Ok(Embedders::Local(MiniLm::load(&model_dir(&data_dir()), pool)?))
        }
        EmbeddingsProvider::OpenAi => {
            let base = std::env::var("OPENAI_BASE_URL").unwrap_or_else(|_| "https://api.openai.com/v1".into());
            let model = std::env::var("EMBEDDINGS_MODEL").unwrap_or_else(|_| "text-embedding-3-small".into());
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(budgets.retrieve.http.keepalive)
                .connect_timeout(budgets.retrieve.http.connect)
                .build()
                .map_err(|e| NavigatorError::internal(format!("HTTP client: {e}")))?;
            let key = secrets.get(&OPENAI_API_KEY).await?;
            Ok(Embedders::OpenAi(
                OpenAiEmbedder::new(client, &base, key, &model, dimensions(384)?)
                    .with_calls_in_flight(calls_in_flight()?),
            ))
        }
        EmbeddingsProvider::Bedrock => {
            let model = std::env::var("EMBEDDINGS_MODEL").unwrap_or_else(|_| "amazon.titan-embed-text-v2:0".into());
            let config = navigator_platform::aws::load().await;
            let client = aws_sdk_bedrockruntime::Client::new(&config);
            Ok(Embedders::Bedrock(
                BedrockEmbedder::new(client, &model, dimensions(1024)?).with_calls_in_flight(calls_in_flight()?),
            ))
        }
    }
}

/// Ingests `path` for `owner` unless that exact file is already ready for them.
pub async fn ensure_ingested(
    retriever: &ConfiguredRetriever,
    owner: &Owner,
    path: &Path,
    progress: impl Fn(usize, usize),
) -> Result<Option<IngestReport>, NavigatorError> {
    let bytes = tokio::fs::read(path)
        .await
        .map_err(|e| NavigatorError::invalid(format!("cannot read {}: {e}", path.display())))?;
    let sha = document::sha256_hex(&bytes);
    if retriever.store().is_ready(document_id(owner, &sha)).await? {
        return Ok(None);
    }
    let path = path.to_path_buf();
    let source = tokio::task::spawn_blocking(move || document::from_file_bytes(&path, &bytes))
        .await
        .map_err(|e| NavigatorError::internal(format!("extraction task: {e}")))??;
    let report = ingest(retriever.embedder(), retriever.store(), owner, &source, progress).await?;
    retriever.invalidate_owner(owner);
    Ok(Some(report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_adapter_reads_the_local_models_queries_unless_switched_off() {
        for choice in [None, Some(""), Some("embedded")] {
            assert!(query_adapter(choice, true).unwrap().is_some(), "{choice:?}");
            assert!(
                query_adapter(choice, false).unwrap().is_none(),
                "another embedder: {choice:?}"
            );
        }
        assert!(query_adapter(Some("off"), true).unwrap().is_none());
        let missing = query_adapter(Some("/nonexistent/adapter.bin"), true)
            .unwrap_err()
            .to_string();
        assert!(missing.contains("RETRIEVE_QUERY_ADAPTER"), "{missing}");
        let not_one = std::env::temp_dir().join(format!("not-an-adapter-{}", std::process::id()));
        std::fs::write(&not_one, b"hello").unwrap();
        let refused = query_adapter(not_one.to_str(), true).unwrap_err().to_string();
        std::fs::remove_file(&not_one).unwrap();
        assert!(refused.contains("not a query adapter"), "{refused}");
    }

    #[test]
    fn calls_in_flight_default_when_unset_and_name_the_variable_when_wrong() {
        assert_eq!(parse_calls_in_flight(None).unwrap(), DEFAULT_REMOTE_CALLS_IN_FLIGHT);
        assert_eq!(parse_calls_in_flight(Some(" 8 ")).unwrap(), 8);
        for wrong in ["0", "65", "four", "-1", ""] {
            let error = parse_calls_in_flight(Some(wrong)).unwrap_err().to_string();
            assert!(error.contains("EMBEDDINGS_CALLS_IN_FLIGHT"), "{wrong}: {error}");
        }
    }
}
