//! The PostgreSQL pool, built once per execution environment, and the schema migrations.
//!
//! The pool connects lazily, so a database outage never fails a Lambda's init; it tests a connection before handing
//! it out, because sockets die while an environment is frozen; and it gives up on an acquire quickly, so a saturated
//! or dead database is a fast typed error instead of a hang.

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use std::str::FromStr;
use std::time::Duration;

use navigator_platform::NavigatorError;
use navigator_platform::secrets::{DATABASE, SecretStore};

/// The migrations under `migrations/`, embedded in the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations");

/// How a pool is sized and how long it waits.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    /// Below RDS Proxy's and the server's idle timeouts.
    pub idle_timeout: Duration,
    pub application_name: String,
}

impl PoolSettings {
    pub fn new(max_connections: usize, acquire_timeout: Duration, application_name: &str) -> Self {
        Self {
            max_connections: max_connections.clamp(1, 64) as u32,
            acquire_timeout,
            idle_timeout: Duration::from_secs(120),
            application_name: application_name.to_string(),
        }
    }
}

/// Builds the pool without connecting.
pub fn pg_pool(options: PgConnectOptions, settings: &PoolSettings) -> PgPool {
    PgPoolOptions::new()
        .min_connections(0)
        .max_connections(settings.max_connections)
        .acquire_timeout(settings.acquire_timeout)
        .idle_timeout(Some(settings.idle_timeout))
        .test_before_acquire(true)
        .connect_lazy_with(options.application_name(&settings.application_name))
}

/// Reports a pool's connections (in use, idle, the most it may open) with every metrics render or flush. For pools
/// that live as long as the process: the collector keeps its pool open.
pub fn watch_pool<DB: sqlx::Database>(pool: &sqlx::Pool<DB>, database: &'static str) {
    let pool = pool.clone();
    navigator_platform::telemetry::install_metrics().collect_with(Box::new(move || {
        let open = pool.size() as f64;
        let idle = pool.num_idle() as f64;
        metrics::gauge!(navigator_metrics::DB_POOL_CONNECTIONS.name, "database" => database, "state" => "in_use")
            .set((open - idle).max(0.0));
        metrics::gauge!(navigator_metrics::DB_POOL_CONNECTIONS.name, "database" => database, "state" => "idle")
            .set(idle);
        metrics::gauge!(navigator_metrics::DB_POOL_MAX_CONNECTIONS.name, "database" => database)
            .set(f64::from(pool.options().get_max_connections()));
    }));
}

/// Parses a `postgres://` URL.
pub fn connect_options_from_url(url: &str) -> Result<PgConnectOptions, NavigatorError> {
    PgConnectOptions::from_str(url)
        .map_err(|e| NavigatorError::internal(format!("DATABASE_URL is not a valid PostgreSQL URL: {e}")))
}

#[derive(serde::Deserialize)]
struct DatabaseSecret {
    host: String,
    #[serde(default = "default_port")]
    port: u16,
    username: String,
    password: String,
    #[serde(default = "default_dbname")]
    dbname: String,
}

fn default_port() -> u16 {
    5432
}

fn default_dbname() -> String {
    "postgres".into()
}

/// PostgreSQL settings from `DATABASE_SECRET_ARN` (RDS's JSON secret) or `DATABASE_URL`; `None` when neither is set,
/// which selects the embedded store.
pub async fn connect_options(secrets: &SecretStore) -> Result<Option<PgConnectOptions>, NavigatorError> {
    let Some(secret) = secrets.get(&DATABASE).await? else {
        return Ok(None);
    };
    let options = options_from_secret_value(secret.expose())?;
    let proxy = std::env::var("DATABASE_PROXY_ENDPOINT").ok();
    Ok(Some(through_proxy(options, proxy.as_deref())))
}

/// RDS's secret names the database instance; in a VPC the functions reach it through an RDS Proxy, whose endpoint
/// (`DATABASE_PROXY_ENDPOINT`) replaces the host while the credentials stay those of the secret.
fn through_proxy(options: PgConnectOptions, proxy_endpoint: Option<&str>) -> PgConnectOptions {
    match proxy_endpoint.map(str::trim).filter(|host| !host.is_empty()) {
        Some(host) => options.host(host),
        None => options,
    }
}

/// A URL, or RDS's JSON secret; a secret reaches RDS or RDS Proxy, so TLS is required.
fn options_from_secret_value(value: &str) -> Result<PgConnectOptions, NavigatorError> {
    if value.starts_with("postgres://") || value.starts_with("postgresql://") {
        return connect_options_from_url(value);
    }
    let parsed: DatabaseSecret = serde_json::from_str(value).map_err(|_| {
        NavigatorError::internal("the database secret must be JSON with host, port, username, password and dbname")
    })?;
    Ok(PgConnectOptions::new()
        .host(&parsed.host)
        .port(parsed.port)
        .username(&parsed.username)
        .password(&parsed.password)
        .database(&parsed.dbname)
        .ssl_mode(sqlx::postgres::PgSslMode::Require))
}

/// Maps a database failure to the system's typed errors: a cancelled statement (our `statement_timeout`) is a
/// `Timeout`; everything else that stops the query is `DependencyUnavailable`. Never an empty result.
pub fn map_db_error(error: sqlx::Error) -> NavigatorError {
    match &error {
        sqlx::Error::Database(db) if db.code().as_deref() == Some("57014") => {
            NavigatorError::timeout("database statement")
        }
        _ => NavigatorError::unavailable("postgres", error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_rds_json_secret_becomes_tls_connect_options() {
        let secret = r#"{"host": "proxy.example.internal", "port": 5433, "username": "navigator", "password": "pw", "dbname": "plans"}"#;
        let options = options_from_secret_value(secret).unwrap();
        assert_eq!(
            (options.get_host(), options.get_port(), options.get_database()),
            ("proxy.example.internal", 5433, Some("plans"))
        );
        assert!(matches!(options.get_ssl_mode(), sqlx::postgres::PgSslMode::Require));
    }

    #[test]
    fn the_proxy_endpoint_replaces_the_secrets_host_and_keeps_the_rest() {
        let secret = r#"{"host": "db-1.example.internal", "port": 5432, "username": "navigator", "password": "pw", "dbname": "plans"}"#;
        let options = options_from_secret_value(secret).unwrap();
        let proxied = through_proxy(options.clone(), Some("navigator.proxy-abc.us-east-1.rds.amazonaws.com"));
        assert_eq!(proxied.get_host(), "navigator.proxy-abc.us-east-1.rds.amazonaws.com");
        assert_eq!((proxied.get_port(), proxied.get_database()), (5432, Some("plans")));
        assert!(matches!(proxied.get_ssl_mode(), sqlx::postgres::PgSslMode::Require));
        assert_eq!(
            through_proxy(options.clone(), Some("  ")).get_host(),
            "db-1.example.internal"
        );
        assert_eq!(through_proxy(options, None).get_host(), "db-1.example.internal");
    }

    #[test]
    fn a_url_secret_is_accepted_and_garbage_is_an_error_without_the_value() {
        assert_eq!(
            options_from_secret_value("postgres://u:p@db:6543/x")
                .unwrap()
                .get_port(),
            6543
        );
        let error = options_from_secret_value("hunter2").unwrap_err();
        assert!(!error.to_string().contains("hunter2"));
    }
}
