//! Shared test support: a fresh, migrated PostgreSQL database per test.
//!
//! `./scripts/test` starts a throwaway PostgreSQL with pgvector and exports `NAVIGATOR_TEST_DATABASE_URL`; these
//! tests fail (never skip) without it, so a missing install step fails CI.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test crate: a panic is a failed test

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use std::str::FromStr;

/// The admin URL of the test server.
pub fn admin_url() -> String {
    std::env::var("NAVIGATOR_TEST_DATABASE_URL")
        .expect("NAVIGATOR_TEST_DATABASE_URL is unset: run ./scripts/test, which starts PostgreSQL with pgvector")
}

/// A database of its own for one test, so tests never see each other's rows.
pub struct TestDatabase {
    pub name: String,
    pub options: PgConnectOptions,
}

impl TestDatabase {
    /// Creates an empty database.
    pub async fn empty() -> Self {
        let admin = PgConnectOptions::from_str(&admin_url()).expect("a valid NAVIGATOR_TEST_DATABASE_URL");
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(admin.clone())
            .await
            .expect("the test server is up");
        // The name is generated above from a UUID, never from input.
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&pool)
            .await
            .expect("CREATE DATABASE");
        pool.close().await;
        Self {
            options: admin.database(&name),
            name,
        }
    }

    /// Creates a database with every migration applied.
    pub async fn migrated() -> Self {
        let database = Self::empty().await;
        let pool = database.pool(2).await;
        navigator_platform::db::MIGRATOR
            .run(&pool)
            .await
            .expect("migrations apply");
        pool.close().await;
        database
    }

    /// A plain pool on this database.
    pub async fn pool(&self, max_connections: u32) -> PgPool {
        PgPoolOptions::new()
            .max_connections(max_connections)
            .connect_with(self.options.clone())
            .await
            .expect("connect")
    }
}
