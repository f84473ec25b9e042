//! Translation in and out: the question into English for search and composition, the answer back into the
//! member's language. Neither failure stops the turn: the question goes on untranslated, the answer stays in
//! English with a note, and `translation` is named in `degraded`. An English question is never translated.

use navigator_platform::contracts::{ToolName, TranslateInput};
use navigator_resilience::Deadline;

use super::Navigator;
use super::ledger::Ledger;
use crate::chat::Degraded;
use crate::compose::Composition;
use crate::tools::CallContext;

/// Said when the answer could not be put in the member's language.
pub(super) const UNTRANSLATED_NOTE: &str =
    "(We could not translate this answer into your language, so it is in English.)";

impl Navigator {
    /// The question in English, the member's language, and whether that English is new to the guard. On failure the
    /// question goes on untranslated.
    pub(super) async fn translate_in(
        &self,
        cx: &CallContext,
        message: &str,
        requested: Option<&str>,
        deadline: Deadline,
        ledger: &mut Ledger,
    ) -> (String, String, bool) {
        if requested == Some("en") {
            return (message.to_string(), "en".into(), false);
        }
        if !self.tools.provides(ToolName::Translate) {
            if requested.is_some() {
                ledger.degrade(Degraded::Translation);
            }
            return (message.to_string(), requested.unwrap_or("en").to_string(), false);
        }
        let input = TranslateInput {
            text: message.to_string(),
            source_lang: requested.unwrap_or("auto").to_string(),
            target_lang: "en".into(),
        };
        match self.tools.translate(cx, input, deadline).await {
            Ok(output) => {
                let language = requested.unwrap_or(&output.source_lang).to_string();
                // A question the translator found written in English needs no translation, whatever the member's
                // language; the answer still goes out in theirs.
                let written_in_english = output.source_lang == "en";
                if language != "en" && !output.translated && !written_in_english {
                    ledger.degrade(Degraded::Translation);
                }
                // The guard reads a Spanish message's term-by-term rendering itself, at a threshold chosen for it
                // (guard `classifier::english_windows`); read again as a plain English message, it would be held to
                // the lower one of text written in English.
                let new_to_the_guard =
                    output.translated && output.provider != navigator_platform::contracts::TERM_BY_TERM_PROVIDER;
                let question = if output.translated {
                    output.text
                } else {
                    message.to_string()
                };
                (question, language, new_to_the_guard)
            }
            Err(error) => {
                tracing::warn!(error = %error, "translation of the question failed; going on untranslated");
                ledger.degrade(Degraded::Translation);
                (message.to_string(), requested.unwrap_or("en").to_string(), false)
            }
        }
    }

    pub(super) async fn translate_out(
        &self,
        cx: &CallContext,
        mut composition: Composition,
        language: &str,
        deadline: Deadline,
        ledger: &mut Ledger,
    ) -> Composition {
        if self.tools.provides(ToolName::Translate) {
            let input = TranslateInput {
                text: composition.answer.clone(),
                source_lang: "en".into(),
                target_lang: language.to_string(),
            };
            match self.tools.translate(cx, input, deadline).await {
                Ok(output) if output.translated => {
                    composition.answer = output.text;
                    return composition;
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(error = %error, "translation of the answer failed"),
            }
        }
        ledger.degrade(Degraded::Translation);
        composition.answer = format!("{}\n\n{UNTRANSLATED_NOTE}", composition.answer);
        composition
    }
}
