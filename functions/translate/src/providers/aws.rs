//! Amazon Translate `TranslateText` (AWS JSON 1.1, `X-Amz-Target: AWSShineFrontendService_20170701.TranslateText`),
//! through the AWS SDK. `AWS_ENDPOINT_URL_TRANSLATE` points it anywhere; custom terminologies come from
//! `AWS_TRANSLATE_TERMINOLOGY` (comma-separated names).

use aws_sdk_translate::Client;
use aws_sdk_translate::error::{DisplayErrorContext, SdkError};
use aws_sdk_translate::operation::translate_text::TranslateTextError;
use futures_util::future::BoxFuture;
use navigator_platform::NavigatorError;
use navigator_resilience::Deadline;

use super::{Provider, ProviderFailure};

const NAME: &str = "aws";

/// Amazon Translate for one client.
pub struct AwsTranslate {
    client: Client,
    terminology: Vec<String>,
}

impl AwsTranslate {
    pub fn new(client: Client, terminology: Vec<String>) -> Self {
        Self { client, terminology }
    }
}

fn failure(error: SdkError<TranslateTextError>) -> ProviderFailure {
    let detail = DisplayErrorContext(&error).to_string();
    match error.as_service_error() {
        Some(TranslateTextError::TooManyRequestsException(_)) => ProviderFailure {
            error: NavigatorError::rejected("amazon translate is throttling", None),
            fail_over: true,
        },
        Some(TranslateTextError::ServiceUnavailableException(_) | TranslateTextError::InternalServerException(_)) => {
            ProviderFailure::unhealthy("amazon translate", detail)
        }
        Some(_) => ProviderFailure {
            error: NavigatorError::invalid(format!("amazon translate refused the text: {detail}")),
            fail_over: false,
        },
        // Timeouts, connection errors, unreadable responses.
        None => ProviderFailure::unhealthy("amazon translate", detail),
    }
}

impl Provider for AwsTranslate {
    fn name(&self) -> &'static str {
        NAME
    }

    fn supports(&self, source: &str, target: &str) -> bool {
        let known = |language: &str| ["en", "es", "zh", "vi", "tl", "ko", "ru"].contains(&language);
        known(source) && known(target)
    }

    fn translate<'a>(
        &'a self,
        html: &'a str,
        source: &'a str,
        target: &'a str,
        deadline: Deadline,
    ) -> BoxFuture<'a, Result<String, ProviderFailure>> {
        Box::pin(async move {
            let call = self
                .client
                .translate_text()
                .text(html)
                .source_language_code(source)
                .target_language_code(target)
                .set_terminology_names((!self.terminology.is_empty()).then(|| self.terminology.clone()))
                .send();
            match deadline.run(call).await {
                Ok(Ok(output)) => Ok(output.translated_text().to_string()),
                Ok(Err(error)) => Err(failure(error)),
                Err(_) => Err(ProviderFailure {
                    error: NavigatorError::timeout("amazon translate"),
                    fail_over: true,
                }),
            }
        })
    }
}
