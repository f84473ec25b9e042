//! DeepL `POST {base}/v2/translate` with `Authorization: DeepL-Auth-Key <key>` and a JSON body `{text: [..],
//! source_lang, target_lang, tag_handling: "html", glossary_id?}` → `{translations: [{detected_source_language,
//! text}]}`. A glossary (`DEEPL_GLOSSARY_ID`) needs the source language, which the router always knows.

use futures_util::future::BoxFuture;
use navigator_platform::NavigatorError;
use navigator_platform::secrets::SecretString;
use navigator_resilience::Deadline;
use serde::{Deserialize, Serialize};

use super::{Provider, ProviderFailure};

const NAME: &str = "deepl";

pub struct DeepL {
    client: reqwest::Client,
    base_url: String,
    api_key: SecretString,
    glossary_id: Option<String>,
}

#[derive(Serialize)]
struct Request<'a> {
    text: [&'a str; 1],
    source_lang: String,
    target_lang: String,
    tag_handling: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    glossary_id: Option<&'a str>,
}

#[derive(Deserialize)]
struct Response {
    translations: Vec<Translation>,
}

#[derive(Deserialize)]
struct Translation {
    text: String,
}

impl DeepL {
    pub fn new(client: reqwest::Client, base_url: &str, api_key: SecretString, glossary_id: Option<String>) -> Self {
        Self {
            client,
            base_url: base_url.trim_end_matches('/').to_string(),
            api_key,
            glossary_id,
        }
    }

    async fn call(&self, html: &str, source: &str, target: &str) -> Result<String, ProviderFailure> {
        let body = Request {
            text: [html],
            source_lang: source.to_uppercase(),
            // DeepL wants a variant for English as a target.
            target_lang: if target == "en" {
                "EN-US".into()
            } else {
                target.to_uppercase()
            },
            tag_handling: "html",
            glossary_id: self.glossary_id.as_deref(),
        };
        let response = self
            .client
            .post(format!("{}/v2/translate", self.base_url))
            .header("Authorization", format!("DeepL-Auth-Key {}", self.api_key.expose()))
            .json(&body)
            .send()
            .await
            .map_err(|e| ProviderFailure::unhealthy(NAME, e.without_url()))?;
        let status = response.status();
        // 429 is "too many requests"; 456 is DeepL's "quota exceeded": both mean try elsewhere.
        if matches!(status.as_u16(), 429 | 456) {
            let retry_after = navigator_platform::error::parse_retry_after(
                response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok()),
            );
            return Err(ProviderFailure {
                error: NavigatorError::rejected("deepl is throttling", retry_after),
                fail_over: true,
            });
        }
        if status.is_server_error() {
            return Err(ProviderFailure::unhealthy(NAME, format!("HTTP {status}")));
        }
        if !status.is_success() {
            return Err(ProviderFailure {
                error: NavigatorError::invalid(format!("deepl refused the text (HTTP {status})")),
                fail_over: false,
            });
        }
        let parsed: Response = response
            .json()
            .await
            .map_err(|e| ProviderFailure::unhealthy(NAME, format!("malformed response: {}", e.without_url())))?;
        parsed
            .translations
            .into_iter()
            .next()
            .map(|t| t.text)
            .ok_or_else(|| ProviderFailure::unhealthy(NAME, "a response without translations"))
    }
}

impl Provider for DeepL {
    fn name(&self) -> &'static str {
        NAME
    }

    fn supports(&self, source: &str, target: &str) -> bool {
        // DeepL has no Tagalog or Vietnamese.
        let known = |language: &str| ["en", "es", "zh", "ko", "ru"].contains(&language);
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
            match deadline.run(self.call(html, source, target)).await {
                Ok(result) => result,
                Err(_) => Err(ProviderFailure {
                    error: NavigatorError::timeout("deepl"),
                    fail_over: true,
                }),
            }
        })
    }
}
