//! The database layer against a real PostgreSQL with pgvector.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test crate: a panic is a failed test

use navigator_platform::NavigatorError;
use navigator_retrieval::db::{MIGRATOR, PoolSettings, map_db_error, pg_pool};
use navigator_tests::TestDatabase;
use std::time::{Duration, Instant};

#[tokio::test]
async fn pgvector_is_installed_and_answers_a_knn_query() {
    let database = TestDatabase::empty().await;
    let pool = database.pool(1).await;
    sqlx::query("CREATE EXTENSION IF NOT EXISTS vector")
        .execute(&pool)
        .await
        .unwrap();
    let version: String = sqlx::query_scalar("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        .fetch_one(&pool)
        .await
        .unwrap();
    let (major, minor) = version
        .split_once('.')
        .map(|(a, b)| {
            (
                a.parse::<u32>().unwrap(),
                b.split('.').next().unwrap().parse::<u32>().unwrap(),
            )
        })
        .unwrap();
    assert!(
        (major, minor) >= (0, 8),
        "pgvector {version} lacks iterative index scans"
    );

    sqlx::query("CREATE TABLE items (id int PRIMARY KEY, embedding vector(3))")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO items VALUES (1, '[1,0,0]'), (2, '[0,1,0]'), (3, '[0.9,0.1,0]'), (4, '[0,0,1]')")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("CREATE INDEX ON items USING hnsw (embedding vector_cosine_ops)")
        .execute(&pool)
        .await
        .unwrap();
    let nearest: Vec<i32> = sqlx::query_scalar("SELECT id FROM items ORDER BY embedding <=> '[1,0.05,0]' LIMIT 2")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(nearest, vec![1, 3]);
}

#[tokio::test]
async fn migrations_create_the_schema_and_are_idempotent() {
    let database = TestDatabase::migrated().await;
    let pool = database.pool(1).await;
    MIGRATOR.run(&pool).await.expect("a second run changes nothing");
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'navigator' ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(tables, vec!["chunks", "documents", "units"]);
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT indexname::text FROM pg_indexes WHERE schemaname = 'navigator' AND indexdef LIKE '%hnsw%' ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(indexes, vec!["chunks_embedding_1024_hnsw", "chunks_embedding_384_hnsw"]);
}

#[tokio::test]
async fn the_pool_never_opens_more_connections_than_its_bound() {
    let database = TestDatabase::empty().await;
    let application = format!("pool-bound-{}", database.name);
    let pool = pg_pool(
        database.options.clone(),
        &PoolSettings::new(2, Duration::from_secs(5), &application),
    );
    assert_eq!(pool.size(), 0, "the pool connects lazily");

    let queries = (0..20).map(|_| {
        let pool = pool.clone();
        tokio::spawn(async move { sqlx::query("SELECT pg_sleep(0.02)").execute(&pool).await.map(|_| ()) })
    });
    for query in queries.collect::<Vec<_>>() {
        query
            .await
            .unwrap()
            .expect("every query succeeds through 2 shared connections");
    }
    let observer = database.pool(1).await;
    let open: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1")
        .bind(&application)
        .fetch_one(&observer)
        .await
        .unwrap();
    assert!((1..=2).contains(&open), "{open} server connections for a pool of 2");
    assert!(pool.size() <= 2);
}

#[tokio::test]
async fn an_exhausted_pool_fails_fast_with_a_typed_error() {
    let database = TestDatabase::empty().await;
    let pool = pg_pool(
        database.options.clone(),
        &PoolSettings::new(1, Duration::from_millis(200), "exhausted"),
    );
    let _held = pool.acquire().await.unwrap();
    let started = Instant::now();
    let error = sqlx::query("SELECT 1")
        .execute(&pool)
        .await
        .map_err(map_db_error)
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(error.error_type(), "DependencyUnavailable");
}

#[tokio::test]
async fn a_cancelled_statement_is_a_typed_timeout() {
    let database = TestDatabase::empty().await;
    let pool = database.pool(1).await;
    let mut transaction = pool.begin().await.unwrap();
    sqlx::query("SET LOCAL statement_timeout = 50")
        .execute(&mut *transaction)
        .await
        .unwrap();
    let error = sqlx::query("SELECT pg_sleep(2)")
        .execute(&mut *transaction)
        .await
        .map_err(map_db_error)
        .unwrap_err();
    assert!(matches!(error, NavigatorError::Timeout { .. }), "{error:?}");
}

#[tokio::test]
async fn an_unreachable_database_is_dependency_unavailable_not_a_hang() {
    let options = TestDatabase::empty().await.options.port(1);
    let pool = pg_pool(
        options,
        &PoolSettings::new(1, Duration::from_millis(300), "unreachable"),
    );
    let started = Instant::now();
    let error = sqlx::query("SELECT 1")
        .execute(&pool)
        .await
        .map_err(map_db_error)
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(error.error_type(), "DependencyUnavailable");
}

#[tokio::test]
async fn a_search_that_gets_no_connection_in_its_budget_is_unavailable_not_a_timeout() {
    use navigator_resilience::Deadline;
    use navigator_retrieval::store::{ChunkStore, PgStore, SearchRequest};
    // The pool would keep retrying the refused connection for 5 s; the search budget ends it at 150 ms.
    let options = TestDatabase::empty().await.options.port(1);
    let store = PgStore::new(pg_pool(
        options,
        &PoolSettings::new(1, Duration::from_secs(5), "unreachable"),
    ));
    let request = SearchRequest {
        owners: vec![navigator_platform::owner::Owner::Member(uuid::Uuid::from_u128(1)).key()],
        embed_model: "test".into(),
        vector: vec![0.0; 384],
        terms: vec!["copay".into()],
        depth: 10,
        section: None,
    };
    let started = Instant::now();
    let error = store
        .search(&request, Deadline::after(Duration::from_millis(150)))
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(error.error_type(), "DependencyUnavailable", "{error:?}");
}

#[tokio::test]
async fn the_owners_migration_keeps_every_members_documents_searchable() {
    // A database as the release before plan documents left it: one member's ready document with a chunk.
    let database = TestDatabase::empty().await;
    let pool = database.pool(2).await;
    MIGRATOR.run_to(2, &pool).await.unwrap();
    let member = uuid::Uuid::new_v4();
    let document = uuid::Uuid::new_v4();
    sqlx::query(
        "INSERT INTO navigator.documents (document_id, user_id, title, source_sha256, status)
         VALUES ($1, $2, 'old plan', 'abc', 'ready')",
    )
    .bind(document)
    .bind(member)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO navigator.chunks (chunk_id, document_id, user_id, ord, page_start, page_end, section, text, tokens,
                                       embed_model, embedding)
         VALUES ($1, $2, $3, 0, 1, 1, 'Ambulance', 'Ambulance trip $180 copayment', 4, 'm', '[1,0,0]')",
    )
    .bind(uuid::Uuid::new_v4())
    .bind(document)
    .bind(member)
    .execute(&pool)
    .await
    .unwrap();

    MIGRATOR.run(&pool).await.unwrap();

    let owners: Vec<(String, String)> = sqlx::query_as(
        "SELECT d.owner, c.owner FROM navigator.documents d JOIN navigator.chunks c USING (document_id)",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(owners, vec![(format!("member:{member}"), format!("member:{member}"))]);
    let status: String = sqlx::query_scalar("SELECT status FROM navigator.documents")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(status, "ready", "an existing document stays searchable");
    // The member still finds it through the new owner filter.
    let store = navigator_retrieval::store::PgStore::new(pool.clone());
    let request = navigator_retrieval::store::SearchRequest {
        owners: navigator_platform::owner::Readers::new(member, None).owner_keys(),
        embed_model: "m".into(),
        vector: vec![1.0, 0.0, 0.0],
        terms: vec!["ambulance".into()],
        depth: 5,
        section: None,
    };
    let found = navigator_retrieval::store::ChunkStore::search(
        &store,
        &request,
        navigator_resilience::Deadline::after(Duration::from_secs(5)),
    )
    .await
    .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].document_id, document);
}
