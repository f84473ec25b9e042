//! `navigator translate [--from auto] --to es [--json] "<text>"`: one translation through the configured providers
//! (the offline glossary without `TRANSLATE_PROVIDERS`: Spanish into English only).

use navigator_platform::config::Settings;
use navigator_platform::contracts::TranslateInput;
use navigator_platform::envelope::ValidInput;
use navigator_platform::secrets::SecretStore;
use navigator_resilience::Deadline;
use translate::Translate;

pub async fn run(from: &str, to: &str, json: bool, text: &str) -> Result<(), String> {
    let Settings { budgets, providers } = Settings::from_env().map_err(|e| e.to_string())?;
    let input = TranslateInput {
        text: text.to_string(),
        source_lang: from.to_string(),
        target_lang: to.to_string(),
    };
    input.validate().map_err(|e| e.public_message())?;
    let tool = Translate::from_config(&budgets.translate, &providers.translate, &SecretStore::from_env())
        .await
        .map_err(|e| e.to_string())?;
    let output = tool
        .translate(&input, Deadline::after(budgets.translate.timeout))
        .await
        .map_err(|e| e.to_string())?;
    if json {
        println!("{}", serde_json::to_string_pretty(&output).map_err(|e| e.to_string())?);
    } else {
        println!("{}", output.text);
        println!(
            "{} → {} (detected with confidence {:.2}), provider {}, translated: {}",
            output.source_lang, output.target_lang, output.detected_confidence, output.provider, output.translated
        );
    }
    Ok(())
}
