//! One way to configure AWS SDK clients, so every client shares one retry policy (docs/DESIGN.md §5, §9).
//!
//! The SDK's default retry (3 attempts, up to 1 s of backoff) would spend a whole stage budget: the guard's ML stage
//! has 300 ms, a retrieval embedding 150 ms, a tool call one 800 ms wave. Every client here makes at most two
//! attempts, the second after at most 100 ms, and the caller's deadline bounds the whole call. Clients are built only
//! from [`load`]; a test in `tests/aws_clients.rs` finds any `aws_config` loader outside this module.

use aws_config::retry::RetryConfig;
use aws_config::{ConfigLoader, SdkConfig};
use std::time::Duration;

/// The retry policy of every AWS call: at most 2 attempts, the second after ≤ 100 ms.
pub fn retry_policy() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(2)
        .with_initial_backoff(Duration::from_millis(100))
        .with_max_backoff(Duration::from_millis(100))
}

/// `loader` with the shared retry policy.
pub fn with_policy(loader: ConfigLoader) -> ConfigLoader {
    loader.retry_config(retry_policy())
}

/// The AWS configuration of this environment (region, credentials, `AWS_ENDPOINT_URL[_SERVICE]`), with the shared
/// retry policy. Build every AWS client from it.
pub async fn load() -> SdkConfig {
    with_policy(aws_config::from_env()).load().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_config::Region;

    #[tokio::test]
    async fn the_loader_applies_two_attempts_and_a_100_ms_backoff() {
        let config = with_policy(aws_config::from_env().region(Region::new("us-east-1")))
            .load()
            .await;
        let retry = config.retry_config().expect("a retry policy");
        assert_eq!(retry.max_attempts(), 2);
        assert_eq!(retry.initial_backoff(), Duration::from_millis(100));
        assert_eq!(retry.max_backoff(), Duration::from_millis(100));
    }
}
