//! The answer and its checks: compose (falling back to quoting when a composer fails), drop sentences whose figures
//! no source holds, and the output check (no one else's personal data, no internal text).

use navigator_resilience::Deadline;

use super::Navigator;
use super::ledger::Ledger;
use crate::agent;
use crate::chat::Degraded;
use crate::compose::extractive::ExtractiveComposer;
use crate::compose::grounding::drop_ungrounded;
use crate::compose::{ComposeContext, Composition};
use crate::evidence::Evidence;

impl Navigator {
    pub(super) async fn compose(
        &self,
        question: &str,
        evidence: &Evidence,
        sources: &[String],
        draft: Option<&str>,
        deadline: Deadline,
        ledger: &mut Ledger,
    ) -> Composition {
        let cx = ComposeContext {
            question,
            evidence,
            draft,
        };
        let composed = match deadline.run(self.composer.compose(cx, deadline)).await {
            Ok(Ok(composition)) => Some(composition),
            Ok(Err(error)) => {
                tracing::warn!(composer = self.composer.name(), error = %error, "composer failed; quoting instead");
                None
            }
            Err(_) => {
                tracing::warn!(
                    composer = self.composer.name(),
                    "composer ran out of time; quoting instead"
                );
                None
            }
        };
        let fallback = || ExtractiveComposer::default().compose_now(question, evidence);
        let Some(mut composition) = composed else {
            ledger.degrade(Degraded::Composer);
            return fallback();
        };
        let (grounded, dropped) = drop_ungrounded(&composition.answer, sources.iter().map(String::as_str));
        if dropped > 0 {
            tracing::warn!(
                composer = self.composer.name(),
                dropped,
                "dropped sentences stating figures no source holds"
            );
            metrics::counter!(navigator_metrics::ANSWER_UNGROUNDED_SENTENCES.name).increment(dropped as u64);
            if grounded.is_empty() {
                ledger.degrade(Degraded::Composer);
                return fallback();
            }
            composition.answer = grounded;
        }
        composition
    }
}

/// Texts the answer must never quote: the model's instructions.
const INTERNAL_TEXTS: &[&str] = &[agent::SYSTEM_PROMPT, agent::ANSWER_NOW];

/// Removes personal data that neither the member's question nor the sources hold, and any leak of internal text.
pub(super) fn output_check(mut composition: Composition, message: &str, sources: &[String]) -> Composition {
    let mut allowed: Vec<&str> = vec![message];
    allowed.extend(sources.iter().map(String::as_str));
    let checked = navigator_pii::output::check(&composition.answer, &allowed, INTERNAL_TEXTS);
    if checked.personal_values_removed + checked.leaked_sentences_removed > 0 {
        tracing::warn!(
            personal_values = checked.personal_values_removed,
            leaked_sentences = checked.leaked_sentences_removed,
            "output check removed text from the answer"
        );
        metrics::counter!(navigator_metrics::OUTPUT_CHECK_REMOVED.name)
            .increment((checked.personal_values_removed + checked.leaked_sentences_removed) as u64);
        composition.answer = checked.text;
    }
    composition
}

/// Every text a figure in the answer may come from.
pub(super) fn source_texts(evidence: &Evidence) -> Vec<String> {
    let mut texts: Vec<String> = evidence.chunks().into_iter().map(|chunk| chunk.text.clone()).collect();
    texts.extend(
        evidence
            .web_results()
            .into_iter()
            .map(|result| format!("{} {}", result.title, result.snippet)),
    );
    texts
}
