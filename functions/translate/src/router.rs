//! The provider router: providers in configured order, each behind its own circuit breaker, within one deadline.
//!
//! An attempt gets an even share of what is left of the budget among the providers still to try, so a hanging
//! primary leaves the secondary time to answer. A provider whose breaker is open is skipped without a call. Timeouts,
//! 5xx and 429 fail over to the next provider; a translation that lost a protected span does too. Any other refusal
//! (the text itself was rejected) ends the call: another provider would refuse it as well.

use navigator_platform::NavigatorError;
use navigator_resilience::{BreakerConfig, CircuitBreaker, Clock, Deadline};
use std::sync::Arc;
use std::time::Duration;

use crate::protect::{protect, restore};
use crate::providers::Provider;

/// No attempt starts with less time than this.
const MIN_ATTEMPT: Duration = Duration::from_millis(20);

struct Route {
    provider: Arc<dyn Provider>,
    breaker: CircuitBreaker,
}

/// Providers in order of preference.
pub struct Router {
    routes: Vec<Route>,
}

impl Router {
    pub fn new(providers: Vec<Arc<dyn Provider>>, config: BreakerConfig, clock: Arc<dyn Clock>) -> Self {
        let routes = providers
            .into_iter()
            .map(|provider| Route {
                breaker: CircuitBreaker::with_clock(provider.name(), config, Arc::clone(&clock)),
                provider,
            })
            .collect();
        Self { routes }
    }

    /// Whether any provider translates from `source` to `target`.
    pub fn translates(&self, source: &str, target: &str) -> bool {
        self.routes.iter().any(|r| r.provider.supports(source, target))
    }

    /// The translation and the provider that made it.
    pub async fn translate(
        &self,
        text: &str,
        source: &str,
        target: &str,
        deadline: Deadline,
    ) -> Result<(String, &'static str), NavigatorError> {
        let protected = protect(text);
        let candidates: Vec<&Route> = self
            .routes
            .iter()
            .filter(|r| r.provider.supports(source, target))
            .collect();
        if candidates.is_empty() {
            return Err(NavigatorError::unavailable(
                "translation",
                format!("no provider translates {source} to {target}"),
            ));
        }
        let mut last_error = None;
        for (i, route) in candidates.iter().enumerate() {
            let remaining = deadline.remaining();
            if remaining < MIN_ATTEMPT {
                break;
            }
            let name = route.provider.name();
            let permit = match route.breaker.try_acquire() {
                Ok(permit) => permit,
                Err(open) => {
                    tracing::info!(provider = name, "breaker open; provider skipped");
                    last_error = Some(NavigatorError::from(open));
                    continue;
                }
            };
            let share = u32::try_from(candidates.len() - i).unwrap_or(1);
            let attempt = deadline.child(remaining / share);
            match route.provider.translate(&protected.html, source, target, attempt).await {
                Ok(html) => match restore(&html, &protected) {
                    Some(translated) => {
                        permit.success();
                        return Ok((translated, name));
                    }
                    None => {
                        // The provider answered, so it is healthy; its answer is not usable.
                        permit.success();
                        tracing::warn!(
                            provider = name,
                            "a protected span did not survive; trying the next provider"
                        );
                        last_error = Some(NavigatorError::unavailable(name, "a protected span was changed"));
                    }
                },
                Err(failure) if failure.fail_over => {
                    permit.failure();
                    tracing::warn!(provider = name, error = %failure.error, "provider failed; failing over");
                    last_error = Some(failure.error);
                }
                Err(failure) => {
                    permit.success();
                    return Err(failure.error);
                }
            }
        }
        Err(match last_error {
            Some(NavigatorError::Timeout { .. }) | None => NavigatorError::timeout("translation"),
            Some(error) => error,
        })
    }
}
