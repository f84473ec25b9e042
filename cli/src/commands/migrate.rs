//! `navigator migrate`: applies the embedded migrations to the configured PostgreSQL.

use navigator_platform::secrets::SecretStore;
use navigator_retrieval::db::{MIGRATOR, PoolSettings, connect_options, pg_pool};
use std::time::Duration;

pub async fn run() -> Result<(), String> {
    let secrets = SecretStore::from_env();
    let options = connect_options(&secrets)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("set DATABASE_URL (or DATABASE_SECRET_ARN) to the PostgreSQL to migrate")?;
    let pool = pg_pool(
        options,
        &PoolSettings::new(1, Duration::from_secs(10), "navigator-migrate"),
    );
    MIGRATOR
        .run(&pool)
        .await
        .map_err(|e| format!("migration failed: {e}"))?;
    println!("migrations applied ({} in total)", MIGRATOR.iter().count());
    Ok(())
}
