//! Retrieval latency on this machine, printed as P50/P95/P99.
//!
//! `cargo bench -p navigator-tests --bench retrieval` measures:
//! 1. the embedded default end to end (local model + SQLite, sample plan, the dev questions, result cache off),
//!    one query at a time and 8 at once;
//! 2. with `NAVIGATOR_BENCH_DATABASE_URL` set, PostgreSQL KNN over 100k synthetic 384-d chunks spread over 1,000
//!    members, with the member filter on (HNSW, iterative scan), plus recall@10 against an exact scan.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: a panic is a failed run

use navigator_platform::config::Budgets;
use navigator_platform::owner::Owner;
use navigator_resilience::{CpuPool, Deadline};
use navigator_retrieval::embed::MiniLm;
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
    let retriever = Arc::new(Retriever::new(model, store, budgets));

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

async fn postgres(url: &str) {
    let pool = PgPoolOptions::new().max_connections(8).connect(url).await.unwrap();
    sqlx::query("CREATE EXTENSION IF NOT EXISTS vector")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::raw_sql(
        "DROP TABLE IF EXISTS bench_chunks;
         CREATE TABLE bench_chunks (id bigint PRIMARY KEY, user_id int NOT NULL, embedding vector(384) NOT NULL);",
    )
    .execute(&pool)
    .await
    .unwrap();
    let started = Instant::now();
    for batch in 0..10 {
        sqlx::query(
            "INSERT INTO bench_chunks
             SELECT g, g % 1000, (SELECT array_agg(random() - 0.5) FROM generate_series(1, 384) WHERE g > 0)::vector
             FROM generate_series($1::bigint, $2::bigint) g",
        )
        .bind(batch * 10_000 + 1)
        .bind((batch + 1) * 10_000)
        .execute(&pool)
        .await
        .unwrap();
    }
    println!(
        "postgres: 100k synthetic chunks over 1,000 members loaded in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    sqlx::raw_sql(
        "SET maintenance_work_mem = '512MB';
         CREATE INDEX ON bench_chunks USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64);
         CREATE INDEX ON bench_chunks (user_id); ANALYZE bench_chunks;",
    )
    .execute(&pool)
    .await
    .unwrap();
    println!("postgres: HNSW index built in {:.1} s", started.elapsed().as_secs_f64());

    measure_knn(&pool, "btree on user_id available").await;
    // Without the member index the planner must walk HNSW, filtering as it goes: what iterative scan is for.
    sqlx::raw_sql("DROP INDEX bench_chunks_user_id_idx; ANALYZE bench_chunks")
        .execute(&pool)
        .await
        .unwrap();
    measure_knn(&pool, "HNSW forced").await;
    sqlx::query("DROP TABLE bench_chunks").execute(&pool).await.unwrap();
}

async fn measure_knn(pool: &sqlx::PgPool, variant: &str) {
    let knn = "SELECT id FROM bench_chunks WHERE user_id = $1 ORDER BY embedding <=> (SELECT embedding FROM bench_chunks WHERE id = $2) LIMIT 10";
    let query_once = |pool: sqlx::PgPool, user: i32, probe: i64| async move {
        let mut tx = pool.begin().await.unwrap();
        sqlx::raw_sql("SET LOCAL hnsw.ef_search = 100; SET LOCAL hnsw.iterative_scan = relaxed_order")
            .execute(&mut *tx)
            .await
            .unwrap();
        let started = Instant::now();
        let ids: Vec<i64> = sqlx::query_scalar(knn)
            .bind(user)
            .bind(probe)
            .fetch_all(&mut *tx)
            .await
            .unwrap();
        let elapsed = started.elapsed();
        tx.commit().await.unwrap();
        (ids, elapsed)
    };
    let mut tx = pool.begin().await.unwrap();
    sqlx::raw_sql("SET LOCAL hnsw.iterative_scan = relaxed_order")
        .execute(&mut *tx)
        .await
        .unwrap();
    let plan: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "EXPLAIN {}",
        knn.replace("$1", "7").replace("$2", "7")
    )))
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let index = plan
        .iter()
        .find(|line| line.contains("Index"))
        .map_or("no index", |l| l.trim());
    println!("postgres KNN plan ({variant}): {index}");
    let mut sequential = Vec::new();
    let mut recall_sum = 0.0;
    for i in 0..300_i64 {
        let user = (i * 7 % 1000) as i32;
        let probe = (i * 331 % 100_000) + 1;
        let (ids, elapsed) = query_once(pool.clone(), user, probe).await;
        assert_eq!(ids.len(), 10, "the member filter must not starve the result");
        sequential.push(elapsed);
        if i < 50 {
            let exact: Vec<i64> = sqlx::query_scalar(
                "SELECT id FROM (SELECT id, embedding FROM bench_chunks WHERE user_id = $1 OFFSET 0) c
                 ORDER BY embedding <=> (SELECT embedding FROM bench_chunks WHERE id = $2) LIMIT 10",
            )
            .bind(user)
            .bind(probe)
            .fetch_all(pool)
            .await
            .unwrap();
            recall_sum += ids.iter().filter(|id| exact.contains(id)).count() as f64 / exact.len().max(1) as f64;
        }
    }
    print_percentiles(
        &format!("postgres KNN, member filter, {variant}, 1 at a time"),
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
                tokio::spawn(query_once(
                    pool.clone(),
                    ((round * 8 + j) * 13 % 1000) as i32,
                    (round * 977 + j * 101) % 100_000 + 1,
                ))
            })
            .collect();
        for task in tasks {
            concurrent.push(task.await.unwrap().1);
        }
    }
    print_percentiles(
        &format!("postgres KNN, member filter, {variant}, 8 concurrent"),
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
