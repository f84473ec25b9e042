//! Retrieval latency on this machine, printed as P50/P95/P99.
//!
//! `cargo bench -p navigator-tests --bench retrieval` measures:
//! 1. the embedded default end to end (local model with its query adapter + SQLite, sample plan, the dev questions,
//!    result cache off), one query at a time and 8 at once, and the adapter's map of one vector alone;
//! 2. with `NAVIGATOR_BENCH_DATABASE_URL` set, PostgreSQL KNN over 800k synthetic 384-d chunks: 1,000 plans of 700
//!    chunks and 10,000 member uploads of 10, each search filtered to one plan and one member (`owner = ANY`, as
//!    retrieval searches), plus recall@10 against an exact scan.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: a panic is a failed run

use navigator_platform::config::Budgets;
use navigator_platform::owner::Owner;
use navigator_resilience::{CpuPool, Deadline};
use navigator_retrieval::adapter::QueryAdapter;
use navigator_retrieval::embed::{Embedder, MiniLm};
use navigator_retrieval::retriever::Retriever;
use navigator_retrieval::setup::{SAMPLE_PLAN, demo_plan, demo_readers};
use navigator_retrieval::store::SqliteStore;
use navigator_tests::print_percentiles;
use sqlx::postgres::PgPoolOptions;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

const QUESTIONS: &[&str] = &[
    "How much is a visit to a specialist?",
    "What's the most I could pay out of pocket in a year?",
    "If I need an ambulance, what do I pay?",
    "How much do hearing aids cost with this plan?",
    "Is there a nurse I can call at night?",
    "Do I get an allowance for over-the-counter items?",
    "What does the emergency room cost?",
    "How do I appeal a denied claim?",
];

async fn embedded() {
    if std::env::var_os("NAVIGATOR_BENCH_SKIP_EMBEDDED").is_some() {
        return;
    }
    let model_dir =
        PathBuf::from(std::env::var("NAVIGATOR_MODEL_DIR").unwrap_or(".navigator/models/all-MiniLM-L6-v2".into()));
    let data_dir = std::env::temp_dir().join("navigator-bench");
    let mut budgets = Budgets::from_lookup(|_| None).unwrap().retrieve;
    budgets.cache_entries = 0; // every query pays for embedding and search
    budgets.embed = Duration::from_secs(5);
    budgets.knn = Duration::from_secs(5);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let model = MiniLm::load(&root.join(&model_dir), CpuPool::new("bench-embed", 2, 64)).unwrap();
    let store = SqliteStore::open(&data_dir).await.unwrap();
    let source = navigator_retrieval::document::load(&root.join(SAMPLE_PLAN)).unwrap();
    navigator_retrieval::ingest::ingest(&model, &store, &Owner::Plan(demo_plan()), &source, |_, _| {})
        .await
        .unwrap();
    let adapter = QueryAdapter::embedded().unwrap();
    let vector = model
        .embed(vec![QUESTIONS[0].to_string()], Deadline::after(Duration::from_secs(5)))
        .await
        .unwrap()
        .remove(0);
    let mut maps = Vec::new();
    for _ in 0..2_000 {
        let started = Instant::now();
        std::hint::black_box(adapter.apply(std::hint::black_box(&vector)));
        maps.push(started.elapsed());
    }
    print_percentiles("query adapter, one 384-d vector mapped", maps);
    let retriever = Arc::new(Retriever::new(model, store, budgets).with_adapter(adapter).unwrap());

    let mut one_at_a_time = Vec::new();
    for round in 0..25 {
        for question in QUESTIONS {
            let started = Instant::now();
            let found = retriever
                .search(&demo_readers(), question, 5, Deadline::after(Duration::from_secs(5)))
                .await
                .unwrap();
            assert!(!found.chunks.is_empty());
            if round > 0 {
                one_at_a_time.push(started.elapsed());
            }
        }
    }
    print_percentiles("embedded default, end to end, 1 at a time", one_at_a_time);

    let mut concurrent = Vec::new();
    for _ in 0..25 {
        let tasks: Vec<_> = QUESTIONS
            .iter()
            .map(|question| {
                let retriever = Arc::clone(&retriever);
                tokio::spawn(async move {
                    let started = Instant::now();
                    retriever
                        .search(&demo_readers(), question, 5, Deadline::after(Duration::from_secs(5)))
                        .await
                        .unwrap();
                    started.elapsed()
                })
            })
            .collect();
        for task in tasks {
            concurrent.push(task.await.unwrap());
        }
    }
    print_percentiles("embedded default, end to end, 8 concurrent", concurrent);
}

/// Plans in the synthetic table, chunks per plan (a 232-page Evidence of Coverage cuts into ~660), members with an
/// upload, chunks per upload.
const PLANS: i64 = 1_000;
const PLAN_CHUNKS: i64 = 700;
const UPLOADERS: i64 = 10_000;
const UPLOAD_CHUNKS: i64 = 10;

async fn postgres(url: &str) {
    let pool = PgPoolOptions::new().max_connections(8).connect(url).await.unwrap();
    sqlx::query("CREATE EXTENSION IF NOT EXISTS vector")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::raw_sql(
        "DROP TABLE IF EXISTS bench_chunks;
         CREATE TABLE bench_chunks (id bigint PRIMARY KEY, owner text NOT NULL, embedding vector(384) NOT NULL);",
    )
    .execute(&pool)
    .await
    .unwrap();
    let started = Instant::now();
    let plan_rows = PLANS * PLAN_CHUNKS;
    let total = plan_rows + UPLOADERS * UPLOAD_CHUNKS;
    // Rows 1..plan_rows belong to plans (row g to plan g mod PLANS); the rest to members (ten rows each).
    for start in (1..=total).step_by(50_000) {
        sqlx::query(
            "INSERT INTO bench_chunks
             SELECT g,
                    CASE WHEN g <= $3 THEN 'plan:p' || (g % $4) ELSE 'member:m' || ((g - $3 - 1) / $5) END,
                    (SELECT array_agg(random() - 0.5) FROM generate_series(1, 384) WHERE g > 0)::vector
             FROM generate_series($1::bigint, $2::bigint) g",
        )
        .bind(start)
        .bind((start + 49_999).min(total))
        .bind(plan_rows)
        .bind(PLANS)
        .bind(UPLOAD_CHUNKS)
        .execute(&pool)
        .await
        .unwrap();
    }
    println!(
        "postgres: {total} synthetic chunks ({PLANS} plans x {PLAN_CHUNKS}, {UPLOADERS} uploads x {UPLOAD_CHUNKS}) \
         loaded in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    sqlx::raw_sql("CREATE INDEX ON bench_chunks (owner); ANALYZE bench_chunks;")
        .execute(&pool)
        .await
        .unwrap();
    println!(
        "postgres: owner index built in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    measure_knn(&pool, "btree on owner").await;
    sqlx::query("DROP TABLE bench_chunks").execute(&pool).await.unwrap();
}

/// A member's search: their plan's chunks and their own upload's, as `Readers::owner_keys` names them.
fn owners(i: i64) -> Vec<String> {
    vec![
        format!("plan:p{}", i * 7 % PLANS),
        format!("member:m{}", i * 13 % UPLOADERS),
    ]
}

async fn measure_knn(pool: &sqlx::PgPool, variant: &str) {
    let knn = "SELECT id FROM bench_chunks WHERE owner = ANY($1)
               ORDER BY embedding <=> (SELECT embedding FROM bench_chunks WHERE id = $2) LIMIT 10";
    let rows = PLANS * PLAN_CHUNKS + UPLOADERS * UPLOAD_CHUNKS;
    let query_once = |pool: sqlx::PgPool, owners: Vec<String>, probe: i64| async move {
        let started = Instant::now();
        let ids: Vec<i64> = sqlx::query_scalar(knn)
            .bind(owners)
            .bind(probe)
            .fetch_all(&pool)
            .await
            .unwrap();
        (ids, started.elapsed())
    };
    let plan: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "EXPLAIN {}",
        knn.replace("$1", "ARRAY['plan:p7', 'member:m7']").replace("$2", "7")
    )))
    .fetch_all(pool)
    .await
    .unwrap();
    let index = plan
        .iter()
        .find(|line| line.contains("Index"))
        .map_or("no index", |l| l.trim());
    println!("postgres KNN plan ({variant}): {index}");
    let mut sequential = Vec::new();
    let mut recall_sum = 0.0;
    for i in 0..300_i64 {
        let probe = (i * 331 % rows) + 1;
        let (ids, elapsed) = query_once(pool.clone(), owners(i), probe).await;
        assert_eq!(ids.len(), 10, "the owner filter must not starve the result");
        sequential.push(elapsed);
        if i < 50 {
            let exact: Vec<i64> = sqlx::query_scalar(
                "SELECT id FROM (SELECT id, embedding FROM bench_chunks WHERE owner = ANY($1) OFFSET 0) c
                 ORDER BY embedding <=> (SELECT embedding FROM bench_chunks WHERE id = $2) LIMIT 10",
            )
            .bind(owners(i))
            .bind(probe)
            .fetch_all(pool)
            .await
            .unwrap();
            recall_sum += ids.iter().filter(|id| exact.contains(id)).count() as f64 / exact.len().max(1) as f64;
        }
    }
    print_percentiles(
        &format!("postgres KNN, plan + member filter, {variant}, 1 at a time"),
        sequential,
    );
    println!(
        "postgres KNN recall@10 against an exact scan (50 queries, {variant}): {:.3}",
        recall_sum / 50.0
    );
    let mut concurrent = Vec::new();
    for round in 0..40_i64 {
        let tasks: Vec<_> = (0..8_i64)
            .map(|j| {
                let i = round * 8 + j;
                tokio::spawn(query_once(
                    pool.clone(),
                    owners(i * 3 + 1),
                    (round * 977 + j * 101) % rows + 1,
                ))
            })
            .collect();
        for task in tasks {
            concurrent.push(task.await.unwrap().1);
        }
    }
    print_percentiles(
        &format!("postgres KNN, plan + member filter, {variant}, 8 concurrent"),
        concurrent,
    );
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` asks for a list; there is nothing to list
    }
    embedded().await;
    match std::env::var("NAVIGATOR_BENCH_DATABASE_URL") {
        Ok(url) => postgres(&url).await,
        Err(_) => println!("postgres: skipped (set NAVIGATOR_BENCH_DATABASE_URL to a PostgreSQL with pgvector)"),
    }
}
