//! Translation providers behind one port:
//! - [`aws`]: Amazon Translate `TranslateText` through the AWS SDK, with custom terminology;
//! - [`deepl`]: DeepL's `POST /v2/translate`, with a glossary;
//! - [`glossary`]: the embedded default, offline: Spanish questions into English, term by term, for search.
//!
//! A failure says whether it should trip the provider's breaker and move on to the next provider: timeouts,
//! connection errors, 5xx and 429 do.

pub mod aws;
pub mod deepl;
pub mod glossary;

use futures_util::future::BoxFuture;
use navigator_platform::NavigatorError;
use navigator_resilience::{Deadline, FailureClass};

/// A failed translation attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderFailure {
    pub error: NavigatorError,
    /// The provider is unwell (timeout, connection, 5xx, 429): trip its breaker and try the next one.
    pub fail_over: bool,
}

impl ProviderFailure {
    pub fn unhealthy(provider: &str, detail: impl ToString) -> Self {
        Self {
            error: NavigatorError::unavailable(provider, detail),
            fail_over: true,
        }
    }
}

impl FailureClass for ProviderFailure {
    fn trips_breaker(&self) -> bool {
        self.fail_over
    }
}

/// One provider.
pub trait Provider: Send + Sync + 'static {
    fn name(&self) -> &'static str;

    /// Whether it translates from `source` to `target` (ISO 639-1 codes).
    fn supports(&self, source: &str, target: &str) -> bool;

    /// Translates HTML (protected spans inside `<span translate="no">`) from `source` to `target`.
    fn translate<'a>(
        &'a self,
        html: &'a str,
        source: &'a str,
        target: &'a str,
        deadline: Deadline,
    ) -> BoxFuture<'a, Result<String, ProviderFailure>>;
}
