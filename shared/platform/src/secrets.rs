//! Secrets: from AWS Secrets Manager when `<NAME>_SECRET_ARN` is set, through a cache that lives as long as the
//! execution environment; from a plain environment variable otherwise.

use aws_sdk_secretsmanager::Client;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::OnceCell;
use tokio::time::Instant;

use crate::NavigatorError;

/// Where one secret may come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretSpec {
    /// Names a Secrets Manager secret (ARN or name). Wins when set.
    pub arn_variable: &'static str,
    /// Holds the value itself, for local runs.
    pub env_variable: &'static str,
}

pub const TAVILY_API_KEY: SecretSpec = SecretSpec {
    arn_variable: "TAVILY_SECRET_ARN",
    env_variable: "TAVILY_API_KEY",
};
pub const OPENAI_API_KEY: SecretSpec = SecretSpec {
    arn_variable: "OPENAI_SECRET_ARN",
    env_variable: "OPENAI_API_KEY",
};
pub const DEEPL_API_KEY: SecretSpec = SecretSpec {
    arn_variable: "DEEPL_SECRET_ARN",
    env_variable: "DEEPL_API_KEY",
};
/// The secret is JSON with host, port, username, password and dbname; the variable is a connection URL.
pub const DATABASE: SecretSpec = SecretSpec {
    arn_variable: "DATABASE_SECRET_ARN",
    env_variable: "DATABASE_URL",
};

/// A secret value. Its `Debug` and `Display` never show it, so it cannot leak into a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(Arc<str>);

impl SecretString {
    pub fn new(value: impl Into<Arc<str>>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(***)")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

type Lookup = dyn Fn(&str) -> Option<String> + Send + Sync;

/// Resolves secrets, built once per execution environment and shared.
pub struct SecretStore {
    lookup: Box<Lookup>,
    client: OnceCell<Client>,
    ttl: Duration,
    cache: Mutex<HashMap<String, (SecretString, Instant)>>,
    /// One fetch at a time: invocations that miss the cache together (many start at once on Lambda Managed
    /// Instances) wait for the first one's answer instead of each asking Secrets Manager.
    fetching: tokio::sync::Mutex<()>,
}

impl fmt::Debug for SecretStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretStore")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// How long a fetched secret is reused before Secrets Manager is asked again.
pub const DEFAULT_TTL: Duration = Duration::from_secs(300);

impl SecretStore {
    /// Reads the process environment; the Secrets Manager client is built on first use from the default AWS chain.
    pub fn from_env() -> Self {
        Self::new(
            |name| std::env::var(name).ok().filter(|v| !v.is_empty()),
            None,
            DEFAULT_TTL,
        )
    }

    /// A store with its own settings lookup and, optionally, a ready client (tests point one at a local server).
    pub fn new(
        lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
        client: Option<Client>,
        ttl: Duration,
    ) -> Self {
        let cell = OnceCell::new();
        if let Some(client) = client {
            let _ = cell.set(client);
        }
        Self {
            lookup: Box::new(lookup),
            client: cell,
            ttl,
            cache: Mutex::new(HashMap::new()),
            fetching: tokio::sync::Mutex::new(()),
        }
    }

    /// The secret, or `None` when neither variable of `spec` is set (the feature is then off).
    pub async fn get(&self, spec: &SecretSpec) -> Result<Option<SecretString>, NavigatorError> {
        if let Some(secret_id) = (self.lookup)(spec.arn_variable) {
            return self.fetch(&secret_id, false).await.map(Some);
        }
        Ok((self.lookup)(spec.env_variable).map(SecretString::new))
    }

    /// Fetches again, skipping the cache: for a provider that just answered 401/403 with the cached key.
    pub async fn refresh(&self, spec: &SecretSpec) -> Result<Option<SecretString>, NavigatorError> {
        match (self.lookup)(spec.arn_variable) {
            Some(secret_id) => self.fetch(&secret_id, true).await.map(Some),
            None => self.get(spec).await,
        }
    }

    async fn fetch(&self, secret_id: &str, refresh: bool) -> Result<SecretString, NavigatorError> {
        if !refresh && let Some(hit) = self.cached(secret_id) {
            return Ok(hit);
        }
        let _one_fetch_at_a_time = self.fetching.lock().await;
        // Whoever held the lock may have fetched this secret meanwhile.
        if !refresh && let Some(hit) = self.cached(secret_id) {
            return Ok(hit);
        }
        let client = self
            .client
            .get_or_init(|| async { Client::new(&crate::aws::load().await) })
            .await;
        let answer = client
            .get_secret_value()
            .secret_id(secret_id)
            .send()
            .await
            .map_err(|error| {
                // The SDK error names the secret but never holds its value.
                let detail = aws_sdk_secretsmanager::error::DisplayErrorContext(&error).to_string();
                tracing::error!(secret_id, error = %detail, "secrets manager lookup failed");
                NavigatorError::unavailable("secretsmanager", detail)
            })?;
        let value = answer
            .secret_string()
            .ok_or_else(|| NavigatorError::unavailable("secretsmanager", format!("{secret_id} has no string value")))?;
        let secret = SecretString::new(value);
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        cache.insert(secret_id.to_string(), (secret.clone(), Instant::now() + self.ttl));
        Ok(secret)
    }

    fn cached(&self, secret_id: &str) -> Option<SecretString> {
        let cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        cache
            .get(secret_id)
            .filter(|(_, expires)| Instant::now() < *expires)
            .map(|(secret, _)| secret.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
    use axum::{Json, Router, extract::State, http::HeaderMap, routing::post};
    use serde_json::{Value, json};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A local server speaking Secrets Manager's AWS JSON 1.1 protocol for `GetSecretValue`.
    async fn fake_secrets_manager(secrets: &'static [(&'static str, &'static str)]) -> (String, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let app = Router::new()
            .route(
                "/",
                post(move |State(calls): State<Arc<AtomicUsize>>, headers: HeaderMap, body: String| async move {
                    calls.fetch_add(1, Ordering::SeqCst);
                    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or_default();
                    assert_eq!(target, "secretsmanager.GetSecretValue");
                    let request: Value = serde_json::from_str(&body).unwrap();
                    let id = request["SecretId"].as_str().unwrap_or_default().to_string();
                    match secrets.iter().find(|(name, _)| *name == id) {
                        Some((name, value)) => (
                            axum::http::StatusCode::OK,
                            Json(json!({"ARN": format!("arn:aws:secretsmanager:us-east-1:000000000000:secret:{name}"),
                                        "Name": name, "SecretString": value, "VersionId": "v1", "CreatedDate": 1.7e9})),
                        ),
                        None => (
                            axum::http::StatusCode::BAD_REQUEST,
                            Json(json!({"__type": "ResourceNotFoundException", "message": "Secrets Manager can't find the specified secret."})),
                        ),
                    }
                }),
            )
            .with_state(Arc::clone(&calls));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (url, calls)
    }

    fn client(endpoint: &str) -> Client {
        let config = aws_sdk_secretsmanager::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "test"))
            .endpoint_url(endpoint)
            .build();
        Client::from_conf(config)
    }

    fn settings(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> + Send + Sync {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    #[tokio::test]
    async fn an_arn_reads_secrets_manager_once_then_the_cache() {
        let (url, calls) = fake_secrets_manager(&[("prod/tavily", "tvly-secret")]).await;
        let store = SecretStore::new(
            settings(&[("TAVILY_SECRET_ARN", "prod/tavily"), ("TAVILY_API_KEY", "ignored")]),
            Some(client(&url)),
            DEFAULT_TTL,
        );
        for _ in 0..3 {
            assert_eq!(
                store.get(&TAVILY_API_KEY).await.unwrap().unwrap().expose(),
                "tvly-secret"
            );
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        store.refresh(&TAVILY_API_KEY).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2, "refresh skips the cache");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sixteen_invocations_missing_the_cache_together_fetch_once() {
        let (url, calls) = fake_secrets_manager(&[("prod/tavily", "tvly-secret")]).await;
        let store = Arc::new(SecretStore::new(
            settings(&[("TAVILY_SECRET_ARN", "prod/tavily")]),
            Some(client(&url)),
            DEFAULT_TTL,
        ));
        let reads: Vec<_> = (0..16)
            .map(|_| {
                let store = Arc::clone(&store);
                tokio::spawn(async move { store.get(&TAVILY_API_KEY).await })
            })
            .collect();
        for read in reads {
            assert_eq!(read.await.unwrap().unwrap().unwrap().expose(), "tvly-secret");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1, "one fetch for all sixteen");
    }

    #[tokio::test]
    async fn without_an_arn_the_environment_variable_is_used() {
        let store = SecretStore::new(settings(&[("TAVILY_API_KEY", "tvly-local")]), None, DEFAULT_TTL);
        assert_eq!(
            store.get(&TAVILY_API_KEY).await.unwrap().unwrap().expose(),
            "tvly-local"
        );
        assert_eq!(
            store.get(&DEEPL_API_KEY).await.unwrap(),
            None,
            "unset means the feature is off"
        );
    }

    #[tokio::test]
    async fn a_missing_secret_is_dependency_unavailable() {
        let (url, _) = fake_secrets_manager(&[]).await;
        let store = SecretStore::new(
            settings(&[("DEEPL_SECRET_ARN", "nope")]),
            Some(client(&url)),
            DEFAULT_TTL,
        );
        let error = store.get(&DEEPL_API_KEY).await.unwrap_err();
        assert_eq!(error.error_type(), "DependencyUnavailable");
        assert!(error.to_string().contains("ResourceNotFoundException"), "{error}");
    }

    #[test]
    fn secret_values_never_print() {
        let secret = SecretString::new("hunter2");
        assert!(!format!("{secret:?} {secret}").contains("hunter2"));
    }
}
