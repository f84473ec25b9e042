//! Every budget of docs/DESIGN.md §2 in one typed value: derived from the vCPU count, overridable by environment
//! variables named `NAVIGATOR_<COMPONENT>_<LIMIT>`, validated, and printed once at start-up.

use serde::{Serialize, Serializer};
use std::time::Duration;

use super::{ConfigErrors, Reader};

fn as_millis<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u64(duration.as_millis() as u64)
}

/// One HTTP client's connection budget: idle connections kept per host, and how long a connection may take.
/// How many requests are in flight at once is the owning component's bulkhead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HttpBudgets {
    pub keepalive: usize,
    #[serde(serialize_with = "as_millis", rename = "connect_ms")]
    pub connect: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TranslateBudgets {
    pub in_flight: usize,
    pub cpu_pool: usize,
    /// How far below the async workers language detection runs (a nice value).
    pub cpu_niceness: u8,
    pub queue_bound: usize,
    #[serde(serialize_with = "as_millis", rename = "timeout_ms")]
    pub timeout: Duration,
    /// The DeepL client.
    pub http: HttpBudgets,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GuardBudgets {
    pub heuristic_pool: usize,
    pub ml_pool: usize,
    /// How far below the async workers the ML stage runs (a nice value), so refusals stay quick under load. The
    /// heuristic stage, under a millisecond of CPU against a 20 ms budget, runs at the workers' priority.
    pub cpu_niceness: u8,
    #[serde(serialize_with = "as_millis", rename = "heuristic_ms")]
    pub heuristic: Duration,
    #[serde(serialize_with = "as_millis", rename = "ml_ms")]
    pub ml: Duration,
    #[serde(serialize_with = "as_millis", rename = "total_ms")]
    pub total: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrchestratorBudgets {
    pub in_flight: usize,
    pub queue_bound: usize,
    /// The local server refuses a turn (429) while new work would queue longer than this for a CPU pool of the
    /// tools it hosts: admission, not the stage budgets, pays for CPU queueing.
    #[serde(serialize_with = "as_millis", rename = "cpu_queue_ms")]
    pub cpu_queue: Duration,
    /// Threads of the pool the extractive composer runs on, off the async workers.
    pub pool: usize,
    /// How far below the async workers the composer's jobs run (a nice value).
    pub cpu_niceness: u8,
    pub max_parallel_tools: usize,
    pub max_waves: usize,
    #[serde(serialize_with = "as_millis", rename = "wave_ms")]
    pub wave: Duration,
    #[serde(serialize_with = "as_millis", rename = "total_ms")]
    pub total: Duration,
    /// One model call of the LLM planner (before each wave) and of the LLM composer: sized to a chat model's P99 for
    /// a short tool call or answer, so realistic calls (300-900 ms) finish rather than fall back.
    #[serde(serialize_with = "as_millis", rename = "llm_plan_ms")]
    pub llm_plan: Duration,
    #[serde(serialize_with = "as_millis", rename = "llm_compose_ms")]
    pub llm_compose: Duration,
    /// The OpenAI-compatible chat client.
    pub http: HttpBudgets,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetrieveBudgets {
    pub db_pool: usize,
    /// How far below the async workers the local model's jobs run (a nice value).
    pub cpu_niceness: u8,
    #[serde(serialize_with = "as_millis", rename = "db_acquire_ms")]
    pub db_acquire: Duration,
    /// The OpenAI-compatible embeddings client.
    pub http: HttpBudgets,
    pub cache_entries: usize,
    #[serde(serialize_with = "as_millis", rename = "cache_ttl_ms")]
    pub cache_ttl: Duration,
    #[serde(serialize_with = "as_millis", rename = "cache_ms")]
    pub cache: Duration,
    #[serde(serialize_with = "as_millis", rename = "embed_ms")]
    pub embed: Duration,
    #[serde(serialize_with = "as_millis", rename = "knn_ms")]
    pub knn: Duration,
    #[serde(serialize_with = "as_millis", rename = "rerank_ms")]
    pub rerank: Duration,
    #[serde(serialize_with = "as_millis", rename = "total_ms")]
    pub total: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebSearchBudgets {
    pub max_concurrent: usize,
    pub queue_bound: usize,
    #[serde(serialize_with = "as_millis", rename = "search_ms")]
    pub search: Duration,
    #[serde(serialize_with = "as_millis", rename = "parse_ms")]
    pub parse: Duration,
    pub breaker_failures: u32,
    #[serde(serialize_with = "as_millis", rename = "breaker_recovery_ms")]
    pub breaker_recovery: Duration,
    pub breaker_probes: u32,
    /// The Tavily client.
    pub http: HttpBudgets,
}

/// Every budget of the system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Budgets {
    pub vcpus: usize,
    pub translate: TranslateBudgets,
    pub guard: GuardBudgets,
    pub orchestrator: OrchestratorBudgets,
    pub retrieve: RetrieveBudgets,
    pub web_search: WebSearchBudgets,
}

impl Budgets {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigErrors> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigErrors> {
        let mut read = Reader::new(&lookup);
        let detected = std::thread::available_parallelism().map_or(1, usize::from);
        let v = read.count("NAVIGATOR_VCPUS", detected, 1..=256);
        let on_lambda = lookup("AWS_LAMBDA_FUNCTION_NAME").is_some();
        // CPU work yields to the async workers, which answer refusals and replies (docs/PERFORMANCE.md). 0 also keeps
        // every CPU pool on tokio's blocking threads rather than threads of its own, as tests on a paused clock need.
        let cpu_niceness = read.count("NAVIGATOR_CPU_NICENESS", 10, 0..=19) as u8;

        let translate_in_flight = read.count("NAVIGATOR_TRANSLATE_IN_FLIGHT", 4 * v, 1..=1024);
        let translate = TranslateBudgets {
            in_flight: translate_in_flight,
            cpu_pool: read.count("NAVIGATOR_TRANSLATE_CPU_POOL", v.min(4), 1..=64),
            cpu_niceness,
            queue_bound: read.count("NAVIGATOR_TRANSLATE_QUEUE_BOUND", 2 * translate_in_flight, 0..=4096),
            timeout: read.millis("NAVIGATOR_TRANSLATE_TIMEOUT_MS", 800, 50..=10_000),
            http: read.http("NAVIGATOR_TRANSLATE", 800),
        };
        let guard = GuardBudgets {
            heuristic_pool: read.count("NAVIGATOR_GUARD_HEURISTIC_POOL", v.min(4), 1..=64),
            ml_pool: read.count("NAVIGATOR_GUARD_ML_POOL", v.min(8), 1..=64),
            cpu_niceness,
            heuristic: read.millis("NAVIGATOR_GUARD_HEURISTIC_MS", 20, 1..=1_000),
            ml: read.millis("NAVIGATOR_GUARD_ML_MS", 300, 1..=5_000),
            total: read.millis("NAVIGATOR_GUARD_TOTAL_MS", 600, 10..=10_000),
        };
        let orchestrator_in_flight = read.count("NAVIGATOR_ORCHESTRATOR_IN_FLIGHT", 2 * v, 1..=1024);
        let orchestrator = OrchestratorBudgets {
            in_flight: orchestrator_in_flight,
            queue_bound: read.count(
                "NAVIGATOR_ORCHESTRATOR_QUEUE_BOUND",
                2 * orchestrator_in_flight,
                0..=4096,
            ),
            cpu_queue: read.millis("NAVIGATOR_ORCHESTRATOR_CPU_QUEUE_MS", 50, 1..=10_000),
            pool: read.count("NAVIGATOR_ORCHESTRATOR_POOL", (v / 2).clamp(1, 8), 1..=64),
            cpu_niceness,
            max_parallel_tools: read.count("NAVIGATOR_ORCHESTRATOR_MAX_PARALLEL_TOOLS", 3, 1..=8),
            max_waves: read.count("NAVIGATOR_ORCHESTRATOR_MAX_WAVES", 2, 1..=4),
            wave: read.millis("NAVIGATOR_ORCHESTRATOR_WAVE_MS", 800, 50..=10_000),
            total: read.millis("NAVIGATOR_ORCHESTRATOR_TOTAL_MS", 3_000, 100..=30_000),
            llm_plan: read.millis("NAVIGATOR_ORCHESTRATOR_LLM_PLAN_MS", 1_000, 50..=30_000),
            llm_compose: read.millis("NAVIGATOR_ORCHESTRATOR_LLM_COMPOSE_MS", 1_000, 50..=30_000),
            http: read.http("NAVIGATOR_ORCHESTRATOR", 1_000),
        };
        let retrieve = RetrieveBudgets {
            // One invocation at a time per Lambda environment: 2 connections; a local server shares 8.
            db_pool: read.count("NAVIGATOR_RETRIEVE_DB_POOL", if on_lambda { 2 } else { 8 }, 1..=64),
            cpu_niceness,
            db_acquire: read.millis("NAVIGATOR_RETRIEVE_DB_ACQUIRE_MS", 1_000, 10..=30_000),
            http: read.http("NAVIGATOR_RETRIEVE", 2_000),
            cache_entries: read.count("NAVIGATOR_RETRIEVE_CACHE_ENTRIES", 1_024, 0..=1_000_000),
            cache_ttl: read.millis("NAVIGATOR_RETRIEVE_CACHE_TTL_MS", 300_000, 0..=86_400_000),
            cache: read.millis("NAVIGATOR_RETRIEVE_CACHE_MS", 10, 1..=1_000),
            embed: read.millis("NAVIGATOR_RETRIEVE_EMBED_MS", 150, 1..=10_000),
            knn: read.millis("NAVIGATOR_RETRIEVE_KNN_MS", 120, 1..=10_000),
            rerank: read.millis("NAVIGATOR_RETRIEVE_RERANK_MS", 80, 1..=10_000),
            total: read.millis("NAVIGATOR_RETRIEVE_TOTAL_MS", 200, 10..=30_000),
        };
        let web_concurrent = read.count("NAVIGATOR_WEB_SEARCH_MAX_CONCURRENT", (8 * v).clamp(12, 16), 1..=256);
        let web_search = WebSearchBudgets {
            max_concurrent: web_concurrent,
            queue_bound: read.count("NAVIGATOR_WEB_SEARCH_QUEUE_BOUND", 2 * web_concurrent, 0..=4096),
            search: read.millis("NAVIGATOR_WEB_SEARCH_SEARCH_MS", 800, 50..=10_000),
            parse: read.millis("NAVIGATOR_WEB_SEARCH_PARSE_MS", 120, 1..=5_000),
            breaker_failures: read.count("NAVIGATOR_WEB_SEARCH_BREAKER_FAILURES", 5, 1..=1_000) as u32,
            breaker_recovery: read.millis("NAVIGATOR_WEB_SEARCH_BREAKER_RECOVERY_MS", 30_000, 100..=600_000),
            breaker_probes: read.count("NAVIGATOR_WEB_SEARCH_BREAKER_PROBES", 3, 1..=100) as u32,
            http: read.http("NAVIGATOR_WEB_SEARCH", 800),
        };

        read.require(
            guard.heuristic + guard.ml <= guard.total,
            "NAVIGATOR_GUARD_TOTAL_MS",
            guard.total,
            "must hold the heuristic and ML stages (NAVIGATOR_GUARD_HEURISTIC_MS + NAVIGATOR_GUARD_ML_MS)",
        );
        read.require(
            orchestrator.wave < orchestrator.total,
            "NAVIGATOR_ORCHESTRATOR_WAVE_MS",
            orchestrator.wave,
            "must be shorter than NAVIGATOR_ORCHESTRATOR_TOTAL_MS",
        );
        read.require(
            orchestrator.llm_plan + orchestrator.llm_compose < orchestrator.total,
            "NAVIGATOR_ORCHESTRATOR_LLM_PLAN_MS",
            orchestrator.llm_plan,
            "with NAVIGATOR_ORCHESTRATOR_LLM_COMPOSE_MS, must leave time in NAVIGATOR_ORCHESTRATOR_TOTAL_MS",
        );

        read.finish(Self {
            vcpus: v,
            translate,
            guard,
            orchestrator,
            retrieve,
            web_search,
        })
    }

    /// Prints every budget once, as one structured log line.
    pub fn log(&self) {
        let json = serde_json::to_string(self).unwrap_or_default();
        tracing::info!(budgets = %json, "budgets");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn budgets(settings: &[(&str, &str)]) -> Result<Budgets, ConfigErrors> {
        let map: HashMap<String, String> = settings.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Budgets::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_follow_the_audit_for_two_vcpus() {
        let b = budgets(&[("NAVIGATOR_VCPUS", "2")]).unwrap();
        assert_eq!(
            (b.translate.in_flight, b.translate.cpu_pool, b.translate.queue_bound),
            (8, 2, 16)
        );
        assert_eq!(b.translate.timeout, Duration::from_millis(800));
        assert_eq!((b.guard.heuristic_pool, b.guard.ml_pool), (2, 2));
        assert_eq!(
            (b.guard.heuristic, b.guard.ml, b.guard.total),
            (ms(20), ms(300), ms(600))
        );
        assert_eq!(
            (
                b.orchestrator.in_flight,
                b.orchestrator.queue_bound,
                b.orchestrator.pool
            ),
            (4, 8, 1)
        );
        assert_eq!((b.orchestrator.max_parallel_tools, b.orchestrator.max_waves), (3, 2));
        assert_eq!((b.orchestrator.wave, b.orchestrator.total), (ms(800), ms(3000)));
        assert_eq!(
            (b.orchestrator.llm_plan, b.orchestrator.llm_compose),
            (ms(1000), ms(1000))
        );
        assert_eq!(b.retrieve.db_pool, 8);
        assert_eq!(
            (b.retrieve.cache, b.retrieve.embed, b.retrieve.knn, b.retrieve.rerank),
            (ms(10), ms(150), ms(120), ms(80))
        );
        assert_eq!(b.web_search.max_concurrent, 16);
        assert_eq!(
            (
                b.web_search.breaker_failures,
                b.web_search.breaker_recovery,
                b.web_search.breaker_probes
            ),
            (5, ms(30_000), 3)
        );
    }

    #[test]
    fn pools_scale_with_vcpus_within_their_caps() {
        let b = budgets(&[("NAVIGATOR_VCPUS", "16")]).unwrap();
        assert_eq!((b.translate.in_flight, b.translate.cpu_pool), (64, 4));
        assert_eq!((b.guard.heuristic_pool, b.guard.ml_pool), (4, 8));
        assert_eq!((b.orchestrator.in_flight, b.orchestrator.pool), (32, 8));
        assert_eq!(b.web_search.max_concurrent, 16);
        let one = budgets(&[("NAVIGATOR_VCPUS", "1")]).unwrap();
        assert_eq!((one.orchestrator.pool, one.web_search.max_concurrent), (1, 12));
    }

    #[test]
    fn cpu_work_yields_to_the_async_workers_unless_told_otherwise() {
        let b = budgets(&[]).unwrap();
        let niceness = |b: &Budgets| {
            [
                b.translate.cpu_niceness,
                b.guard.cpu_niceness,
                b.orchestrator.cpu_niceness,
                b.retrieve.cpu_niceness,
            ]
        };
        assert_eq!(niceness(&b), [10; 4]);
        let equal = budgets(&[("NAVIGATOR_CPU_NICENESS", "0")]).unwrap();
        assert_eq!(niceness(&equal), [0; 4]);
        let errors = budgets(&[("NAVIGATOR_CPU_NICENESS", "20")]).unwrap_err().to_string();
        assert!(errors.contains("NAVIGATOR_CPU_NICENESS"), "{errors}");
    }

    #[test]
    fn a_lambda_environment_gets_a_small_database_pool() {
        let b = budgets(&[("AWS_LAMBDA_FUNCTION_NAME", "retrieve")]).unwrap();
        assert_eq!(b.retrieve.db_pool, 2);
    }

    #[test]
    fn overrides_win() {
        let b = budgets(&[
            ("NAVIGATOR_ORCHESTRATOR_WAVE_MS", "500"),
            ("NAVIGATOR_WEB_SEARCH_BREAKER_FAILURES", "7"),
        ])
        .unwrap();
        assert_eq!(b.orchestrator.wave, ms(500));
        assert_eq!(b.web_search.breaker_failures, 7);
    }

    #[test]
    fn bad_values_are_errors_that_name_the_variable() {
        let errors = budgets(&[
            ("NAVIGATOR_ORCHESTRATOR_WAVE_MS", "fast"),
            ("NAVIGATOR_TRANSLATE_IN_FLIGHT", "0"),
            ("NAVIGATOR_GUARD_ML_MS", "-5"),
        ])
        .unwrap_err();
        let text = errors.to_string();
        for variable in [
            "NAVIGATOR_ORCHESTRATOR_WAVE_MS",
            "NAVIGATOR_TRANSLATE_IN_FLIGHT",
            "NAVIGATOR_GUARD_ML_MS",
        ] {
            assert!(text.contains(variable), "{text}");
        }
        assert_eq!(errors.0.len(), 3);
        assert!(text.contains("between 1 and 1024"), "{text}");
    }

    #[test]
    fn inconsistent_budgets_are_rejected() {
        let errors = budgets(&[("NAVIGATOR_GUARD_ML_MS", "700")]).unwrap_err();
        assert_eq!(errors.0[0].variable, "NAVIGATOR_GUARD_TOTAL_MS");
        let errors = budgets(&[("NAVIGATOR_ORCHESTRATOR_WAVE_MS", "3000")]).unwrap_err();
        assert_eq!(errors.0[0].variable, "NAVIGATOR_ORCHESTRATOR_WAVE_MS");
    }

    #[test]
    fn each_http_client_has_its_own_budget() {
        let b = budgets(&[("NAVIGATOR_WEB_SEARCH_HTTP_KEEPALIVE", "4")]).unwrap();
        assert_eq!(b.web_search.http.keepalive, 4);
        assert_eq!((b.retrieve.http.keepalive, b.orchestrator.http.keepalive), (10, 10));
        assert_eq!(b.retrieve.http.connect, ms(2_000));
        assert_eq!(b.web_search.http.connect, ms(800));
    }

    #[test]
    fn budgets_print_as_milliseconds() {
        let json = serde_json::to_value(budgets(&[]).unwrap()).unwrap();
        assert_eq!(json["orchestrator"]["wave_ms"], 800);
        assert_eq!(json["retrieve"]["http"]["connect_ms"], 2_000);
        assert_eq!(json["web_search"]["breaker_recovery_ms"], 30_000);
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }
}
